"""What-if variants of the app, to measure a proposed change to ``idp/`` before making it.

    .venv/bin/python bench/oidc_run.py --variants pool,inline --servers h11

Served as ``oidc_variants:app`` (uvicorn ``--app-dir bench``); ``BENCH_VARIANTS`` lists them:

- ``pool``: SQLite connections kept in a pool as large as the thread pool (40). ``make_engine``
  uses SQLAlchemy's default for SQLite (a QueuePool of 5, overflow 10): with more requests in
  flight, every extra one opens a connection, runs the four PRAGMAs and closes it again.
- ``asyncdeps``: the ``State`` dependency (``idp.deps.get_state``) as ``async def``. A plain
  ``def`` dependency is run by FastAPI in the thread pool: one more round trip to a worker
  thread per request, for a function that only reads ``request.app.state``.
- ``inline``: the OIDC endpoints call their synchronous work directly on the event loop instead
  of through ``run_in_threadpool``: two thread switches less per request, at the price of
  blocking the loop for the request's duration (no I/O but SQLite there).
"""

from __future__ import annotations

import os

import sqlalchemy

import idp.db

VARIANTS = {v for v in os.environ.get("BENCH_VARIANTS", "").split(",") if v}
KNOWN = {"pool", "inline", "asyncdeps"}
if VARIANTS - KNOWN:
    raise SystemExit(f"unknown variants {sorted(VARIANTS - KNOWN)}; known: {sorted(KNOWN)}")

if "pool" in VARIANTS:

    def _create_engine(url, **kwargs):
        if str(url).startswith("sqlite"):
            kwargs.setdefault("pool_size", 40)
            kwargs.setdefault("max_overflow", 10)
        return sqlalchemy.create_engine(url, **kwargs)

    idp.db.create_engine = _create_engine

if "asyncdeps" in VARIANTS:
    # Before any router module imports ``State``.
    from typing import Annotated

    from fastapi import Depends, Request

    import idp.deps
    from idp.state import AppState

    async def _get_state(request: Request) -> AppState:
        return request.app.state.idp

    idp.deps.get_state = _get_state
    idp.deps.State = Annotated[AppState, Depends(_get_state)]

if "inline" in VARIANTS:
    import idp.oidc.routes

    async def _inline(func, *args):
        return func(*args)

    idp.oidc.routes.run_in_threadpool = _inline

from idp.app import create_app  # noqa: E402

app = create_app()
