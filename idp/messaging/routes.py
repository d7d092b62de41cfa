"""``/dev/outbox``: the latest stored messages, for developers (never in production, and only
when a channel actually goes to the outbox)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select
from starlette.responses import Response

from idp.deps import State
from idp.messaging.models import OutboxMessage
from idp.settings import Settings

router = APIRouter(include_in_schema=False)

LATEST = 50


def outbox_enabled(settings: Settings) -> bool:
    uses_outbox = settings.sms_backend == "outbox" or settings.mail_backend == "outbox"
    return settings.env != "production" and uses_outbox


@router.get("/dev/outbox")
def outbox_page(request: Request, state: State) -> Response:
    if not outbox_enabled(state.settings):
        raise HTTPException(404)
    with state.sessions() as db:
        messages = list(
            db.scalars(
                select(OutboxMessage)
                .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
                .limit(LATEST)
            )
        )
    return state.templates.render(request, "messages/outbox_page.html", {"messages": messages})
