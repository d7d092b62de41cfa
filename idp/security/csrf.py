"""CSRF protection: a signed double-submit cookie, with no server-side state.

OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit Cookie".
https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html

The browser holds a random value in the ``ec_csrf`` cookie (HttpOnly, SameSite=Lax); every form
carries ``csrf_token`` = base64url(HMAC-SHA256(key, value)). Another site can neither read the
cookie nor compute the HMAC, so it cannot forge a matching pair.

The HMAC key is derived from ``secret_key`` for this purpose only: the cookie value is chosen by
whoever holds the browser, and pages show its HMAC, so signing with ``secret_key`` itself would
hand out signatures that other features (signed cookies, pairwise subjects) might accept. Cookie
values must also look like ours (43 base64url characters), or a fresh one is issued.

Wiring::

    app.add_middleware(CsrfCookieMiddleware, settings=settings)
    app.add_exception_handler(CsrfError, csrf_error_handler(templates))
    # in a POST endpoint, with the form already read:
    verify_csrf(request, form.get("csrf_token"))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from idp.security import sealing
from idp.settings import Settings

if TYPE_CHECKING:
    from idp.web.templating import Templates

log = logging.getLogger("educonnect.security")

COOKIE_NAME = "ec_csrf"
FIELD_NAME = "csrf_token"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


class CsrfError(Exception):
    """The submitted form does not carry a token matching the browser's cookie."""


def derive_key(settings: Settings) -> bytes:
    return sealing.derive_key(settings.secrets["secret_key"], "csrf")


def _sign(key: bytes, value: str) -> str:
    digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _valid_cookie(value: str | None) -> str | None:
    return value if value and _COOKIE_VALUE.fullmatch(value) else None


def _key(request: Request) -> bytes:
    try:
        return request.state.csrf_key
    except AttributeError:
        raise RuntimeError("CsrfCookieMiddleware is not installed on this app") from None


def csrf_token(request: Request) -> str:
    """The token to put in this request's forms (the cookie is set if the browser has none)."""
    key = _key(request)
    request.state.csrf_used = True
    return _sign(key, request.state.csrf_secret)


def verify_csrf(request: Request, submitted: str | None) -> None:
    """Raise CsrfError unless ``submitted`` is the token for the cookie the browser sent."""
    key = _key(request)
    cookie = _valid_cookie(request.cookies.get(COOKIE_NAME))
    if cookie is None:
        raise CsrfError("no CSRF cookie")
    if not submitted:
        raise CsrfError("no CSRF token in the form")
    if not hmac.compare_digest(_sign(key, cookie).encode(), submitted.encode()):
        raise CsrfError("CSRF token does not match the cookie")


class CsrfCookieMiddleware:
    """Gives each request a CSRF secret: the browser's cookie, or a new one.

    The secret is in ``request.state.csrf_secret`` for pages rendered in the same request. A new
    cookie is sent only on responses that need it: when a token was computed, or on HTML pages.
    JSON and static responses (discovery, JWKS, tokens) stay free of Set-Cookie, which keeps
    them cacheable and keeps relying parties' back-channel calls clean.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.key = derive_key(settings)
        attributes = "; Path=/; HttpOnly; SameSite=Lax"
        self.attributes = attributes + ("; Secure" if settings.cookie_secure else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        existing = _valid_cookie(request.cookies.get(COOKIE_NAME))
        secret = existing or secrets.token_urlsafe(32)
        state = request.state
        state.csrf_secret = secret
        state.csrf_key = self.key
        state.csrf_used = False
        if existing:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                is_html = headers.get("content-type", "").startswith("text/html")
                if state.csrf_used or is_html:
                    headers.append("set-cookie", f"{COOKIE_NAME}={secret}{self.attributes}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def csrf_error_handler(
    templates: Templates,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """An exception handler for CsrfError: a French "page expired" page, status 403."""

    async def handle(request: Request, exc: Exception) -> Response:
        log.info("csrf refused: %s %s: %s", request.method, request.url.path, exc)
        return templates.render(request, "csrf_error.html", {"status_code": 403}, status_code=403)

    return handle


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form (first value of each field), after the CSRF check."""
    form = await request.form()
    verify_csrf(request, form.get(FIELD_NAME))
    return {key: str(value) for key, value in form.items()}
