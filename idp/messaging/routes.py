"""``/dev/outbox``: the development mailbox, for developers (never in production, and only when
a channel actually goes to it). Queued messages show at once, with their delivery state."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from idp.deps import ReadDb, State
from idp.outbox import views
from idp.settings import Settings

router = APIRouter(include_in_schema=False)

LATEST = 50


def outbox_enabled(settings: Settings) -> bool:
    return bool(views.dev_channels(settings))


@router.get("/dev/outbox")
def outbox_page(request: Request, state: State, db: ReadDb) -> Response:
    channels = views.dev_channels(state.settings)
    if not channels:
        raise HTTPException(404)
    messages = views.latest(db, LATEST, channels=channels)
    return state.templates.render(request, "messages/outbox_page.html", {"messages": messages})
