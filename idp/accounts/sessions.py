"""Opening an SSO session after a successful authentication, and going on from there."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import Account
from idp.accounts.steps import required_step
from idp.deps import client_ip
from idp.oidc.authorize import authorize, current_session
from idp.oidc.interaction import set_session_cookie
from idp.oidc.logout import end_session
from idp.security.stores import SessionData
from idp.state import AppState

ACR_BASIC = "urn:educonnect:loa:basic"
ACR_FRANCECONNECT = "eidas1"


def open_session(
    state: AppState,
    db: Session,
    request: Request,
    account: Account,
    amr: list[str],
    acr: str = ACR_BASIC,
    upstream: dict | None = None,
) -> tuple[str, SessionData]:
    """Create the session; return the cookie token and the session."""
    now = state.clock.now()
    data = SessionData(
        sid=secrets.token_urlsafe(24),
        account_id=account.id,
        auth_time=state.clock.timestamp(),
        amr=amr,
        acr=acr,
        created_at=now,
        expires_at=now + timedelta(seconds=state.settings.session_ttl),
        upstream=upstream,
        user_agent=(request.headers.get("user-agent") or "")[:300] or None,
        ip=client_ip(request),
    )
    return state.stores.sessions.create(db, data), data


def sign_in(
    state: AppState,
    db: Session,
    request: Request,
    account: Account,
    auth: str | None,
    amr: list[str],
    acr: str = ACR_BASIC,
    upstream: dict | None = None,
) -> Response:
    """Open the session (replacing this browser's previous one), then go where the person
    must: a required step, the pending authorization (``auth``), or "Mon compte"."""
    previous = current_session(state, db, request)
    if previous is not None:
        end_session(state, db, previous[0])
    token, session = open_session(state, db, request, account, amr=amr, acr=acr, upstream=upstream)
    pending = state.interactions.open(auth)
    if pending is not None:
        # This login satisfies prompt=login / max_age, even after a required step.
        pending.login_at = session.auth_time
    step = required_step(account, session)
    if step:
        query = urlencode({"auth": state.interactions.seal(pending)}) if pending else ""
        response: Response = RedirectResponse(step + (f"?{query}" if query else ""), 303)
    elif pending is not None:
        response = authorize(state, db, request, pending, token)
    else:
        response = RedirectResponse("/compte", status_code=303)
    set_session_cookie(response, state.settings, token)
    return response
