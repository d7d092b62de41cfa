"""What carries an authorization request through the hosted pages, and the SSO cookie.

The pending request travels as a short-lived signed token (JWS, HS256 with a key derived from the
server secret) in a hidden field or the login page URL: no server state, and a tampered or
expired one is refused. It records whether a fresh login or a consent happened on the way, so
``prompt=login``/``max_age`` and ``prompt=consent`` are satisfied exactly once.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from starlette.requests import Request
from starlette.responses import Response

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
    def __init__(self, settings: Settings) -> None:
        raw = hashlib.sha256((settings.secrets["secret_key"] + "/interaction").encode()).digest()
        self._key = OctKey.import_key(raw)
        self._settings = settings

    def seal(self, pending: Pending) -> str:
        now = int(time.time())
        claims = {
            "p": pending.params,
            "la": pending.login_at,
            "c": pending.consented,
            "x": pending.extra,
            "iat": now,
            "exp": now + _LIFETIME,
        }
        return jwt.encode({"alg": "HS256"}, claims, self._key)

    def open(self, sealed: str | None) -> Pending | None:
        if not sealed or len(sealed) > 16384:
            return None
        try:
            token = jwt.decode(sealed, self._key, algorithms=["HS256"])
            jwt.JWTClaimsRegistry(exp={"essential": True}).validate(token.claims)
        except (JoseError, ValueError, TypeError):
            return None
        c = token.claims
        if not isinstance(c.get("p"), dict):
            return None
        return Pending(
            params=c["p"], login_at=c.get("la"), consented=bool(c.get("c")), extra=c.get("x") or {}
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
