"""The assistance form for families, the personal-data notice, and the desk's ticket pages.

GET  /assistance                      contact form (CSRF, rate limited per address)
POST /assistance                      → ticket + acknowledgement e-mail
GET  /donnees-personnelles            "Utilisation des données à caractère personnel"
GET  /admin/assistance[?statut=…]     tickets (assistance staff of the académie, national)
GET  /admin/assistance/{id}           one ticket and its replies
POST /admin/assistance/{id}           reply (e-mailed or internal note) and/or new status
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import func
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.accounts.journeys.common import throttled, too_many
from idp.admin.roles import Action
from idp.admin.web import Ctx, guarded, render, signed_in
from idp.deps import CheckedForm, Db, ReadDb, State, client_ip
from idp.i18n import _
from idp.messaging.messenger import messenger
from idp.state import AppState
from idp.support import tickets
from idp.support.models import SupportTicket, TicketStatus
from idp.support.notice import privacy_details, retention_label

router = APIRouter(include_in_schema=False)

#: Tickets one address may send per hour (the throttle store is shared by every instance).
TICKETS_PER_ADDRESS = 5
WINDOW = 3600
DESK_PAGE = 100


def _form_page(
    state: AppState, request: Request, contact: tickets.ContactForm, status: int = 200
) -> Response:
    details = privacy_details(state.settings)
    context = {
        "form": contact,
        "errors": contact.errors,
        "categories": tickets.CATEGORIES,
        "retention": retention_label(details.ticket_retention_days),
    }
    return state.templates.render(request, "support/form.html", context, status_code=status)


@router.get("/assistance")
def contact_page(request: Request, state: State) -> Response:
    return _form_page(state, request, tickets.ContactForm())


@router.post("/assistance")
def contact_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    contact = tickets.validate(tickets.ContactForm.read(form))
    if contact.errors:
        return _form_page(state, request, contact, 400)
    wait = throttled(state, db, f"support:{client_ip(request)}", TICKETS_PER_ADDRESS, WINDOW)
    if wait:
        return too_many(state, request, wait, "/assistance")
    ticket = tickets.create_ticket(state, db, contact)
    messenger(state).mail(
        db,
        ticket.email,
        "support_received",
        name=ticket.name,
        reference=ticket.reference,
        category_label=tickets.CATEGORIES[ticket.category],
    )
    context = {"reference": ticket.reference, "email": ticket.email}
    return state.templates.render(request, "support/sent.html", context)


@router.get("/donnees-personnelles")
def privacy_page(request: Request, state: State) -> Response:
    details = privacy_details(state.settings)
    context = {"details": details, "retention": retention_label(details.ticket_retention_days)}
    return state.templates.render(request, "support/privacy.html", context)


# -- the desk ------------------------------------------------------------------------------------
@router.get("/admin/assistance")
@guarded
def desk_page(request: Request, state: State, db: ReadDb, statut: str = "open") -> Response:
    ctx = signed_in(state, db, request, Action.tickets)
    query = tickets.visible(ctx.staff)
    if statut == "open":
        query = query.where(SupportTicket.status != TicketStatus.closed)
    elif statut in TicketStatus.__members__:
        query = query.where(SupportTicket.status == TicketStatus(statut))
    rows = list(db.scalars(query.order_by(SupportTicket.created_at.desc()).limit(DESK_PAGE)))
    counts = dict(
        db.execute(
            tickets.visible(ctx.staff)
            .with_only_columns(SupportTicket.status, func.count())
            .group_by(SupportTicket.status)
        ).all()
    )
    context = {
        "tickets": rows,
        "status": statut,
        "counts": {s.value: counts.get(s, 0) for s in TicketStatus},
        "labels": tickets.STATUS_LABELS,
        "categories": tickets.CATEGORIES,
    }
    return render(
        state, request, ctx, "support/desk_list.html", context, current="/admin/assistance"
    )


def _ticket_page(
    state: AppState,
    db: Session,
    request: Request,
    ctx: Ctx,
    ticket_id: str,
    error: str | None = None,
    done: bool = False,
) -> Response:
    ticket = tickets.ticket_for(db, ctx.staff, ticket_id)
    if ticket is None:
        raise HTTPException(404)
    context = {
        "ticket": ticket,
        "replies": tickets.replies(db, ticket.id),
        "labels": tickets.STATUS_LABELS,
        "categories": tickets.CATEGORIES,
        "error": error,
        "done": done,
    }
    return render(
        state,
        request,
        ctx,
        "support/desk_ticket.html",
        context,
        status=400 if error else 200,
        current="/admin/assistance",
    )


@router.get("/admin/assistance/{ticket_id}")
@guarded
def ticket_page(
    request: Request, state: State, db: ReadDb, ticket_id: str, fait: str | None = None
) -> Response:
    ctx = signed_in(state, db, request, Action.tickets)
    return _ticket_page(state, db, request, ctx, ticket_id, done=bool(fait))


@router.post("/admin/assistance/{ticket_id}")
@guarded
def ticket_update(
    request: Request,
    state: State,
    db: Db,
    form: CheckedForm,
    ticket_id: str,
) -> Response:
    ctx = signed_in(state, db, request, Action.tickets)
    body = form.get("reponse", "").strip()
    try:
        status = TicketStatus(form.get("statut", ""))
    except ValueError:
        error = _("Choisissez le nouvel état de la demande.")
        return _ticket_page(state, db, request, ctx, ticket_id, error)
    if len(body) > tickets.MESSAGE_MAX:
        error = _("La réponse est trop longue (%(n)s caractères au plus).")
        return _ticket_page(state, db, request, ctx, ticket_id, error % {"n": tickets.MESSAGE_MAX})
    ticket = tickets.ticket_for(db, ctx.staff, ticket_id)
    if ticket is None:
        raise HTTPException(404)
    tickets.answer(state, db, ctx.staff, ticket, body, form.get("envoi") != "note", status, ctx.ip)
    return RedirectResponse(f"/admin/assistance/{ticket_id}?fait=1", status_code=303)
