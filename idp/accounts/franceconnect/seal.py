"""Short-lived sealed values for the FranceConnect journey: encrypted and authenticated.

The login ``state``/``nonce``, the identity waiting to be linked and the logout destination
travel through the browser (HttpOnly cookies, or FranceConnect's ``state`` parameter) instead of
server rows, so any instance behind the load balancer can continue the journey. They are sealed
(``idp.security.sealing``: encrypted, not only signed): the pending identity holds personal data
(names, e-mail, the FranceConnect ID token) that must not be readable where it travels. Each
purpose has its own key, so a value sealed for one step can never be replayed as another.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from idp.security.sealing import Seals
from idp.settings import Settings

#: Purposes, and the cookie each one travels in (``None``: not a cookie).
LOGIN = "fc-login"
LINK = "fc-link"
LOGOUT = "fc-logout"
COOKIES = {LOGIN: "ec_fc_login", LINK: "ec_fc_link"}
COOKIE_PATH = "/franceconnect"


class Sealer:
    """The FranceConnect journey's purposes over the app's browser seals."""

    def __init__(self, seals: Seals) -> None:
        self._seals = seals

    def seal(self, purpose: str, data: dict[str, Any], ttl: int) -> str:
        return self._seals.browser(purpose).seal(data, ttl)

    def open(self, purpose: str, sealed: str | None) -> dict[str, Any] | None:
        """The data, or None when missing, tampered with, sealed for another purpose or expired."""
        return self._seals.browser(purpose).open(sealed)


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
