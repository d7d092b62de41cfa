"""One pure-ASGI middleware per request: request id, access log line, latency histogram.

Cheap on purpose (token and introspection are the hot paths): a perf counter, three context
variables, one histogram observation and one log line; no body is read.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
import uuid
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idp.observability import logs
from idp.observability.metrics import REQUESTS

access = logging.getLogger("educonnect.access")

#: A caller's id is echoed only if it is short and plain (it lands in logs and headers).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _route(scope: Scope) -> str:
    """The route template (``/admin/people/{kind}/{person_id}``), never the raw path: bounded
    label values, and no token that a path may carry. Mounted apps are prefixed by their mount."""
    prefix = scope.get("root_path", "")
    if (route := scope.get("route")) is not None and hasattr(route, "path"):
        return prefix + route.path
    if scope.get("endpoint") is not None:  # a mounted app without routes (static files)
        return prefix + "/{path}"
    return "unmatched"


def _client_id(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
    """The OAuth client, when the request names it without reading the body: ``client_id``
    in the query (authorization, logout) or HTTP Basic credentials (token endpoint)."""
    auth = headers.get(b"authorization", b"")
    if auth[:6].lower() == b"basic ":
        try:
            user = base64.b64decode(auth[6:], validate=True).split(b":", 1)[0]
            return user.decode("utf-8")[:64] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    query = scope.get("query_string", b"")
    if b"client_id=" in query:
        values = parse_qs(query.decode("latin-1")).get("client_id")
        return values[0][:64] if values else None
    return None


class RequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        tokens = (
            logs.request_id.set(rid),
            logs.client_id.set(_client_id(scope, headers)),
            logs.route.set(None),
        )
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - start
            route = _route(scope)
            logs.route.set(route)
            REQUESTS.labels(route, scope["method"], str(status)).observe(duration)
            access.info(
                "%s %s %s %.1f ms",
                scope["method"],
                route,
                status,
                duration * 1000,
                extra={
                    "method": scope["method"],
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "client_ip": (scope.get("client") or ("unknown",))[0],
                },
            )
            for var, token in zip(
                (logs.request_id, logs.client_id, logs.route), tokens, strict=True
            ):
                var.reset(token)
