"""Finding the people of one's schools: search, one person with their account, their history.

The registry holds the people (pupils, guardians); an account may or may not exist for each
(``not_created``). Every query is limited by ``Staff.schools_condition`` and every single
person is loaded through ``pupil_in_scope`` / ``guardian_in_scope``, which return ``None`` for
anyone outside the staff member's schools: the pages and the API then answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, and_, case, exists, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.admin.roles import Action, Staff
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


def effective_state(now: datetime):
    return case(
        (Account.id.is_(None), literal("not_created")),
        (
            and_(Account.state == AccountState.notified, Account.notification_expires_at <= now),
            literal("expired"),
        ),
        else_=type_coerce(Account.state, String()),
    )


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


def _live(condition):
    return and_(condition, Account.state != AccountState.retired)


def _name_filter(q: str, given, family):
    words = [w for w in q.replace(",", " ").split() if w]
    return and_(*[or_(given.ilike(f"%{w}%"), family.ilike(f"%{w}%")) for w in words])


def _common(query, f: Filters, now: datetime, email_column):
    state = effective_state(now)
    if f.state in STATES:
        query = query.where(state == f.state)
    if f.route in ROUTES:
        query = query.where(type_coerce(Account.activation_route, String()) == f.route)
    if f.email.strip():
        query = query.where(email_column.ilike(f"%{f.email.strip()}%"))
    return query, state


def search(db: Session, staff: Staff, f: Filters, now: datetime) -> Page:
    if f.kind == AccountKind.guardian:
        return _search_guardians(db, staff, f, now)
    return _search_pupils(db, staff, f, now)


def _page(db: Session, query, f: Filters, order) -> tuple[list, int, int]:
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    rows = db.execute(query.order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return rows, total, page


def _search_pupils(db: Session, staff: Staff, f: Filters, now: datetime) -> Page:
    query = (
        select(Pupil, Account)
        .outerjoin(Account, _live(Account.pupil_id == Pupil.id))
        .where(
            staff.schools_condition(Action.read, Pupil.school_uai, AccountKind.pupil),
            Pupil.status == PupilStatus.enrolled,
        )
    )
    if f.q.strip():
        query = query.where(_name_filter(f.q, Pupil.given_name, Pupil.family_name))
    if f.school:
        query = query.where(Pupil.school_uai == f.school)
    if f.level:
        query = query.where(Pupil.level == f.level)
    if f.class_name:
        query = query.where(Pupil.class_name == f.class_name)
    query, state = _common(query, f, now, Account.email)
    query = query.add_columns(state)
    rows, total, page = _page(db, query, f, (Pupil.family_name, Pupil.given_name, Pupil.id))
    people = [
        Person(
            AccountKind.pupil, p.id, p.given_name, p.family_name, p.school_uai, st,
            a.email if a else None, a.activation_route.value if a and a.activation_route else None,
            a.id if a else None, p.level, p.class_name,
        )
        for p, a, st in rows
    ]  # fmt: skip
    return Page(people, total, page, max(1, -(-total // PAGE_SIZE)))


def _children_condition(staff: Staff, f: Filters):
    """Guardians with an enrolled child in scope (and in the school / class asked for)."""
    conditions = [
        Guardianship.guardian_id == Guardian.id,
        Guardianship.legal_guardian_rank.is_not(None),
        Pupil.status == PupilStatus.enrolled,
        staff.schools_condition(Action.read, Pupil.school_uai, AccountKind.guardian),
    ]
    if f.school:
        conditions.append(Pupil.school_uai == f.school)
    if f.level:
        conditions.append(Pupil.level == f.level)
    if f.class_name:
        conditions.append(Pupil.class_name == f.class_name)
    return exists(select(Guardianship.id).join(Pupil, Pupil.id == Guardianship.pupil_id).where(*conditions))


def _search_guardians(db: Session, staff: Staff, f: Filters, now: datetime) -> Page:
    query = (
        select(Guardian, Account)
        .outerjoin(AccountGuardian, AccountGuardian.guardian_id == Guardian.id)
        .outerjoin(Account, _live(Account.id == AccountGuardian.account_id))
        .where(_children_condition(staff, f))
    )
    if f.q.strip():
        query = query.where(_name_filter(f.q, Guardian.given_name, Guardian.family_name))
    query, state = _common(query, f, now, func.coalesce(Account.email, Guardian.email))
    query = query.add_columns(state)
    rows, total, page = _page(db, query, f, (Guardian.family_name, Guardian.given_name, Guardian.id))
    children = children_of(db, staff, [g.id for g, _, _ in rows], Action.read)
    people = [
        Person(
            AccountKind.guardian, g.id, g.given_name, g.family_name, None, st,
            (a.email if a and a.email else g.email),
            a.activation_route.value if a and a.activation_route else None,
            a.id if a else None, children=children.get(g.id, []),
        )
        for g, a, st in rows
    ]  # fmt: skip
    return Page(people, total, page, max(1, -(-total // PAGE_SIZE)))


def children_of(db: Session, staff: Staff, guardian_ids: list[str], action: Action) -> dict[str, list[Child]]:
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
def person_of(kind: AccountKind, person: Pupil | Guardian, account: Account | None, state: str, children: list[Child]) -> Person:
    route = account.activation_route.value if account and account.activation_route else None
    email = account.email if account and account.email else getattr(person, "email", None)
    if isinstance(person, Pupil):
        return Person(kind, person.id, person.given_name, person.family_name, person.school_uai, state, email, route,
                      account.id if account else None, person.level, person.class_name)  # fmt: skip
    return Person(kind, person.id, person.given_name, person.family_name, None, state, email, route,
                  account.id if account else None, children=children)  # fmt: skip



def pupil_in_scope(db: Session, staff: Staff, pupil_id: str, action: Action) -> Pupil | None:
    pupil = db.get(Pupil, pupil_id)
    if pupil is None:
        return None
    school = db.get(School, pupil.school_uai)
    academy = school.academy if school else None
    return pupil if staff.allows(action, pupil.school_uai, academy, AccountKind.pupil) else None


def guardian_in_scope(db: Session, staff: Staff, guardian_id: str, action: Action) -> Guardian | None:
    guardian = db.get(Guardian, guardian_id)
    if guardian is None:
        return None
    return guardian if children_of(db, staff, [guardian_id], action) else None


def pupil_account(db: Session, pupil_id: str) -> Account | None:
    return db.scalar(select(Account).where(_live(Account.pupil_id == pupil_id)))


def guardian_account(db: Session, guardian_id: str) -> Account | None:
    return db.scalar(
        select(Account)
        .join(AccountGuardian, AccountGuardian.account_id == Account.id)
        .where(AccountGuardian.guardian_id == guardian_id, Account.state != AccountState.retired)
    )


def history(db: Session, account_id: str | None, person_id: str, limit: int = 50) -> list[AuditEvent]:
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
    return list(db.scalars(select(School).where(staff.schools_condition(action, School.uai)).order_by(School.name)))
