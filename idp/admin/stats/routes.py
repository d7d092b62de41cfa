"""Pages: activation statistics (charts drawn on the server) and their CSV export.

One school's figures are computed live; views over several schools (an académie has hundreds)
read the snapshot ``educonnect worker`` refreshes every few minutes, and say when it was
computed; without a fresh snapshot they are counted live (a GET page writes nothing).

    GET /admin/statistiques                 my schools (one school: its page)
    GET /admin/statistiques?ecole=UAI       one school: per level and class, routes, over time
    GET /admin/statistiques?academie=NOM    an académie's dashboard (assistance, national)
    GET /admin/statistiques.csv?…           the same table as CSV
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import and_, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import AccountKind
from idp.admin.roles import Action, Role, Staff
from idp.admin.stats import charts, snapshot
from idp.admin.stats import figures as stats
from idp.admin.web import guarded, render, signed_in
from idp.deps import ReadDb, State
from idp.i18n import _
from idp.registry.models import School
from idp.state import AppState

router = APIRouter(include_in_schema=False)


@dataclass
class View:
    """What one statistics page shows."""

    title: str
    rows: list[stats.Row]
    row_kind: str  # class | school
    total: stats.Row
    routes: dict[str, dict[str, int]]
    timeline: list[tuple[date, int, int]]
    school: School | None = None
    academy: str | None = None
    levels: list[stats.Row] = field(default_factory=list)
    academies: list[str] = field(default_factory=list)
    #: When the figures were computed (several schools: the snapshot); ``None``: just now.
    computed_at: datetime | None = None


def school_year_start(today: date) -> date:
    year = today.year if today.month >= 9 else today.year - 1
    return min(date(year, 9, 1), today - timedelta(weeks=12))


def build_view(
    state: AppState, db: Session, staff: Staff, ecole: str = "", academie: str = ""
) -> View:
    """The statistics a staff member may see: one school, an académie, or all their schools.
    Raises 404 for a school or académie outside their scope (shared with the API)."""
    now = state.clock.now()
    today = now.date()
    since = school_year_start(today)
    if ecole:
        school = db.get(School, ecole.upper())
        if school is None or not staff.allows(Action.read, school.uai, school.academy):
            raise HTTPException(404)

        def schools(col):
            return col == school.uai

        rows = stats.per_class(db, now, school.uai)
        return View(
            f"{school.name} ({school.uai})",
            rows,
            "class",
            stats.total(rows),
            stats.routes(db, schools),
            stats.timeline(db, schools, since, today),
            school=school,
            levels=stats.per_level(rows),
        )
    if academie:
        if not _sees_academy(staff, academie):
            raise HTTPException(404)

        def schools(col):
            return and_(
                staff.schools_condition(Action.read, col),
                col.in_(select(School.uai).where(School.academy == academie)),
            )

        title = _("Académie : %(academy)s") % {"academy": academie}
    else:

        def schools(col):
            return staff.schools_condition(Action.read, col)

        title = _("Mes écoles et établissements")
    at = snapshot.computed_at(db)
    # The worker keeps the snapshot fresh; without it (no snapshot yet, or a stale one) the
    # figures are counted live, which reads only these schools and writes nothing.
    fresh = at is not None and now - at <= snapshot.STALE
    if fresh:
        rows = snapshot.per_school(db, schools)
        routes = snapshot.routes(db, schools)
        timeline = snapshot.timeline(db, schools, since, today)
    else:
        rows = stats.per_school(db, now, schools)
        routes = stats.routes(db, schools)
        timeline = stats.timeline(db, schools, since, today)
    return View(
        title,
        rows,
        "school",
        stats.total(rows),
        routes,
        timeline,
        academy=academie or None,
        academies=_academies(db, staff) if not academie else [],
        computed_at=at if fresh else None,
    )


def _sees_academy(staff: Staff, name: str) -> bool:
    return any(
        a.role == Role.national or (a.role == Role.academy and name in a.scope)
        for a in staff.assignments
    )


def _academies(db: Session, staff: Staff) -> list[str]:
    if not any(a.role in (Role.academy, Role.national) for a in staff.assignments):
        return []
    names = db.scalars(
        select(School.academy)
        .where(School.academy.is_not(None), staff.schools_condition(Action.read, School.uai))
        .distinct()
    )
    return sorted(n for n in names if n and _sees_academy(staff, n))


KIND_NAMES = {"pupil": _("Élèves"), "guardian": _("Représentants légaux")}
BAR_TITLES = {
    ("pupil", "class"): _("Comptes élèves par classe"),
    ("pupil", "school"): _("Comptes élèves par école"),
    ("guardian", "class"): _("Comptes représentants légaux par classe"),
    ("guardian", "school"): _("Comptes représentants légaux par école"),
}
ROUTE_TITLES = {
    "pupil": _("Parcours d'activation : élèves"),
    "guardian": _("Parcours d'activation : représentants légaux"),
}


@router.get("/admin/statistiques")
@guarded
def stats_page(
    request: Request, state: State, db: ReadDb, ecole: str = "", academie: str = ""
) -> Response:
    ctx = signed_in(state, db, request)
    view = build_view(state, db, ctx.staff, ecole, academie)
    if not ecole and not academie and len(view.rows) == 1 and not view.academies:
        return RedirectResponse(f"/admin/statistiques?ecole={view.rows[0].uai}", status_code=303)
    show_guardians = ctx.staff.allows_kind(Action.read, AccountKind.guardian)
    show_pupils = view.school is None or view.school.degree == 2
    kinds = [k for k, shown in (("pupil", show_pupils), ("guardian", show_guardians)) if shown]
    bar_rows = view.rows if len(view.rows) <= 60 else []
    context = {
        "view": view,
        "kinds": kinds,
        "kind_names": KIND_NAMES,
        "states": stats.STATE_LABELS,
        "csv_query": f"ecole={ecole}" if ecole else (f"academie={academie}" if academie else ""),
        "charts": {
            kind: charts.state_bars(
                [(r.label, r.counts(kind)) for r in bar_rows]
                or [(_("Total"), view.total.counts(kind))],
                BAR_TITLES[kind, view.row_kind],
                f"bars-{kind}",
            )
            for kind in kinds
        },
        "timeline_chart": charts.timeline(
            view.timeline, _("Comptes activés depuis la rentrée (cumul)"), "timeline"
        ),
        "route_charts": {
            kind: charts.route_bars(
                view.routes[kind],
                stats.ROUTE_LABELS,
                ROUTE_TITLES[kind],
                f"routes-{kind}",
            )
            for kind in kinds
        },
    }
    return render(state, request, ctx, "stats.html", context, current="/admin/statistiques")


CSV_HEADER = ["uai", "ecole", "niveau", "classe", "type", *stats.STATES, "total", "taux_activation"]


@router.get("/admin/statistiques.csv")
@guarded
def stats_csv(
    request: Request, state: State, db: ReadDb, ecole: str = "", academie: str = ""
) -> Response:
    ctx = signed_in(state, db, request)
    view = build_view(state, db, ctx.staff, ecole, academie)
    kinds = [k for k in ("pupil", "guardian") if ctx.staff.allows_kind(Action.read, AccountKind(k))]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in view.rows:
        school_name = view.school.name if view.school else row.label
        class_name = row.label if view.row_kind == "class" else ""
        for kind in kinds:
            counts = row.counts(kind)
            kind_label = "eleves" if kind == "pupil" else "responsables"
            writer.writerow(
                [
                    row.uai,
                    school_name,
                    row.level or "",
                    class_name,
                    kind_label,
                    *(counts[s] for s in stats.STATES),
                    counts.total,
                    f"{counts.rate:.3f}",
                ]
            )
    name = f"educonnect-statistiques-{ecole or academie or 'ecoles'}.csv".replace(" ", "_")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
