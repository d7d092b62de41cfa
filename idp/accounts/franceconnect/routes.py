"""Logging in with FranceConnect (DESIGN.md §4.4) and logging out of it (§4.7).

    /franceconnect/login?auth=…  state + nonce sealed in a short-lived cookie → FranceConnect
    /franceconnect/callback      the connector checks state, code, ID token (signature, nonce),
                                 signed userinfo → linked subject: session, resume the request;
                                 first time: match the registry (``link_routes``)
    /logout (idp.oidc.logout)    → ``wiring.upstream_logout`` → FC /api/v2/session/end
    /franceconnect/logout-callback  the sealed ``state`` gives where to go next

Every failure ends on a French page and opens no session. The login cookie is single use: it is
cleared by the callback whatever happens, so a replayed callback finds no state to match.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from federation.connector import FranceConnectError, FranceConnectIdentity
from idp.accounts.franceconnect import link_routes, seal
from idp.accounts.franceconnect.link import LinkRefused, admit, linked_account
from idp.accounts.franceconnect.match import find_candidates
from idp.accounts.franceconnect.pages import failed_page, not_offered, unknown_page
from idp.accounts.franceconnect.wiring import connector, sealer
from idp.accounts.sessions import ACR_FRANCECONNECT, sign_in
from idp.deps import Db, State, client_ip
from idp.i18n import _
from idp.state import AppState

log = logging.getLogger("educonnect.franceconnect")

router = APIRouter(include_in_schema=False)
router.include_router(link_routes.router)

#: How long the browser may spend at FranceConnect.
LOGIN_TTL = 15 * 60

EXPIRED_REQUEST = _("La demande de connexion a expiré. Retournez sur le service et recommencez.")
LOGOUT_UNVERIFIED = _(
    "Vous êtes déconnecté d'ÉduConnect, mais le retour de FranceConnect n'a pas pu être vérifié."
)


@router.get("/franceconnect/login")
def franceconnect_login(request: Request, state: State, auth: str | None = None) -> Response:
    fc = connector(state)
    if fc is None:
        return not_offered(state, request)
    if auth and state.interactions.open(auth) is None:
        return failed_page(state, request, EXPIRED_REQUEST, None)
    fc_state, nonce = fc.new_state_and_nonce()
    try:
        url = fc.login_url(fc_state, nonce)
    except FranceConnectError as error:
        log.warning("franceconnect login: %s", error)
        return failed_page(state, request, error.message, auth, 503)
    response = RedirectResponse(url, status_code=303)
    sealed = sealer(state).seal(seal.LOGIN, {"s": fc_state, "n": nonce, "a": auth}, LOGIN_TTL)
    seal.set_cookie(response, state.settings, seal.LOGIN, sealed, LOGIN_TTL)
    return response


@router.get("/franceconnect/callback")
def franceconnect_callback(request: Request, state: State, db: Db) -> Response:
    fc = connector(state)
    if fc is None:
        return not_offered(state, request)
    started = sealer(state).open(seal.LOGIN, request.cookies.get(seal.COOKIES[seal.LOGIN])) or {}
    auth = started.get("a") if isinstance(started.get("a"), str) else None
    try:
        # FranceConnect's token, keys and userinfo over HTTP, before this request first uses
        # ``db``: no transaction or pooled connection is held while FranceConnect answers.
        identity = fc.handle_callback(
            dict(request.query_params), str(started.get("s", "")), str(started.get("n", ""))
        )
    except FranceConnectError as error:
        log.warning("franceconnect callback refused: %s", error)
        state.audit.record(
            db, "franceconnect.failed", ip=client_ip(request), detail={"code": error.code}
        )
        response = failed_page(state, request, error.message, auth)
    else:
        response = _after_identity(state, db, request, identity, auth)
    seal.clear_cookie(response, state.settings, seal.LOGIN)
    return response


def _after_identity(
    state: AppState,
    db: Session,
    request: Request,
    identity: FranceConnectIdentity,
    auth: str | None,
) -> Response:
    account = linked_account(db, identity.sub)
    if account is None:
        candidates = find_candidates(db, identity)
        if not candidates:
            state.audit.record(db, "franceconnect.unknown", ip=client_ip(request))
            return unknown_page(state, request, identity, auth)
        return link_routes.start_link(state, request, identity, candidates, auth)
    try:
        admit(state, db, account, identity.sub)
    except LinkRefused as refused:
        return failed_page(state, request, refused.message, auth, 403)
    state.audit.record(
        db, "franceconnect.login", actor_account_id=account.id, ip=client_ip(request)
    )
    upstream = {"franceconnect_id_token": identity.id_token}
    return sign_in(
        state, db, request, account, auth, amr=["fc"], acr=ACR_FRANCECONNECT, upstream=upstream
    )


@router.get("/franceconnect/logout-callback")
def franceconnect_logout_callback(request: Request, state: State) -> Response:
    data = sealer(state).open(seal.LOGOUT, request.query_params.get("state"))
    final = data.get("f") if data else None
    if not isinstance(final, str) or not _safe_target(final):
        return state.templates.error_page(
            request, _("Déconnexion"), LOGOUT_UNVERIFIED, 400, back_url="/login"
        )
    return RedirectResponse(final, status_code=303)


def _safe_target(url: str) -> bool:
    """Sealed by us from a validated redirect URI; still refuse anything but http(s) or a path."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return url.startswith("/") and not url.startswith("//")
    return parts.scheme in ("http", "https") and bool(parts.netloc)
