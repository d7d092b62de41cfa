"""The request's transaction (idp.deps): committed on success, rolled back on error, and its
connection back in the pool either way."""

from __future__ import annotations

import contextlib

from fastapi import HTTPException
from sqlalchemy import select, text
from starlette.testclient import TestClient

from idp.app import create_app
from idp.deps import Db, ReadDb
from idp.security.models import AuditEvent


def _app(settings):
    app = create_app(settings, background=False)
    state = app.state.idp

    @app.post("/_t/commit")
    def commit(db: Db) -> dict:
        state.audit.record(db, "test.committed")
        return {}

    @app.post("/_t/fail")
    def fail(db: Db) -> dict:
        state.audit.record(db, "test.rolled_back")
        raise HTTPException(404)

    @app.get("/_t/read-then-fail")
    def read_then_fail(db: ReadDb) -> dict:
        db.execute(text("SELECT 1"))
        raise HTTPException(404)

    @app.get("/_t/unused")
    def unused(db: Db) -> dict:
        return {}

    return app


def _events(state) -> list[str]:
    with state.sessions() as db:
        return list(db.scalars(select(AuditEvent.event).where(AuditEvent.event.like("test.%"))))


def test_commit_rollback_and_the_pool(settings, engine):
    app = _app(settings)
    state = app.state.idp
    with TestClient(app) as client:
        assert client.post("/_t/commit").status_code == 200
        assert client.post("/_t/fail").status_code == 404
        for _ in range(5):  # a leaked transaction would keep a connection out of the pool
            assert client.get("/_t/read-then-fail").status_code == 404
        assert client.get("/_t/unused").status_code == 200
        assert state.engine.pool.checkedout() == 0
    assert _events(state) == ["test.committed"]


def test_an_error_rolls_back_at_once(settings, engine):
    """FastAPI throws the endpoint's exception into the dependency: the transaction must end
    right there, not whenever the generator is collected."""
    import asyncio
    from types import SimpleNamespace

    from idp.deps import get_db, get_read_db

    state = _app(settings).state.idp
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(idp=state)))

    async def scenario(dependency) -> bool:
        generator = dependency(request)
        session = await generator.__anext__()
        session.execute(text("SELECT 1"))
        with contextlib.suppress(HTTPException):
            await generator.athrow(HTTPException(404))
        return session.in_transaction()

    for dependency in (get_db, get_read_db):
        assert asyncio.run(scenario(dependency)) is False
    assert state.engine.pool.checkedout() == 0
