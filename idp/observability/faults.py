"""Dependencies that fail: the database or Redis unreachable.

Such a request is answered 503 with ``Retry-After`` — ``{"error": "temporarily_unavailable"}``
(RFC 6749 §4.1.2.1's code) on the protocol and API endpoints, the French "Service
momentanément indisponible" page elsewhere — and logs nothing by itself: one line when a
dependency goes down, one when it is back (``Outages``), never a traceback per request.

Throttling fails *closed*: with Redis down a login is refused (503), never let through
unthrottled.
"""

from __future__ import annotations

import logging
import threading

import redis.exceptions
from fastapi import FastAPI, Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from starlette.responses import JSONResponse, Response

from idp.i18n import _
from idp.observability.metrics import OUTAGES

log = logging.getLogger("educonnect.faults")

RETRY_AFTER_SECONDS = 5

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # pool exhausted: the database is there but saturated
)
REDIS_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class Outages:
    """Which dependencies are down, logged once per change (many threads report at once)."""

    def __init__(self) -> None:
        self._down: set[str] = set()
        self._lock = threading.Lock()

    def is_down(self, name: str) -> bool:
        return name in self._down

    def down(self, name: str, exc: BaseException) -> None:
        with self._lock:
            if name in self._down:
                return
            self._down.add(name)
        log.error("%s unreachable: %s (answering 503 until it is back)", name, _brief(exc))

    def up(self, name: str) -> None:
        if name not in self._down:  # the common case, without the lock
            return
        with self._lock:
            if name not in self._down:
                return
            self._down.discard(name)
        log.warning("%s reachable again", name)

    def watch_engine(self, engine: Engine) -> None:
        """A connection checked out (after the pool's pre-ping) means the database is back."""
        event.listen(engine.pool, "checkout", lambda *_: self.up("database"))


def _brief(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"


def dependency_of(exc: BaseException) -> str | None:
    if isinstance(exc, REDIS_ERRORS):
        return "redis"
    if isinstance(exc, DATABASE_ERRORS):
        return "database"
    return None


def install(app: FastAPI, outages: Outages, wants_json, templates) -> None:
    """Register the 503 handlers. ``wants_json(request)`` tells protocol/API paths from pages."""

    async def unavailable(request: Request, exc: Exception) -> Response:
        name = dependency_of(exc) or "database"
        outages.down(name, exc)
        OUTAGES.labels(name).inc()
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
        if wants_json(request):
            return JSONResponse(
                {
                    "error": "temporarily_unavailable",
                    "error_description": "The service is temporarily unavailable; retry later.",
                },
                status_code=503,
                headers=headers,
            )
        page = templates.error_page(
            request,
            _("Service momentanément indisponible"),
            _("Le service ne peut pas répondre pour le moment. Réessayez dans quelques instants."),
            503,
        )
        page.headers.update(headers)
        return page

    for cls in (*DATABASE_ERRORS, *REDIS_ERRORS):
        app.add_exception_handler(cls, unavailable)
