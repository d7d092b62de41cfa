"""Finding accounts for recovery and applying a new password (DESIGN.md §4.6).

Where messages go: the verified mobile, the verified e-mail address, or for guardians the mobile
the school gave (the registry's, which self-registration trusts too).
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from idp.accounts.login.authentication import normalise_username
from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.registry.models import Guardian
from idp.state import AppState

#: States whose owner may recover access (a notified account's letter has both identifiers).
RECOVERABLE = (AccountState.active, AccountState.locked)
IDENTIFIABLE = (*RECOVERABLE, AccountState.notified)


def accounts_for_contact(db: Session, contact: str) -> list[Account]:
    """Accounts a forgotten identifier may be sent for: by verified e-mail, verified mobile, or
    (guardians) the registry mobile."""
    if "@" in contact:
        where = (func.lower(Account.email) == contact.lower()) & Account.email_verified.is_(True)
    else:
        registry = (
            select(AccountGuardian.account_id)
            .join(Guardian, Guardian.id == AccountGuardian.guardian_id)
            .where(Guardian.mobile == contact)
        )
        verified = (Account.phone_number == contact) & Account.phone_number_verified.is_(True)
        where = or_(verified, Account.id.in_(registry))
    return list(
        db.scalars(
            select(Account).where(where, Account.state.in_(IDENTIFIABLE)).order_by(Account.username)
        )
    )


def recoverable_account(db: Session, username: str) -> Account | None:
    account = db.scalar(select(Account).where(Account.username == normalise_username(username)))
    if account is None or account.state not in RECOVERABLE or account.kind == AccountKind.staff:
        return None
    return account


def reset_destination(db: Session, account: Account) -> tuple[str, str] | None:
    """``("sms", number)`` or ``("email", address)`` for a password reset, ``None`` if nowhere."""
    if account.phone_number and account.phone_number_verified:
        return "sms", account.phone_number
    if account.email and account.email_verified:
        return "email", account.email
    if account.kind == AccountKind.guardian:
        mobile = db.scalar(
            select(Guardian.mobile)
            .join(AccountGuardian, AccountGuardian.guardian_id == Guardian.id)
            .where(AccountGuardian.account_id == account.id, Guardian.mobile.is_not(None))
            .order_by(Guardian.updated_at.desc())
        )
        if mobile:
            return "sms", mobile
    return None


def set_password(
    state: AppState,
    db: Session,
    account: Account,
    password_hash: str,
    *,
    reason: str,
    keep_sid: str | None = None,
) -> None:
    """Apply a new password; end the other sessions. A reset also revokes every grant."""
    from idp.accounts.journeys.common import end_sessions

    now = state.clock.now()
    account.password_hash = password_hash
    account.password_changed_at = now
    account.force_password_change = False
    account.updated_at = now
    if reason == "reset":
        account.failed_logins = 0
        account.locked_until = None
        if account.state == AccountState.locked:
            account.state = AccountState.active
        state.stores.throttle.reset(db, f"login:acct:{account.username}")
    end_sessions(state, db, account.id, keep_sid)
    if reason == "reset":
        state.tokens.revoke_account(db, account.id, "password_reset")
    state.audit.record(
        db,
        f"password.{reason}",
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
    )
