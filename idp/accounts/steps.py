"""Steps an account must go through after its password was accepted and before reaching any
service: activation of a notified account, a forced password change after an incident, and for
staff the second factor of this very session."""

from __future__ import annotations

from idp.accounts.models import Account, AccountKind, AccountState
from idp.security.stores import SessionData

#: Staff accounts confirm every login with a TOTP code (``idp.accounts.login.second_factor``).
STAFF_SECOND_FACTOR = "/connexion/double-authentification"
#: ``amr`` value of a session whose second factor was checked (RFC 8176 §2).
SECOND_FACTOR_AMR = "otp"


def required_step(account: Account, session: SessionData | None = None) -> str | None:
    """The path of the page the person must complete first, if any.

    Pass the session whenever there is one: a staff session without its second factor goes
    to the TOTP page, and without a session to look at staff are always sent there."""
    if account.kind == AccountKind.staff:
        if session is None or SECOND_FACTOR_AMR not in session.amr:
            return STAFF_SECOND_FACTOR
        return None
    if account.state == AccountState.notified:
        return "/activation"
    if account.force_password_change:
        return "/mot-de-passe/renouveler"
    return None
