"""Steps an account must go through after its password was accepted and before reaching any
service: activation of a notified account, a forced password change after an incident."""

from __future__ import annotations

from idp.accounts.models import Account, AccountState


def required_step(account: Account) -> str | None:
    """The path of the page the person must complete first, if any."""
    if account.state == AccountState.notified:
        return "/activation"
    if account.force_password_change:
        return "/mot-de-passe/renouveler"
    return None
