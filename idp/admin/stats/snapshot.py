"""The statistics snapshot behind the académie dashboards (``StatsSnapshot``).

``refresh(db, now)`` recomputes every school in the caller's transaction: for each kind of
person, one scan of the registry joined to the accounts, grouped by school, state, route and
activation week, then folded by the database into the three metrics. The periodic job calls
``refresh_if_stale`` (every ``MAX_AGE``); a dashboard that finds no snapshot, or one older
than ``STALE``, counts its schools live instead. Single-school pages stay live
(``idp.admin.stats.figures``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Date, String, cast, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountState
from idp.admin.models import StatsSnapshot
from idp.admin.stats.figures import (
    KINDS,
    ROUTES,
    Row,
    SchoolFilter,
    effective_state,
    live_account,
    route_of,
)
from idp.db import transaction
from idp.registry.models import Guardianship, Pupil, PupilStatus, School
from idp.state import AppState

MAX_AGE = timedelta(minutes=10)
STALE = timedelta(hours=1)
#: Weekly activations are kept for this long (the dashboards show the school year).
HISTORY = timedelta(days=400)


def _week(db: Session, column):
    """The Monday of the column's (UTC) week, as ``YYYY-MM-DD``."""
    if db.get_bind().dialect.name == "postgresql":
        return cast(cast(func.date_trunc("week", func.timezone("UTC", column)), Date), String)
    return func.date(column, "weekday 0", "-6 days")


def _base(db: Session, kind: str, now: datetime):
    """One row per person (per school, for guardians): school, state, route, week."""
    state = effective_state(now)
    route = route_of(Account.activation_route)
    week = _week(db, Account.activated_at)
    columns = (
        Pupil.school_uai.label("school"),
        state.label("state"),
        route.label("route"),
        week.label("week"),
    )
    if kind == "pupil":
        query = (
            select(*columns)
            .select_from(Pupil)
            .outerjoin(Account, live_account(Account.pupil_id == Pupil.id))
        )
    else:
        query = (
            select(*columns, Guardianship.guardian_id)
            .select_from(Guardianship)
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .outerjoin(AccountGuardian, AccountGuardian.guardian_id == Guardianship.guardian_id)
            .outerjoin(Account, live_account(Account.id == AccountGuardian.account_id))
            .where(Guardianship.legal_guardian_rank.is_not(None))
            .distinct()
        )
    return query.where(Pupil.status == PupilStatus.enrolled).cte(f"base_{kind}")


def refresh(db: Session, now: datetime) -> int:
    """Recompute the snapshot in ``db``'s transaction; return how many rows it holds."""
    since = (now - HISTORY).date().isoformat()
    db.execute(delete(StatsSnapshot))
    columns = ["school_uai", "kind", "metric", "key", "n", "computed_at"]
    for kind in KINDS:
        base = _base(db, kind, now)

        def part(metric: str, key, *where, base=base, kind=kind):
            return (
                select(
                    base.c.school,
                    literal(kind),
                    literal(metric),
                    key,
                    func.count(),
                    literal(now, StatsSnapshot.computed_at.type),
                )
                .where(*where)
                .group_by(base.c.school, key)
            )

        parts = union_all(
            part("state", base.c.state),
            part("route", base.c.route, base.c.state == AccountState.active.value),
            part("week", base.c.week, base.c.week.is_not(None), base.c.week >= since),
        )
        db.execute(insert(StatsSnapshot).from_select(columns, parts))
    return db.scalar(select(func.count()).select_from(StatsSnapshot)) or 0


def computed_at(db: Session) -> datetime | None:
    return db.scalar(select(func.max(StatsSnapshot.computed_at)))


def refresh_if_stale(state: AppState, max_age: timedelta = MAX_AGE) -> int:
    """For the periodic job (outside requests): recompute when older than ``max_age``."""
    now = state.clock.now()
    with transaction(state.sessions) as db:
        at = computed_at(db)
        if at is not None and now - at < max_age:
            return 0
        return refresh(db, now)


def per_school(db: Session, schools: SchoolFilter) -> list[Row]:
    names = dict(db.execute(select(School.uai, School.name).where(schools(School.uai))).all())
    rows = {uai: Row(uai, name) for uai, name in names.items()}
    found = db.execute(
        select(
            StatsSnapshot.school_uai, StatsSnapshot.kind, StatsSnapshot.key, StatsSnapshot.n
        ).where(StatsSnapshot.metric == "state", schools(StatsSnapshot.school_uai))
    )
    for uai, kind, key, n in found:
        rows.setdefault(uai, Row(uai, names.get(uai, uai))).counts(kind).add(key, n)
    return sorted(rows.values(), key=lambda r: (r.label, r.uai))


def routes(db: Session, schools: SchoolFilter) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {kind: dict.fromkeys(ROUTES, 0) for kind in KINDS}
    query = (
        select(StatsSnapshot.kind, StatsSnapshot.key, func.sum(StatsSnapshot.n))
        .where(StatsSnapshot.metric == "route", schools(StatsSnapshot.school_uai))
        .group_by(StatsSnapshot.kind, StatsSnapshot.key)
    )
    for kind, key, n in db.execute(query):
        found[kind][key] = int(n)
    return found


def timeline(
    db: Session, schools: SchoolFilter, since: date, until: date
) -> list[tuple[date, int, int]]:
    first = since - timedelta(days=since.weekday())
    weeks: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    week = first
    while week <= until:
        weeks[week] = [0, 0]
        week += timedelta(days=7)
    query = (
        select(StatsSnapshot.kind, StatsSnapshot.key, func.sum(StatsSnapshot.n))
        .where(
            StatsSnapshot.metric == "week",
            StatsSnapshot.key >= first.isoformat(),
            schools(StatsSnapshot.school_uai),
        )
        .group_by(StatsSnapshot.kind, StatsSnapshot.key)
    )
    for kind, key, n in db.execute(query):
        weeks[date.fromisoformat(key)][KINDS.index(kind)] += int(n)
    return [(w, *weeks[w]) for w in sorted(weeks)]
