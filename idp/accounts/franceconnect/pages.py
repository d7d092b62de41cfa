"""The pages a FranceConnect journey ends on when it does not sign the person in."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from federation.connector import FranceConnectIdentity
from idp.i18n import _
from idp.state import AppState


def _carry(auth: str | None) -> str:
    return f"?{urlencode({'auth': auth})}" if auth else ""


def not_offered(state: AppState, request: Request) -> Response:
    return state.templates.error_page(
        request, _("Page introuvable"), _("FranceConnect n'est pas proposé ici."), 404
    )


def failed_page(
    state: AppState, request: Request, message: str, auth: str | None, status: int = 400
) -> Response:
    """A French explanation, with a retry and a way back to the login form."""
    query = _carry(auth)
    return state.templates.render(
        request,
        "franceconnect/failed.html",
        {
            "message": message,
            "retry_url": f"/franceconnect/login{query}",
            "login_url": f"/login{query}",
            "status_code": status,
        },
        status_code=status,
    )


def unknown_page(
    state: AppState, request: Request, identity: FranceConnectIdentity, auth: str | None
) -> Response:
    """No registry record carries this identity's names."""
    return state.templates.render(
        request,
        "franceconnect/unknown.html",
        {
            "name": f"{identity.given_name or ''} {identity.family_name or ''}".strip(),
            "login_url": f"/login{_carry(auth)}",
            "register_url": "/inscription",
        },
    )
