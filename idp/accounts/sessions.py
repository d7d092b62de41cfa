"""Opening an SSO session after a successful authentication."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session
from starlette.requests import Request

from idp.accounts.models import Account
from idp.deps import client_ip
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
