"""Pages: the administration home, "not my child" reports, and the audit log.

GET  /admin                          home: my schools at a glance
GET  /admin/signalements             "Je ne suis pas le représentant légal" reports
POST /admin/signalements/{id}        decision=confirmed|dismissed (the school checked)
GET  /admin/journal                  the audit log of my scope (assistance, national)
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased
from starlette.responses import RedirectResponse, Response

from idp.accounts.journeys.models import LinkReport, LinkReportStatus
from idp.admin.audit import StaffAudit
from idp.admin.labels import EVENT_LABELS
from idp.admin.people import records as people
from idp.admin.roles import Action, Staff
from idp.admin.stats import figures as stats
from idp.admin.web import guarded, render, signed_in
from idp.deps import CheckedForm, Db, ReadDb, State
from idp.registry.identifiers import parse_date
from idp.registry.models import Guardian, Pupil, School
from idp.security.models import AuditEvent
from idp.state import AppState

router = APIRouter(include_in_schema=False)
JOURNAL_PAGE = 100


@router.get("/admin")
@guarded
def home(request: Request, state: State, db: ReadDb) -> Response:
    ctx = signed_in(state, db, request)
    now = state.clock.now()
    schools = people.schools(db, ctx.staff)
    rows = (
        stats.per_school(db, now, lambda col: ctx.staff.schools_condition(Action.read, col))
        if len(schools) <= 10
        else []
    )
    open_reports = (
        _reports_query(ctx.staff, LinkReportStatus.open).with_only_columns(func.count())
        if ctx.staff.can(Action.reports)
        else None
    )
    reports = db.scalar(open_reports) if open_reports is not None else 0
    context = {"schools": schools, "rows": rows, "reports": reports, "school_count": len(schools)}
    return render(state, request, ctx, "home.html", context, current="/admin")


def _reports_query(staff: Staff, status: LinkReportStatus | None):
    query = select(LinkReport).where(staff.schools_condition(Action.reports, LinkReport.school_uai))
    if status is not None:
        query = query.where(LinkReport.status == status)
    return query


def report_rows(db: Session, staff: Staff, status: LinkReportStatus | None) -> list[tuple]:
    """``(report, pupil, guardian)`` of the staff member's schools, newest first."""
    g = aliased(Guardian)
    query = (
        _reports_query(staff, status)
        .add_columns(Pupil, g)
        .join(Pupil, Pupil.id == LinkReport.pupil_id)
        .join(g, g.id == LinkReport.guardian_id)
        .order_by(LinkReport.created_at.desc())
        .limit(500)
    )
    return [tuple(r) for r in db.execute(query).all()]


@router.get("/admin/signalements")
@guarded
def reports_page(
    request: Request, state: State, db: ReadDb, statut: str = "open", fait: str | None = None
) -> Response:
    ctx = signed_in(state, db, request, Action.reports)
    status = LinkReportStatus(statut) if statut in LinkReportStatus.__members__ else None
    rows = report_rows(db, ctx.staff, status)
    context = {"rows": rows, "status": statut, "done": fait == "1"}
    return render(state, request, ctx, "reports.html", context, current="/admin/signalements")


@router.post("/admin/signalements/{report_id}")
@guarded
def report_decide(
    request: Request, state: State, db: Db, form: CheckedForm, report_id: str
) -> Response:
    ctx = signed_in(state, db, request, Action.reports)
    decision = form.get("decision", "")
    if decision not in (LinkReportStatus.confirmed, LinkReportStatus.dismissed):
        raise HTTPException(400)
    resolve_report(state, db, ctx.staff, report_id, LinkReportStatus(decision), ctx.ip)
    return RedirectResponse("/admin/signalements?fait=1", status_code=303)


def resolve_report(
    state: AppState,
    db: Session,
    staff: Staff,
    report_id: str,
    decision: LinkReportStatus,
    ip: str | None,
) -> LinkReport:
    """Mark a report handled (shared with the API); 404 outside the staff member's schools."""
    report = db.get(LinkReport, report_id)
    if report is None or not staff.allows(
        Action.reports, report.school_uai, _academy(db, report.school_uai)
    ):
        raise HTTPException(404)
    before = report.status.value
    report.status = decision
    report.resolved_at = state.clock.now()
    StaffAudit(state, db, staff, ip).record(
        "admin.report.resolved",
        "link_report",
        report.id,
        report.school_uai,
        before={"status": before},
        after={"status": decision.value},
    )
    return report


def _academy(db: Session, uai: str) -> str | None:
    school = db.get(School, uai)
    return school.academy if school else None


def journal_query(
    staff: Staff, event: str = "", school: str = "", since: str = "", until: str = ""
):
    """Audit events of the staff member's scope: events about one of their schools, and events
    by staff; national administrators see everything."""
    query = select(AuditEvent)
    if not any(a.role.value == "national" for a in staff.assignments):
        query = query.where(
            or_(
                staff.schools_condition(Action.audit, AuditEvent.school_uai),
                AuditEvent.actor_account_id == staff.account_id,
            )
        )
    if event:
        query = query.where(AuditEvent.event.startswith(event))
    if school:
        query = query.where(AuditEvent.school_uai == school.upper())
    for raw, op in ((since, "ge"), (until, "lt")):
        try:
            day = parse_date(raw) if raw else None
        except ValueError:
            day = None
        if day is not None:
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            query = query.where(
                AuditEvent.at >= moment
                if op == "ge"
                else AuditEvent.at < moment + timedelta(days=1)
            )
    return query


@router.get("/admin/journal")
@guarded
def journal_page(request: Request, state: State, db: ReadDb) -> Response:
    ctx = signed_in(state, db, request, Action.audit)
    q = request.query_params
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    query = journal_query(
        ctx.staff,
        q.get("evenement", "")[:60],
        q.get("ecole", "")[:8],
        q.get("du", ""),
        q.get("au", ""),
    )
    events = list(
        db.scalars(
            query.order_by(AuditEvent.at.desc(), AuditEvent.id)
            .limit(JOURNAL_PAGE + 1)
            .offset((page - 1) * JOURNAL_PAGE)
        )
    )
    more = len(events) > JOURNAL_PAGE
    params = {k: v for k, v in q.items() if k != "page" and v}
    context = {
        "events": events[:JOURNAL_PAGE],
        "labels": EVENT_LABELS,
        "filters": q,
        "page": page,
        "next_url": "/admin/journal?" + urlencode({**params, "page": page + 1}) if more else None,
        "prev_url": "/admin/journal?" + urlencode({**params, "page": page - 1})
        if page > 1
        else None,
        "event_choices": sorted({k.rsplit(".", 1)[0] for k in EVENT_LABELS}),
    }
    return render(state, request, ctx, "journal.html", context, current="/admin/journal")
