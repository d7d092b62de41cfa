"""Short-lived sealed values for the FranceConnect journey: encrypted and authenticated.

The login ``state``/``nonce``, the identity waiting to be linked and the logout destination
travel through the browser (HttpOnly cookies, or FranceConnect's ``state`` parameter) instead of
server rows, so any instance behind the load balancer can continue the journey. They are JWE
(``dir`` + ``A256GCM``, RFC 7516) rather than signed only: the pending identity holds personal
data (names, e-mail, the FranceConnect ID token) that must not be readable where it travels.

Each purpose has its own key (derived from the server secret), so a value sealed for one step
can never be replayed as another.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from starlette.responses import Response

from idp.settings import Settings

_ALGORITHMS = ["dir", "A256GCM"]
_MAX_LENGTH = 8192

#: Purposes, and the cookie each one travels in (``None``: not a cookie).
LOGIN = "fc-login"
LINK = "fc-link"
LOGOUT = "fc-logout"
COOKIES = {LOGIN: "ec_fc_login", LINK: "ec_fc_link"}
COOKIE_PATH = "/franceconnect"


class Sealer:
    def __init__(self, settings: Settings) -> None:
        secret = settings.secrets["secret_key"].encode()
        self._keys = {
            purpose: OctKey.import_key(
                hmac.new(secret, f"educonnect/{purpose}/v1".encode(), hashlib.sha256).digest()
            )
            for purpose in (LOGIN, LINK, LOGOUT)
        }

    def seal(self, purpose: str, data: dict[str, Any], ttl: int) -> str:
        payload = json.dumps({"d": data, "exp": int(time.time()) + ttl}).encode()
        header = {"alg": "dir", "enc": "A256GCM"}
        return jwe.encrypt_compact(header, payload, self._keys[purpose], algorithms=_ALGORITHMS)

    def open(self, purpose: str, sealed: str | None) -> dict[str, Any] | None:
        """The data, or None when missing, tampered with, sealed for another purpose or expired."""
        if not sealed or len(sealed) > _MAX_LENGTH:
            return None
        try:
            plain = jwe.decrypt_compact(sealed, self._keys[purpose], algorithms=_ALGORITHMS)
            payload = json.loads(plain.plaintext or b"")
        except (JoseError, ValueError, TypeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("d"), dict):
            return None
        if not isinstance(payload.get("exp"), int) or payload["exp"] <= time.time():
            return None
        return payload["d"]


def set_cookie(response: Response, settings: Settings, purpose: str, value: str, ttl: int) -> None:
    response.set_cookie(
        COOKIES[purpose],
        value,
        max_age=ttl,
        httponly=True,
        secure=settings.cookie_secure,
        # Lax: the cookie must come back on FranceConnect's top-level redirect to our callback.
        samesite="lax",
        path=COOKIE_PATH,
    )


def clear_cookie(response: Response, settings: Settings, purpose: str) -> None:
    response.delete_cookie(
        COOKIES[purpose],
        path=COOKIE_PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
