"""Pages: notify a class or a whole school, and download the letters just issued.

GET  /admin/notifier[?ecole=UAI]        who has no account yet, per class
POST /admin/notifier                    ecole, classe (empty: the whole school), confirmation
GET  /admin/courriers/{batch}.pdf|.csv  the letters of a batch (its author only, two hours)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from idp.accounts.models import AccountKind
from idp.admin.people import actions
from idp.admin.people import records as people
from idp.admin.roles import Action, Staff
from idp.admin.schools import batches, letters, letters_csv
from idp.admin.stats import figures as stats
from idp.admin.web import Ctx, guarded, render, signed_in
from idp.deps import CheckedForm, Db, ReadDb, State
from idp.i18n import _
from idp.state import AppState

router = APIRouter(include_in_schema=False)


@router.get("/admin/notifier")
@guarded
def notify_page(request: Request, state: State, db: ReadDb, ecole: str = "") -> Response:
    ctx = signed_in(state, db, request, Action.notify)
    return _notify_page(state, db, request, ctx, ecole)


def _notify_page(
    state: AppState,
    db: Session,
    request: Request,
    ctx: Ctx,
    uai: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    schools = people.schools(db, ctx.staff, Action.notify)
    if not uai and len(schools) == 1:
        uai = schools[0].uai
    school = next((s for s in schools if s.uai == uai), None)
    if uai and school is None:
        raise HTTPException(404)
    rows = stats.per_class(db, state.clock.now(), school.uai) if school else []
    context = {
        "schools": schools,
        "school": school,
        "rows": rows,
        "total": stats.total(rows),
        "guardians_allowed": bool(school)
        and ctx.staff.allows(Action.notify, school.uai, school.academy, AccountKind.guardian),
        "error": error,
    }
    return render(
        state, request, ctx, "notify.html", context, status=status, current="/admin/notifier"
    )


@router.post("/admin/notifier")
@guarded
def notify_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    ctx = signed_in(state, db, request, Action.notify)
    uai = form.get("ecole", "")
    class_name = form.get("classe", "") or None
    if form.get("confirmation") != "oui":
        message = _("Cochez la case de confirmation pour lancer la notification.")
        return _notify_page(state, db, request, ctx, uai, message, 400)
    try:
        with db.begin_nested():  # a refusal leaves nothing behind, not even its audit event
            issued = actions.notify_school(state, db, ctx.staff, uai, class_name, ctx.ip)
            if not issued:
                raise actions.ActionError(
                    _("Tout le monde a déjà un compte : aucun courrier à imprimer.")
                )
    except actions.ActionError as exc:
        return _notify_page(state, db, request, ctx, uai, str(exc), 409)
    batch_id = batches.store_letters(state, db, ctx.staff, uai, [i.letter for i in issued])
    if class_name:
        title = _("Classe %(class_name)s notifiée") % {"class_name": class_name}
    else:
        title = _("École notifiée")
    context = {
        "title": title,
        "letters": [i.letter for i in issued],
        "batch_id": batch_id,
        "back_url": f"/admin/notifier?ecole={uai}",
    }
    return render(state, request, ctx, "issued.html", context, current="/admin/notifier")


@router.get("/admin/courriers/{batch_id}.{extension}")
@guarded
def letters_download(
    request: Request, state: State, db: Db, batch_id: str, extension: str
) -> Response:
    if extension not in ("pdf", "csv"):
        raise HTTPException(404)
    ctx = signed_in(state, db, request)
    # Resetting a password issues a letter too: either right lets one download one's batches.
    if not (ctx.staff.can(Action.notify) or ctx.staff.can(Action.reset)):
        raise HTTPException(404)
    return letters_response(state, db, ctx.staff, ctx.ip, batch_id, extension)


def letters_response(
    state: AppState, db: Session, staff: Staff, ip: str | None, batch_id: str, extension: str
) -> Response:
    """The PDF or CSV of a batch (shared with the API). The download is recorded in ``db``;
    the file is drawn while the response is sent, after the transaction ended (a school's
    letters take a second or two: no lock is held meanwhile)."""
    found = batches.load_letters(state, db, staff, batch_id)
    if found is None:
        raise actions.NotFound
    batch, issued = found
    actions.Audit(state, db, staff, ip).record(
        "admin.letters.downloaded",
        "letters",
        batch.id,
        batch.school_uai,
        format=extension,
        count=batch.count,
    )
    name = letters.filename(batch.school_uai, batch.created_at, extension)
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if extension == "pdf":
        day = batch.created_at.date()
        pdf = _later(lambda: letters.render_pdf(issued, state.settings, day))
        return StreamingResponse(pdf, media_type="application/pdf", headers=headers)
    csv = _later(lambda: letters_csv.render_csv(issued))
    return StreamingResponse(csv, media_type="text/csv; charset=utf-8", headers=headers)


def _later(draw: Callable[[], bytes | str]) -> Iterator[bytes | str]:
    """A body drawn when Starlette sends it (in the thread pool), not in the endpoint."""
    yield draw()
