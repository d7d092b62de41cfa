"""FastAPI dependencies: the app state, the request's transaction and its form.

Every endpoint declares its transaction in its signature: ``db: Db`` (read-write) or
``db: ReadDb`` (read-only: plain BEGIN on SQLite, so it runs beside the single writer). The
transaction is committed when the endpoint returns and rolled back when it raises; services
and repositories only flush. Endpoints are plain ``def`` (FastAPI runs them in its thread
pool); what must be awaited (the form) is read by an ``async`` dependency before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from idp.db import finish
from idp.security.csrf import checked_form
from idp.state import AppState


async def get_state(request: Request) -> AppState:
    # async: a plain function would cost a hop to the thread pool on every request.
    return request.app.state.idp


@asynccontextmanager
async def request_transaction(factory: sessionmaker[Session]) -> AsyncIterator[Session]:
    """The session is made here, on the event loop: it touches the database only when the
    endpoint first uses it (in the thread pool). Ending it is I/O, so it goes to the thread pool
    too, unless the endpoint never used the session, and then it costs nothing at all."""
    session = factory()
    try:
        yield session
    except BaseException:
        await _end(session, commit=False)
        raise
    else:
        await _end(session, commit=True)


async def _end(session: Session, *, commit: bool) -> None:
    if session.in_transaction():
        await run_in_threadpool(finish, session, commit)
    else:
        finish(session, commit)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One read-write transaction per request: committed when the endpoint returns."""
    # ``async with``, not ``async for``: an exception thrown into this generator must reach
    # the transaction (an ``async for`` would leave it suspended, its transaction open).
    async with request_transaction(request.app.state.idp.sessions) as session:
        yield session


async def get_read_db(request: Request) -> AsyncIterator[Session]:
    """One read-only transaction per request (a promise not to write)."""
    async with request_transaction(request.app.state.idp.read_sessions) as session:
        yield session


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


#: The request's session. ``scope="function"`` commits *before* the response is sent, so a
#: client acting on the response (a code, a token) always finds it committed.
Db = Annotated[Session, Depends(get_db, scope="function")]
ReadDb = Annotated[Session, Depends(get_read_db, scope="function")]
State = Annotated[AppState, Depends(get_state)]
#: The posted form (first value of each field) after the CSRF check.
CheckedForm = Annotated[dict[str, str], Depends(checked_form)]
