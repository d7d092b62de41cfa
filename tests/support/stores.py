"""Reading the shared stores from a test, each call in a transaction of its own."""

from __future__ import annotations

from idp.db import transaction
from idp.security.stores import SessionData
from idp.state import AppState


def sessions_for(state: AppState, account_id: str) -> list[SessionData]:
    with transaction(state.sessions, readonly=True) as db:
        return state.stores.sessions.for_account(db, account_id)


def session_of(state: AppState, token: str) -> SessionData | None:
    with transaction(state.sessions, readonly=True) as db:
        return state.stores.sessions.get(db, token)
