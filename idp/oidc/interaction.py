"""What carries an authorization request through the hosted pages, and the SSO cookie.

The pending request travels as a short-lived sealed value (``idp.security.sealing``: encrypted
and authenticated) in a hidden field or the login page URL: no server state, and a tampered or
expired one is refused. It records whether a fresh login or a consent happened on the way, so
``prompt=login``/``max_age`` and ``prompt=consent`` are satisfied exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from idp.security.sealing import BrowserSeal
from idp.settings import Settings

SESSION_COOKIE = "ec_session"
_LIFETIME = 30 * 60


@dataclass
class Pending:
    params: dict[str, str]
    login_at: int | None = None  # auth_time of a login done for this very request
    consented: bool = False
    extra: dict = field(default_factory=dict)


class Interactions:
    def __init__(self, seal: BrowserSeal) -> None:
        self._seal = seal

    def seal(self, pending: Pending) -> str:
        data = {"p": pending.params, "la": pending.login_at, "c": pending.consented}
        if pending.extra:
            data["x"] = pending.extra
        return self._seal.seal(data, _LIFETIME)

    def open(self, sealed: str | None) -> Pending | None:
        data = self._seal.open(sealed)
        if data is None or not isinstance(data.get("p"), dict):
            return None
        login_at = data.get("la") if isinstance(data.get("la"), int) else None
        extra = data.get("x") if isinstance(data.get("x"), dict) else {}
        return Pending(
            params=data["p"], login_at=login_at, consented=bool(data.get("c")), extra=extra
        )


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
    )
