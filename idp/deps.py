"""FastAPI dependencies: the app state and the request's unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from idp.db import unit_of_work
from idp.state import AppState


async def get_state(request: Request) -> AppState:
    # async: a plain function would cost a hop to the thread pool on every request.
    return request.app.state.idp


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on error."""
    with unit_of_work(request.app.state.idp.sessions) as session:
        yield session


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


#: The request's session. ``scope="function"`` commits *before* the response is sent, so a
#: client acting on the response (a code, a token) always finds it committed.
Db = Annotated[Session, Depends(get_db, scope="function")]
State = Annotated[AppState, Depends(get_state)]
