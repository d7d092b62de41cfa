"""Administration API: statistics and "not my child" reports (included by
``idp.admin.api.routes``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from idp.accounts.journeys.models import LinkReportStatus
from idp.admin.api import models as m
from idp.admin.api.auth import Who, WhoActs
from idp.admin.api.convert import NOT_FOUND, row_out
from idp.admin.desk_routes import report_rows, resolve_report
from idp.admin.roles import Action
from idp.admin.stats.routes import build_view
from idp.deps import Db, ReadDb, State

router = APIRouter()


@router.get(
    "/statistics", operation_id="admin_statistics", response_model=m.Statistics, responses=NOT_FOUND
)
def statistics(
    state: State,
    db: ReadDb,
    who: Who,
    school: Annotated[str, Query(max_length=8)] = "",
    academy: Annotated[str, Query(max_length=60)] = "",
) -> m.Statistics:
    """Accounts by state: per class of a school, per school of an académie, or of yours."""
    view = build_view(state, db, who.staff, school, academy)
    return m.Statistics(
        title=view.title,
        rows_are="class" if view.row_kind == "class" else "school",
        rows=[row_out(r) for r in view.rows],
        total=row_out(view.total),
        routes=view.routes,
        timeline=[m.WeekPoint(week=w, pupils=p, guardians=g) for w, p, g in view.timeline],
    )


@router.get("/reports", operation_id="admin_list_reports", response_model=list[m.Report])
def list_reports(
    db: ReadDb, who: Who, status: Literal["open", "confirmed", "dismissed"] | None = "open"
) -> list[m.Report]:
    """ "Not my child" reports of your schools."""
    if not who.staff.can(Action.reports):
        raise HTTPException(404)
    rows = report_rows(db, who.staff, LinkReportStatus(status) if status else None)
    return [_report(r) for r, _, _ in rows]


@router.post(
    "/reports/{report_id}",
    operation_id="admin_resolve_report",
    response_model=m.Report,
    responses=NOT_FOUND,
)
def resolve(state: State, db: Db, who: WhoActs, report_id: str, body: m.ReportDecision) -> m.Report:
    """Record what the school found about a report."""
    decision = LinkReportStatus(body.status)
    return _report(resolve_report(state, db, who.staff, report_id, decision, who.ip))


def _report(r) -> m.Report:
    return m.Report(
        id=r.id,
        school_uai=r.school_uai,
        pupil_id=r.pupil_id,
        guardian_id=r.guardian_id,
        status=r.status.value,
        created_at=r.created_at,
        resolved_at=r.resolved_at,
    )
