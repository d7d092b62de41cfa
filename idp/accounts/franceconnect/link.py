"""Linking a FranceConnect identity to a guardian account (DESIGN.md §4.4).

The first FranceConnect login of a guardian ends here once the registry records are chosen
(names, then the children's birth dates) and the registry mobile has been proved by SMS:

* the records already belong to an account → the FranceConnect subject is linked to it (a letter
  account nobody activated is activated on the way, its temporary password dropped);
* otherwise → a new account: guardian, no password, ``active``, activation route
  ``franceconnect``, the verified mobile, FranceConnect's e-mail (verified only when a school
  holds the same address);

then every other record of the same person is grouped (``auto_group``). Later logins find the
``FederatedIdentity`` and go straight in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.connector import FranceConnectIdentity
from idp.accounts.grouping.service import auto_group
from idp.accounts.login.authentication import DISABLED
from idp.accounts.models import (
    Account,
    AccountGuardian,
    AccountKind,
    AccountState,
    ActivationRoute,
    FederatedIdentity,
)
from idp.accounts.service import NewAccount, create_account
from idp.i18n import _
from idp.registry.models import Guardian
from idp.state import AppState

PROVIDER = "franceconnect"


class LinkRefused(Exception):
    """The identity cannot be linked; the message is French, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PendingLink:
    """A verified FranceConnect identity waiting to be linked (kept in a sealed cookie)."""

    sub: str
    given_name: str
    family_name: str
    email: str | None
    id_token: str
    auth: str | None
    candidates: list[str]
    #: Records whose children's birth dates were confirmed, and the code sent for them.
    selected: list[str] = field(default_factory=list)
    challenge: str | None = None
    mobile: str | None = None

    @classmethod
    def start(
        cls, identity: FranceConnectIdentity, candidates: list[Guardian], auth: str | None
    ) -> PendingLink:
        return cls(
            sub=identity.sub,
            given_name=identity.given_name or "",
            family_name=identity.family_name or "",
            email=identity.email,
            id_token=identity.id_token,
            auth=auth,
            candidates=[g.id for g in candidates],
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PendingLink | None:
        if not data:
            return None
        try:
            return cls(**data)
        except TypeError:
            return None


def linked_account(db: Session, subject: str) -> Account | None:
    """The account a FranceConnect subject leads to, following merges (grouping)."""
    account = db.scalar(
        select(Account)
        .join(FederatedIdentity, FederatedIdentity.account_id == Account.id)
        .where(FederatedIdentity.provider == PROVIDER, FederatedIdentity.subject == subject)
    )
    for _hop in range(5):  # a merged account points to the one kept; chains are short
        if account is None or account.merged_into_id is None:
            break
        account = db.get(Account, account.merged_into_id)
    return account


def admit(state: AppState, db: Session, account: Account, subject: str) -> None:
    """Checks and bookkeeping of a FranceConnect login into ``account``."""
    if account.state in (AccountState.disabled, AccountState.retired):
        raise LinkRefused(DISABLED)
    now = state.clock.now()
    if account.state in (AccountState.notified, AccountState.expired):
        _activate(state, account)
    if account.state == AccountState.locked:
        # The lock guards the password; FranceConnect proved who this is without it.
        account.state = AccountState.active
        account.failed_logins = 0
        account.locked_until = None
    account.last_login_at = now
    identity = db.scalar(
        select(FederatedIdentity).where(
            FederatedIdentity.provider == PROVIDER, FederatedIdentity.subject == subject
        )
    )
    if identity is not None:
        identity.last_login_at = now


def complete_link(state: AppState, db: Session, link: PendingLink, mobile: str) -> Account:
    """Link ``link.sub`` to the account of the selected records (created if need be)."""
    existing = linked_account(db, link.sub)
    if existing is not None:  # linked meanwhile, e.g. in another tab
        admit(state, db, existing, link.sub)
        return existing
    guardians = list(
        db.scalars(select(Guardian).where(Guardian.id.in_(link.selected)).order_by(Guardian.id))
    )
    if not guardians:
        raise LinkRefused(_("Le dossier de l'école n'a pas été retrouvé. Veuillez recommencer."))
    account = _owner(db, guardians) or _create(state, db, guardians[0])
    admit(state, db, account, link.sub)
    now = state.clock.now()
    owned = set(
        db.scalars(
            select(AccountGuardian.guardian_id).where(
                AccountGuardian.guardian_id.in_(link.selected)
            )
        )
    )
    for guardian in guardians:
        if guardian.id not in owned:
            db.add(AccountGuardian(account_id=account.id, guardian_id=guardian.id, linked_at=now))
    if account.phone_number in (None, mobile) or not account.phone_number_verified:
        account.phone_number = mobile
        account.phone_number_verified = True
    _take_email(account, link.email, guardians)
    account.updated_at = now
    db.add(
        FederatedIdentity(
            account_id=account.id,
            provider=PROVIDER,
            subject=link.sub,
            linked_at=now,
            last_login_at=now,
        )
    )
    db.flush()
    grouped = auto_group(state, db, account)
    state.audit.record(
        db,
        "franceconnect.linked",
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
        detail={"guardians": [g.id for g in guardians], "grouped": grouped},
    )
    return account


def _owner(db: Session, guardians: list[Guardian]) -> Account | None:
    """The account already holding these records: an activated one first."""
    accounts = list(
        db.scalars(
            select(Account)
            .join(AccountGuardian, AccountGuardian.account_id == Account.id)
            .where(AccountGuardian.guardian_id.in_([g.id for g in guardians]))
            .order_by(Account.created_at)
        ).unique()
    )
    for account in accounts:
        if account.state == AccountState.disabled:
            raise LinkRefused(DISABLED)
    usable = [a for a in accounts if a.state != AccountState.retired]
    usable.sort(key=lambda a: a.activated_at is None)
    return usable[0] if usable else None


def _create(state: AppState, db: Session, guardian: Guardian) -> Account:
    """A new guardian account without a password; ``complete_link`` links the records."""
    new = NewAccount(
        kind=AccountKind.guardian,
        state=AccountState.active,
        # The names the schools use, so the account reads like its records (and groups by them).
        given_name=guardian.given_name,
        family_name=guardian.family_name,
        activation_route=ActivationRoute.franceconnect,
    )
    return create_account(db, state.clock.now(), new)


def _activate(state: AppState, account: Account) -> None:
    """A letter account activated through FranceConnect: the letter's password stops working."""
    now = state.clock.now()
    account.state = AccountState.active
    account.activation_route = ActivationRoute.franceconnect
    account.activated_at = now
    account.password_hash = None
    account.force_password_change = False


def _take_email(account: Account, email: str | None, guardians: list[Guardian]) -> None:
    if not email or (account.email and account.email_verified):
        return
    known = {g.email.lower() for g in guardians if g.email}
    account.email = email
    # FranceConnect's address is the person's, but only a school-held one counts as verified.
    account.email_verified = email.lower() in known
