"""Self-registration by SMS (DESIGN.md §4.3): who may register, and the account it creates.

A person may register when the names and mobile number typed match a registry guardian who is
the legal guardian of an enrolled pupil. The account covers every registry record with the same
folded names and the same mobile (automatic grouping: the same parent known to two schools).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState, ActivationRoute
from idp.accounts.service import NewAccount, create_account
from idp.registry.identifiers import names_match
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus
from idp.state import AppState


def matching_guardians(
    db: Session, given_name: str, family_name: str, mobile: str
) -> list[Guardian]:
    """Registry guardians with this mobile and these names, legal guardians of an enrolled pupil."""
    legal_of_enrolled = exists().where(
        Guardianship.guardian_id == Guardian.id,
        Guardianship.legal_guardian_rank.is_not(None),
        Guardianship.pupil_id == Pupil.id,
        Pupil.status == PupilStatus.enrolled,
    )
    candidates = db.scalars(
        select(Guardian)
        .where(Guardian.mobile == mobile, legal_of_enrolled)
        .order_by(Guardian.created_at, Guardian.id)
    )
    found = [
        g
        for g in candidates
        if names_match(g.given_name, given_name) and names_match(g.family_name, family_name)
    ]
    # The record spelt exactly as typed comes first: the account takes its names.
    return sorted(
        found,
        key=lambda g: (
            g.given_name.strip() != given_name.strip(),
            g.family_name.strip() != family_name.strip(),
        ),
    )


def has_account(db: Session, guardian_ids: list[str]) -> bool:
    return (
        bool(guardian_ids)
        and db.scalar(select(exists().where(AccountGuardian.guardian_id.in_(guardian_ids)))) is True
    )


def register(
    state: AppState, db: Session, guardians: list[Guardian], mobile: str, password_hash: str
) -> Account:
    """The active account linked to every record in ``guardians`` (none may have one yet)."""
    first = guardians[0]
    new = NewAccount(
        kind=AccountKind.guardian,
        state=AccountState.active,
        given_name=first.given_name,
        family_name=first.family_name,
        password_hash=password_hash,
        guardian_ids=[g.id for g in guardians],
        phone_number=mobile,
        phone_number_verified=True,
        activation_route=ActivationRoute.sms,
    )
    account = create_account(db, state.clock.now(), new)
    db.flush()
    state.audit.record(
        db,
        "account.registered",
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
        detail={"route": "sms", "guardians": len(guardians)},
    )
    return account
