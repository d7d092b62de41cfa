"""Activation statistics: accounts not created / notified / active / expired, per school, level
and class, by activation route, and over time.

Everything is counted by the database (GROUP BY); Python only arranges the aggregated rows.
Pupils are the enrolled pupils of the school; guardians are legal guardians of those pupils,
counted once per school (and once per class of each of their children in the class rows).
A notified account whose letter has run out counts as expired even before the janitor moves it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountState
from idp.i18n import _
from idp.registry.models import Guardianship, Pupil, PupilStatus, School

STATES = ("not_created", "notified", "active", "expired", "locked", "disabled")
STATE_LABELS = {
    "not_created": _("Non créé"),
    "notified": _("Notifié"),
    "active": _("Activé"),
    "expired": _("Expiré"),
    "locked": _("Bloqué"),
    "disabled": _("Désactivé"),
}
ROUTES = ("letter", "sms", "franceconnect")
ROUTE_LABELS = {
    "letter": _("Courrier"),
    "sms": _("SMS"),
    "franceconnect": _("FranceConnect"),
    "none": _("Non renseigné"),
}
KINDS = ("pupil", "guardian")

#: Which schools to count, as a condition on a UAI column (``Staff.schools_condition``).
SchoolFilter = Callable[[Any], ColumnElement[bool]]


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))

    def add(self, state: str, n: int) -> None:
        self.values[state] = self.values.get(state, 0) + n

    def merge(self, other: Counts) -> None:
        for state, n in other.values.items():
            self.add(state, n)

    @property
    def total(self) -> int:
        return sum(self.values.values())

    @property
    def rate(self) -> float:
        """Share of people whose account is active (0..1)."""
        return self.values["active"] / self.total if self.total else 0.0

    def __getitem__(self, state: str) -> int:
        return self.values.get(state, 0)


@dataclass
class Row:
    """One line of a table: a school, or a class of a school."""

    uai: str
    label: str
    level: str | None = None
    pupils: Counts = field(default_factory=Counts)
    guardians: Counts = field(default_factory=Counts)

    def counts(self, kind: str) -> Counts:
        return self.pupils if kind == "pupil" else self.guardians


def effective_state(now: datetime) -> ColumnElement[str]:
    return case(
        (Account.id.is_(None), literal("not_created")),
        (
            and_(Account.state == AccountState.notified, Account.notification_expires_at <= now),
            literal("expired"),
        ),
        else_=type_coerce(Account.state, String()),
    )


def live_account(link) -> ColumnElement[bool]:
    return and_(link, Account.state != AccountState.retired)


def _pupil_counts(now: datetime, where: ColumnElement[bool], *group):
    state = effective_state(now)
    return (
        select(*group, state.label("state"), func.count().label("n"))
        .select_from(Pupil)
        .outerjoin(Account, live_account(Account.pupil_id == Pupil.id))
        .where(where, Pupil.status == PupilStatus.enrolled)
        .group_by(*group, state)
    )


def _guardian_counts(now: datetime, where: ColumnElement[bool], *group):
    state = effective_state(now)
    return (
        select(
            *group, state.label("state"), func.count(Guardianship.guardian_id.distinct()).label("n")
        )
        .select_from(Guardianship)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .outerjoin(AccountGuardian, AccountGuardian.guardian_id == Guardianship.guardian_id)
        .outerjoin(Account, live_account(Account.id == AccountGuardian.account_id))
        .where(
            where,
            Pupil.status == PupilStatus.enrolled,
            Guardianship.legal_guardian_rank.is_not(None),
        )
        .group_by(*group, state)
    )


def per_school(db: Session, now: datetime, schools: SchoolFilter) -> list[Row]:
    """One row per school of ``schools``, including schools with nobody enrolled yet."""
    names = dict(db.execute(select(School.uai, School.name).where(schools(School.uai))).all())
    rows = {uai: Row(uai, name) for uai, name in names.items()}
    where = schools(Pupil.school_uai)
    for kind, query in (("pupil", _pupil_counts), ("guardian", _guardian_counts)):
        for uai, state, n in db.execute(query(now, where, Pupil.school_uai)):
            row = rows.setdefault(uai, Row(uai, names.get(uai, uai)))
            row.counts(kind).add(state, n)
    return sorted(rows.values(), key=lambda r: (r.label, r.uai))


def per_class(db: Session, now: datetime, uai: str) -> list[Row]:
    where = Pupil.school_uai == uai
    rows: dict[tuple, Row] = {}
    group = (Pupil.level, Pupil.class_name)
    for kind, query in (("pupil", _pupil_counts), ("guardian", _guardian_counts)):
        for level, class_name, state, n in db.execute(query(now, where, *group)):
            key = (level or "", class_name or "")
            row = rows.setdefault(key, Row(uai, class_name or _("Sans classe"), level))
            row.counts(kind).add(state, n)
    return [rows[k] for k in sorted(rows)]


def per_level(rows: list[Row]) -> list[Row]:
    """Class rows summed by level (pupils add up; a guardian with two children in one level
    counts twice, which the page says)."""
    levels: dict[str, Row] = {}
    for row in rows:
        level = levels.setdefault(
            row.level or "", Row(row.uai, row.level or _("Sans niveau"), row.level)
        )
        level.pupils.merge(row.pupils)
        level.guardians.merge(row.guardians)
    return list(levels.values())


def total(rows: list[Row], label: str | None = None) -> Row:
    result = Row("", label or _("Total"))
    for row in rows:
        result.pupils.merge(row.pupils)
        result.guardians.merge(row.guardians)
    return result


def _guardian_accounts(column, where: tuple):
    """Guardian accounts (each once, with ``column``) having a child that meets ``where``."""
    return (
        select(Account.id, column)
        .join(AccountGuardian, AccountGuardian.account_id == Account.id)
        .join(Guardianship, Guardianship.guardian_id == AccountGuardian.guardian_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(*where)
        .distinct()
        .subquery()
    )


def route_of(column) -> ColumnElement[str]:
    return func.coalesce(type_coerce(column, String()), literal("none"))


def routes(db: Session, schools: SchoolFilter) -> dict[str, dict[str, int]]:
    """Active accounts by activation route, per kind."""
    where = schools(Pupil.school_uai)
    route = route_of(Account.activation_route)
    found: dict[str, dict[str, int]] = {kind: dict.fromkeys(ROUTES, 0) for kind in KINDS}
    pupils = (
        select(route, func.count())
        .select_from(Pupil)
        .join(Account, Account.pupil_id == Pupil.id)
        .where(where, Pupil.status == PupilStatus.enrolled, Account.state == AccountState.active)
        .group_by(route)
    )
    accounts = _guardian_accounts(
        Account.activation_route,
        where=(where, Pupil.status == PupilStatus.enrolled, Account.state == AccountState.active),
    )
    sub_route = route_of(accounts.c.activation_route)
    guardians = select(sub_route, func.count()).select_from(accounts).group_by(sub_route)
    for kind, query in (("pupil", pupils), ("guardian", guardians)):
        for name, n in db.execute(query):
            found[kind][str(name)] = n
    return found


def _day(db: Session, column) -> ColumnElement[date]:
    if db.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def timeline(
    db: Session, schools: SchoolFilter, since: date, until: date
) -> list[tuple[date, int, int]]:
    """Activations per week (Monday first): ``(week, pupils, guardians)`` from ``since``."""
    where = schools(Pupil.school_uai)
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    day = _day(db, Account.activated_at)
    pupils = (
        select(day, func.count())
        .select_from(Pupil)
        .join(Account, Account.pupil_id == Pupil.id)
        .where(where, Account.activated_at >= start)
        .group_by(day)
    )
    accounts = _guardian_accounts(
        Account.activated_at, where=(where, Account.activated_at >= start)
    )
    sub_day = _day(db, accounts.c.activated_at)
    guardians = select(sub_day, func.count()).select_from(accounts).group_by(sub_day)
    weeks: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    first = since - timedelta(days=since.weekday())
    week = first
    while week <= until:
        weeks[week] = [0, 0]
        week += timedelta(days=7)
    for index, query in ((0, pupils), (1, guardians)):
        for raw_day, n in db.execute(query):
            value = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)[:10])
            weeks[value - timedelta(days=value.weekday())][index] += n
    return [(w, *weeks[w]) for w in sorted(weeks) if w >= first]
