"""Finding the people of one's schools: search, one person with their account, their history.

The registry holds the people (pupils, guardians); an account may or may not exist for each
(``not_created``). Every query is limited by ``Staff.schools_condition`` and every single
person is loaded through ``pupil_in_scope`` / ``guardian_in_scope``, which return ``None`` for
anyone outside the staff member's schools: the pages and the API then answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.admin.roles import Action, Staff
from idp.admin.stats.figures import live_account
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus, School
from idp.security.models import AuditEvent

PAGE_SIZE = 50
STATES = ("not_created", "notified", "active", "locked", "disabled", "expired")
ROUTES = ("letter", "sms", "franceconnect")


@dataclass
class Filters:
    kind: AccountKind = AccountKind.pupil
    q: str = ""
    school: str = ""
    level: str = ""
    class_name: str = ""
    state: str = ""
    email: str = ""
    route: str = ""
    page: int = 1


@dataclass
class Child:
    id: str
    given_name: str
    family_name: str
    school_uai: str
    level: str | None
    class_name: str | None


@dataclass
class Person:
    kind: AccountKind
    id: str
    given_name: str
    family_name: str
    school_uai: str | None
    state: str
    email: str | None
    route: str | None
    account_id: str | None
    level: str | None = None
    class_name: str | None = None
    children: list[Child] = field(default_factory=list)


@dataclass
class Page:
    people: list[Person]
    total: int
    page: int
    pages: int


def state_of(account: Account | None, now: datetime) -> str:
    if account is None:
        return "not_created"
    if (
        account.state == AccountState.notified
        and account.notification_expires_at
        and account.notification_expires_at <= now
    ):
        return "expired"
    return account.state.value


def children_of(
    db: Session, staff: Staff, guardian_ids: list[str], action: Action
) -> dict[str, list[Child]]:
    """The enrolled children of these guardians, in the staff member's schools only."""
    if not guardian_ids:
        return {}
    rows = db.execute(
        select(Guardianship.guardian_id, Pupil)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(
            Guardianship.guardian_id.in_(guardian_ids),
            Guardianship.legal_guardian_rank.is_not(None),
            Pupil.status == PupilStatus.enrolled,
            staff.schools_condition(action, Pupil.school_uai, AccountKind.guardian),
        )
        .order_by(Pupil.family_name, Pupil.given_name)
    ).all()
    found: dict[str, list[Child]] = {}
    for guardian_id, p in rows:
        found.setdefault(guardian_id, []).append(
            Child(p.id, p.given_name, p.family_name, p.school_uai, p.level, p.class_name)
        )
    return found


# -- one person ----------------------------------------------------------------------------------
def person_of(
    kind: AccountKind,
    person: Pupil | Guardian,
    account: Account | None,
    state: str,
    children: list[Child],
) -> Person:
    route = account.activation_route.value if account and account.activation_route else None
    email = account.email if account and account.email else getattr(person, "email", None)
    if isinstance(person, Pupil):
        return Person(
            kind,
            person.id,
            person.given_name,
            person.family_name,
            person.school_uai,
            state,
            email,
            route,
            account.id if account else None,
            person.level,
            person.class_name,
        )
    return Person(
        kind,
        person.id,
        person.given_name,
        person.family_name,
        None,
        state,
        email,
        route,
        account.id if account else None,
        children=children,
    )


def pupil_in_scope(db: Session, staff: Staff, pupil_id: str, action: Action) -> Pupil | None:
    pupil = db.get(Pupil, pupil_id)
    if pupil is None:
        return None
    school = db.get(School, pupil.school_uai)
    academy = school.academy if school else None
    return pupil if staff.allows(action, pupil.school_uai, academy, AccountKind.pupil) else None


def guardian_in_scope(
    db: Session, staff: Staff, guardian_id: str, action: Action
) -> Guardian | None:
    guardian = db.get(Guardian, guardian_id)
    if guardian is None:
        return None
    return guardian if children_of(db, staff, [guardian_id], action) else None


def pupil_account(db: Session, pupil_id: str) -> Account | None:
    return db.scalar(select(Account).where(live_account(Account.pupil_id == pupil_id)))


def guardian_account(db: Session, guardian_id: str) -> Account | None:
    return db.scalar(
        select(Account)
        .join(AccountGuardian, AccountGuardian.account_id == Account.id)
        .where(AccountGuardian.guardian_id == guardian_id, Account.state != AccountState.retired)
    )


def history(
    db: Session, account_id: str | None, person_id: str, limit: int = 50
) -> list[AuditEvent]:
    targets = [person_id] + ([account_id] if account_id else [])
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_id.in_(targets))
            .order_by(AuditEvent.at.desc(), AuditEvent.id)
            .limit(limit)
        )
    )


def classes(db: Session, staff: Staff, kind: AccountKind, school: str) -> list[tuple[str, str]]:
    """``(level, class)`` of one of the staff member's schools, for the search form."""
    if not school:
        return []
    rows = db.execute(
        select(Pupil.level, Pupil.class_name)
        .where(
            Pupil.school_uai == school,
            staff.schools_condition(Action.read, Pupil.school_uai, kind),
            Pupil.status == PupilStatus.enrolled,
        )
        .distinct()
        .order_by(Pupil.level, Pupil.class_name)
    ).all()
    return [(lv or "", c or "") for lv, c in rows]


def guardians_of(db: Session, pupil_id: str) -> list[tuple[Guardian, int | None]]:
    """The pupil's guardians (legal rank, or ``None`` for a contact)."""
    rows = db.execute(
        select(Guardian, Guardianship.legal_guardian_rank)
        .join(Guardianship, Guardianship.guardian_id == Guardian.id)
        .where(Guardianship.pupil_id == pupil_id)
        .order_by(Guardianship.legal_guardian_rank, Guardian.family_name)
    ).all()
    return [(g, rank) for g, rank in rows]


def schools(db: Session, staff: Staff, action: Action = Action.read) -> list[School]:
    return list(
        db.scalars(
            select(School).where(staff.schools_condition(action, School.uai)).order_by(School.name)
        )
    )
