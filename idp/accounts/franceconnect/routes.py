"""Logging in with FranceConnect (DESIGN.md §4.4) and logging out of it (§4.7).

    /franceconnect/login?auth=…  state + nonce sealed in a short-lived cookie → FranceConnect
    /franceconnect/callback      the connector checks state, code, ID token (signature, nonce),
                                 signed userinfo → linked subject: session, resume the request;
                                 first time: match the registry (franceconnect_link_routes)
    /logout (idp.oidc.logout)    → upstream_logout → FC /api/v2/session/end
    /franceconnect/logout-callback  the sealed ``state`` gives where to go next

Every failure ends on a French page and opens no session. The login cookie is single use: it is
cleared by the callback whatever happens, so a replayed callback finds no state to match.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from federation.connector import FranceConnectError, FranceConnectIdentity
from federation.franceconnect import FranceConnectConnector
from idp.accounts.franceconnect import link_routes as franceconnect_link_routes
from idp.accounts.franceconnect import seal
from idp.accounts.franceconnect.link import LinkRefused, admit, linked_account
from idp.accounts.franceconnect.match import find_candidates
from idp.accounts.login.steps import required_step
from idp.accounts.models import Account
from idp.accounts.sessions import ACR_FRANCECONNECT, open_session
from idp.deps import State, client_ip
from idp.oidc.authorize import authorize, current_session
from idp.oidc.interaction import set_session_cookie
from idp.oidc.logout import end_session
from idp.state import AppState

log = logging.getLogger("educonnect.franceconnect")

router = APIRouter(include_in_schema=False)
router.include_router(franceconnect_link_routes.router)

#: How long the browser may spend at FranceConnect, and logging out of it.
LOGIN_TTL = 15 * 60
LOGOUT_TTL = 15 * 60

EXPIRED_REQUEST = "La demande de connexion a expiré. Retournez sur le service et recommencez."
LOGOUT_UNVERIFIED = (
    "Vous êtes déconnecté d'ÉduConnect, mais le retour de FranceConnect n'a pas pu être vérifié."
)


def sealer(state: AppState) -> seal.Sealer:
    return seal.Sealer(state.seals)


def connector(state: AppState) -> FranceConnectConnector | None:
    """The configured connector (None when FranceConnect is off). Also registers the logout
    hook, in case ``create_app`` has not."""
    from idp.accounts.franceconnect.wiring import franceconnect_connector, wire_franceconnect

    wire_franceconnect(state)
    return franceconnect_connector(state)


def failed_page(
    state: AppState, request: Request, message: str, auth: str | None, status: int = 400
) -> Response:
    query = f"?{urlencode({'auth': auth})}" if auth else ""
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


@router.get("/franceconnect/login")
def franceconnect_login(request: Request, state: State, auth: str | None = None) -> Response:
    fc = connector(state)
    if fc is None:
        return state.templates.error_page(
            request, "Page introuvable", "FranceConnect n'est pas proposé ici.", 404
        )
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
def franceconnect_callback(request: Request, state: State) -> Response:
    fc = connector(state)
    if fc is None:
        return state.templates.error_page(
            request, "Page introuvable", "FranceConnect n'est pas proposé ici.", 404
        )
    started = sealer(state).open(seal.LOGIN, request.cookies.get(seal.COOKIES[seal.LOGIN])) or {}
    auth = started.get("a") if isinstance(started.get("a"), str) else None
    try:
        identity = fc.handle_callback(
            dict(request.query_params), str(started.get("s", "")), str(started.get("n", ""))
        )
    except FranceConnectError as error:
        log.warning("franceconnect callback refused: %s", error)
        with state.uow() as db:
            state.audit.record(
                db, "franceconnect.failed", ip=client_ip(request), detail={"code": error.code}
            )
        response = failed_page(state, request, error.message, auth)
    else:
        response = _after_identity(state, request, identity, auth)
    seal.clear_cookie(response, state.settings, seal.LOGIN)
    return response


def _after_identity(
    state: AppState, request: Request, identity: FranceConnectIdentity, auth: str | None
) -> Response:
    with state.uow() as db:
        account = linked_account(db, identity.sub)
        if account is None:
            candidates = find_candidates(db, identity)
            if not candidates:
                state.audit.record(db, "franceconnect.unknown", ip=client_ip(request))
                return _unknown_page(state, request, identity, auth)
            return franceconnect_link_routes.start_link(state, request, identity, candidates, auth)
        try:
            admit(state, db, account, identity.sub)
        except LinkRefused as refused:
            return failed_page(state, request, refused.message, auth, 403)
        state.audit.record(
            db, "franceconnect.login", actor_account_id=account.id, ip=client_ip(request)
        )
    return sign_in(state, request, account.id, identity.id_token, auth, amr=["fc"])


def sign_in(
    state: AppState,
    request: Request,
    account_id: str,
    id_token: str,
    auth: str | None,
    amr: list[str],
) -> Response:
    """Open the session (replacing any other in this browser) and resume the pending request."""
    with state.uow() as db:
        account = db.get(Account, account_id)
        previous = current_session(state, db, request)
        if previous is not None:
            end_session(state, db, previous[0])
        token, session = open_session(
            state,
            db,
            request,
            account,
            amr=amr,
            acr=ACR_FRANCECONNECT,
            upstream={"franceconnect_id_token": id_token},
        )
        step = required_step(account)
    pending = state.interactions.open(auth)
    if step:
        query = f"?{urlencode({'auth': auth})}" if pending else ""
        response: Response = RedirectResponse(step + query, status_code=303)
    elif pending is not None:
        pending.login_at = session.auth_time
        with state.uow() as db:
            response = authorize(state, db, request, pending, token)
    else:
        response = RedirectResponse("/compte", status_code=303)
    set_session_cookie(response, state.settings, token)
    return response


def _unknown_page(
    state: AppState, request: Request, identity: FranceConnectIdentity, auth: str | None
) -> Response:
    query = f"?{urlencode({'auth': auth})}" if auth else ""
    return state.templates.render(
        request,
        "franceconnect/unknown.html",
        {
            "name": f"{identity.given_name or ''} {identity.family_name or ''}".strip(),
            "login_url": f"/login{query}",
            "register_url": "/inscription",
        },
    )


# -- logout --------------------------------------------------------------------------------------
def upstream_logout(state: AppState, upstream: dict, final_url: str) -> str | None:
    """``state.extras["upstream_logout"]``: FranceConnect's logout URL for an ended session."""
    id_token = upstream.get("franceconnect_id_token")
    fc = connector(state)
    if not id_token or fc is None:
        return None
    sealed = sealer(state).seal(seal.LOGOUT, {"f": final_url}, LOGOUT_TTL)
    try:
        return fc.logout_url(id_token, sealed)
    except FranceConnectError as error:
        # FranceConnect unreachable: the local logout still happened; do not strand the person.
        log.warning("franceconnect logout skipped: %s", error)
        return None


@router.get("/franceconnect/logout-callback")
def franceconnect_logout_callback(request: Request, state: State) -> Response:
    data = sealer(state).open(seal.LOGOUT, request.query_params.get("state"))
    final = data.get("f") if data else None
    if not isinstance(final, str) or not _safe_target(final):
        return state.templates.error_page(
            request, "Déconnexion", LOGOUT_UNVERIFIED, 400, back_url="/login"
        )
    return RedirectResponse(final, status_code=303)


def _safe_target(url: str) -> bool:
    """Sealed by us from a validated redirect URI; still refuse anything but http(s) or a path."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return url.startswith("/") and not url.startswith("//")
    return parts.scheme in ("http", "https") and bool(parts.netloc)
