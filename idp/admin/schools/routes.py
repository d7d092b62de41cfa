"""Pages: notify a class or a whole school, and download the letters just issued.

GET  /admin/notifier[?ecole=UAI]        who has no account yet, per class
POST /admin/notifier                    ecole, classe (empty: the whole school), confirmation
GET  /admin/courriers/{batch}.pdf|.csv  the letters of a batch (its author only, two hours)
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.models import AccountKind
from idp.admin.people import actions
from idp.admin.people import records as people
from idp.admin.roles import Action, Staff
from idp.admin.schools import letters
from idp.admin.stats import figures as stats
from idp.admin.web import Ctx, form, guarded, render, signed_in
from idp.deps import State
from idp.state import AppState

router = APIRouter(include_in_schema=False)


@router.get("/admin/notifier")
@guarded
def notify_page(request: Request, state: State, ecole: str = "") -> Response:
    ctx = signed_in(state, request, Action.notify)
    return _notify_page(state, request, ctx, ecole)


def _notify_page(
    state: AppState,
    request: Request,
    ctx: Ctx,
    uai: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with state.uow(readonly=True) as db:
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
async def notify_submit(request: Request, state: State) -> Response:
    data = await form(request)
    return await run_in_threadpool(_notify, state, request, data)


def _notify(state: AppState, request: Request, data: dict[str, str]) -> Response:
    ctx = signed_in(state, request, Action.notify)
    uai = data.get("ecole", "")
    class_name = data.get("classe", "") or None
    if data.get("confirmation") != "oui":
        message = "Cochez la case de confirmation pour lancer la notification."
        return _notify_page(state, request, ctx, uai, message, 400)
    try:
        with state.uow() as db:
            issued = actions.notify_school(state, db, ctx.staff, uai, class_name, ctx.ip)
            if not issued:
                raise actions.ActionError(
                    "Tout le monde a déjà un compte : aucun courrier à imprimer."
                )
            batch_id = actions.store_letters(state, db, ctx.staff, uai, [i.letter for i in issued])
    except actions.NotFound:
        raise HTTPException(404) from None
    except actions.ActionError as exc:
        return _notify_page(state, request, ctx, uai, str(exc), 409)
    title = f"Classe {class_name} notifiée" if class_name else "École notifiée"
    context = {
        "title": title,
        "letters": [i.letter for i in issued],
        "batch_id": batch_id,
        "back_url": f"/admin/notifier?ecole={uai}",
    }
    return render(state, request, ctx, "issued.html", context, current="/admin/notifier")


@router.get("/admin/courriers/{batch_id}.{extension}")
@guarded
def letters_download(request: Request, state: State, batch_id: str, extension: str) -> Response:
    if extension not in ("pdf", "csv"):
        raise HTTPException(404)
    ctx = signed_in(state, request)
    # Resetting a password issues a letter too: either right lets one download one's batches.
    if not (ctx.staff.can(Action.notify) or ctx.staff.can(Action.reset)):
        raise HTTPException(404)
    return letters_response(state, ctx.staff, ctx.ip, batch_id, extension)


def letters_response(
    state: AppState, staff: Staff, ip: str | None, batch_id: str, extension: str
) -> Response:
    """The PDF or CSV of a batch (shared with the API)."""
    with state.uow() as db:
        try:
            batch, found = actions.load_letters(state, db, staff, batch_id)
        except actions.NotFound:
            raise HTTPException(404) from None
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
        body = letters.render_pdf(found, state.settings, batch.created_at.date())
        return Response(body, media_type="application/pdf", headers=headers)
    return Response(
        letters.render_csv(found), media_type="text/csv; charset=utf-8", headers=headers
    )
