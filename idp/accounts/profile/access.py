"""Who may use "Mon compte": a signed-in person with no step left to complete."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import Account
from idp.accounts.steps import required_step
from idp.oidc.authorize import current_session
from idp.security.stores import SessionData
from idp.state import AppState


def signed_in(
    state: AppState, db: Session, request: Request
) -> tuple[SessionData, Account] | Response:
    """The session and its account, or the redirect that comes first: the login page, or a
    pending step (activation, forced password change; staff go through their second factor)."""
    found = current_session(state, db, request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    step = required_step(found[1])
    if step:
        return RedirectResponse(step, status_code=303)
    return found
