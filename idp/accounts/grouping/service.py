"""Grouping children under one guardian account (DESIGN.md §4.5; domain-facts §2.8).

A family's children may sit in several schools, each with its own registry record of the same
parent. One account covers them all by linking every record (``AccountGuardian``):

* automatically (``auto_group``), when a record is clearly the same person: same names (folded
  with ``normalize_name``) and the same mobile number or e-mail address as the account, *verified*
  — an unverified contact proves nothing;
* by hand (``merge_accounts``), when the person proves control of the other account (its
  identifier and temporary or current password, checked by the caller through the throttled
  ``check_password``). The other account is retired (``merged_into_id``), its sessions and grants
  revoked.

A record already held by an account someone activated is never taken automatically; one held by
a letter account nobody used (``notified``/``expired``, never activated) is, and that account is
retired once it holds nothing.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import (
    Account,
    AccountGuardian,
    AccountKind,
    AccountState,
    FederatedIdentity,
)
from idp.i18n import _
from idp.oidc.logout import end_session
from idp.registry.identifiers import normalize_name
from idp.registry.models import Guardian
from idp.state import AppState

SAME_ACCOUNT = _(
    "Vous êtes déjà connecté avec ce compte : saisissez l'identifiant de l'autre compte."
)
NOT_A_GUARDIAN = _("Ce compte n'est pas un compte de représentant légal.")
DIFFERENT_NAMES = _(
    "Les nom et prénom des deux comptes doivent être identiques. Si l'un d'eux est mal "
    "orthographié, demandez à l'école ou à l'établissement de le corriger."
)

NameKey = tuple[str, str]


def name_key(given_name: str, family_name: str) -> NameKey:
    return normalize_name(family_name), normalize_name(given_name)


def name_keys(db: Session, account: Account) -> set[NameKey]:
    """The names an account goes by: its own and those of its registry records."""
    keys = {name_key(account.given_name, account.family_name)}
    rows = db.execute(
        select(Guardian.given_name, Guardian.family_name)
        .join(AccountGuardian, AccountGuardian.guardian_id == Guardian.id)
        .where(AccountGuardian.account_id == account.id)
    )
    keys.update(name_key(given, family) for given, family in rows)
    return {key for key in keys if all(key)}


def auto_group(state: AppState, db: Session, account: Account) -> list[str]:
    """Link every registry record that is clearly this guardian; return the new guardian ids.

    Call it when an account is created or activated, and whenever a mobile number or e-mail
    address gets verified. Flushes only: the caller's unit of work commits.
    """
    if account.kind != AccountKind.guardian or account.state == AccountState.retired:
        return []
    contacts = []
    if account.phone_number and account.phone_number_verified:
        contacts.append(Guardian.mobile == account.phone_number)
    if account.email and account.email_verified:
        # Addresses are compared without case: schools type them as parents spell them.
        contacts.append(func.lower(Guardian.email) == account.email.strip().lower())
    if not contacts:
        return []
    keys = name_keys(db, account)
    candidates = [
        g
        for g in db.scalars(select(Guardian).where(or_(*contacts)).order_by(Guardian.id))
        if name_key(g.given_name, g.family_name) in keys
    ]
    owners = dict(
        db.execute(
            select(AccountGuardian.guardian_id, AccountGuardian.account_id).where(
                AccountGuardian.guardian_id.in_([g.id for g in candidates])
            )
        ).all()
    )
    now = state.clock.now()
    added: list[str] = []
    emptied: dict[str, Account] = {}
    for guardian in candidates:
        owner_id = owners.get(guardian.id)
        if owner_id == account.id:
            continue
        if owner_id is None:
            db.add(AccountGuardian(account_id=account.id, guardian_id=guardian.id, linked_at=now))
        else:
            owner = db.get(Account, owner_id)
            if owner is None or not _never_used(owner):
                continue
            _move_links(db, AccountGuardian.guardian_id == guardian.id, account.id, now)
            emptied[owner.id] = owner
        added.append(guardian.id)
    db.flush()
    for owner in emptied.values():
        if (
            db.scalar(
                select(AccountGuardian.guardian_id)
                .where(AccountGuardian.account_id == owner.id)
                .limit(1)
            )
            is None
        ):
            retire_into(state, db, owner, account, "grouped")
    if added:
        state.audit.record(
            db,
            "grouping.automatic",
            actor_account_id=account.id,
            target_type="account",
            target_id=account.id,
            detail={"guardians": added, "retired": sorted(emptied)},
        )
        db.expire(account, ["guardian_links"])
    return added


def merge_problem(db: Session, into: Account, other: Account) -> str | None:
    """Why ``other`` cannot be merged into ``into`` (a French sentence), or None."""
    if other.id == into.id:
        return SAME_ACCOUNT
    if other.kind != AccountKind.guardian or into.kind != AccountKind.guardian:
        return NOT_A_GUARDIAN
    if not name_keys(db, into) & name_keys(db, other):
        return DIFFERENT_NAMES
    return None


def merge_accounts(
    state: AppState, db: Session, into: Account, other: Account, ip: str | None = None
) -> list[str]:
    """Move ``other``'s registry records (and FranceConnect links) to ``into`` and retire it.

    The caller has checked control of ``other`` and ``merge_problem``. Returns the moved guardian
    ids. Flushes only.
    """
    moved = list(
        db.scalars(
            select(AccountGuardian.guardian_id).where(AccountGuardian.account_id == other.id)
        )
    )
    _move_links(db, AccountGuardian.account_id == other.id, into.id, state.clock.now())
    retire_into(state, db, other, into, "merged")
    state.audit.record(
        db,
        "grouping.manual",
        actor_account_id=into.id,
        target_type="account",
        target_id=other.id,
        ip=ip,
        detail={"guardians": moved},
    )
    db.expire(into, ["guardian_links"])
    return moved


def retire_into(state: AppState, db: Session, other: Account, into: Account, reason: str) -> None:
    """Retire ``other`` in favour of ``into``: nothing issued to it stays usable."""
    other.state = AccountState.retired
    other.merged_into_id = into.id
    other.updated_at = state.clock.now()
    # The same person's FranceConnect identity now leads to the account they kept.
    db.execute(
        update(FederatedIdentity)
        .where(FederatedIdentity.account_id == other.id)
        .values(account_id=into.id)
        .execution_options(synchronize_session=False)
    )
    state.tokens.revoke_account(db, other.id, reason)
    for session in state.stores.sessions.for_account(db, other.id):
        end_session(state, db, session)
    db.expire(other, ["guardian_links"])


def _never_used(account: Account) -> bool:
    """A letter account nobody activated: its records may move to the person's real account."""
    return (
        account.kind == AccountKind.guardian
        and account.state in (AccountState.notified, AccountState.expired)
        and account.activated_at is None
    )


def _move_links(db: Session, where, account_id: str, now) -> None:
    db.execute(
        update(AccountGuardian)
        .where(where)
        .values(account_id=account_id, linked_at=now)
        .execution_options(synchronize_session=False)
    )
