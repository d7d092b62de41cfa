"""Creating accounts: the one place where an ``Account`` row is born.

Every route to an account goes through ``create_account``: credentials issued by a school
(``notified``), self-registration by SMS and FranceConnect (``active``), staff accounts, the
demo. It sets what each state implies (activation and notification dates), allocates a free
identifier when none is given (race-safe), and links the registry records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from idp.accounts.identifiers import add_with_username
from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState, ActivationRoute
from idp.db import new_id

#: How long a notification letter's temporary password stays valid (domain facts: 3 months).
NOTIFICATION_VALIDITY = timedelta(days=92)


@dataclass(frozen=True)
class NewAccount:
    kind: AccountKind
    state: AccountState
    given_name: str
    family_name: str
    password_hash: str | None = None
    #: ``None``: a free identifier is made from the names.
    username: str | None = None
    pupil_id: str | None = None
    guardian_ids: Sequence[str] = ()
    email: str | None = None
    email_verified: bool = False
    phone_number: str | None = None
    phone_number_verified: bool = False
    activation_route: ActivationRoute | None = None
    roles: list[dict] | None = None
    force_password_change: bool = False
    extra: dict = field(default_factory=dict)


def create_account(db: Session, now: datetime, new: NewAccount) -> Account:
    """Add the account (its id is set at once) and its links to registry guardians."""
    active = new.state == AccountState.active
    notified = new.state == AccountState.notified
    account = Account(
        id=new_id(),
        kind=new.kind,
        state=new.state,
        username=new.username or "",
        password_hash=new.password_hash,
        given_name=new.given_name,
        family_name=new.family_name,
        pupil_id=new.pupil_id,
        email=new.email,
        email_verified=new.email_verified,
        phone_number=new.phone_number,
        phone_number_verified=new.phone_number_verified,
        activation_route=new.activation_route,
        roles=new.roles,
        force_password_change=new.force_password_change,
        failed_logins=0,
        created_at=now,
        updated_at=now,
        activated_at=now if active else None,
        password_changed_at=now if active and new.password_hash else None,
        notified_at=now if notified else None,
        notification_expires_at=now + NOTIFICATION_VALIDITY if notified else None,
        **new.extra,
    )
    if new.username:
        db.add(account)  # flushed with the caller's next statement (bulk issuing adds many)
    else:
        add_with_username(db, account)
    for guardian_id in new.guardian_ids:
        db.add(AccountGuardian(account_id=account.id, guardian_id=guardian_id, linked_at=now))
    return account
