"""Searching the people of one's schools: pupils or guardians, by name, school, class, account
state, e-mail and activation route, 50 a page. Every query is limited in SQL by
``Staff.schools_condition``; names match word by word, in any order, case-insensitively."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountKind
from idp.admin.people.records import (
    PAGE_SIZE,
    ROUTES,
    STATES,
    Filters,
    Page,
    Person,
    children_of,
)
from idp.admin.roles import Action, Staff
from idp.admin.stats.figures import effective_state, live_account
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus


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
        .outerjoin(Account, live_account(Account.pupil_id == Pupil.id))
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
            AccountKind.pupil,
            p.id,
            p.given_name,
            p.family_name,
            p.school_uai,
            st,
            a.email if a else None,
            a.activation_route.value if a and a.activation_route else None,
            a.id if a else None,
            p.level,
            p.class_name,
        )
        for p, a, st in rows
    ]
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
    return exists(
        select(Guardianship.id).join(Pupil, Pupil.id == Guardianship.pupil_id).where(*conditions)
    )


def _search_guardians(db: Session, staff: Staff, f: Filters, now: datetime) -> Page:
    query = (
        select(Guardian, Account)
        .outerjoin(AccountGuardian, AccountGuardian.guardian_id == Guardian.id)
        .outerjoin(Account, live_account(Account.id == AccountGuardian.account_id))
        .where(_children_condition(staff, f))
    )
    if f.q.strip():
        query = query.where(_name_filter(f.q, Guardian.given_name, Guardian.family_name))
    query, state = _common(query, f, now, func.coalesce(Account.email, Guardian.email))
    query = query.add_columns(state)
    rows, total, page = _page(
        db, query, f, (Guardian.family_name, Guardian.given_name, Guardian.id)
    )
    children = children_of(db, staff, [g.id for g, _, _ in rows], Action.read)
    people = [
        Person(
            AccountKind.guardian,
            g.id,
            g.given_name,
            g.family_name,
            None,
            st,
            (a.email if a and a.email else g.email),
            a.activation_route.value if a and a.activation_route else None,
            a.id if a else None,
            children=children.get(g.id, []),
        )
        for g, a, st in rows
    ]
    return Page(people, total, page, max(1, -(-total // PAGE_SIZE)))
