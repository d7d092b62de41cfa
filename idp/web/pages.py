"""Small service pages: home, health and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from idp.deps import ReadDb, State
from idp.oidc.authorize import current_session

router = APIRouter()


@router.get("/health", operation_id="health", tags=["Operations"])
def health() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", operation_id="ready", tags=["Operations"])
def ready(state: State) -> Response:
    """Readiness: the database (and Redis, when configured) answer."""
    checks = {}
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    if state.stores.redis is not None:
        try:
            state.stores.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/", include_in_schema=False)
def home(request: Request, state: State, db: ReadDb) -> Response:
    found = current_session(state, db, request)
    return state.templates.render(
        request,
        "home.html",
        {"account": found[1] if found else None, "demo": state.settings.demo_enabled},
    )
