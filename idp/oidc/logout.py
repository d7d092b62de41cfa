"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and ending SSO sessions.
https://openid.net/specs/openid-connect-rpinitiated-1_0.html

Ending a session revokes the grants issued under it, queues back-channel logout tokens for its
clients and, when the session came from FranceConnect, sends the browser there to log out too.
A ``post_logout_redirect_uri`` is only followed when registered for the identified client.
"""

from __future__ import annotations

from typing import Annotated

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.deps import Db, State
from idp.i18n import _
from idp.oidc import backchannel
from idp.oidc.authorize import current_session, decode_own_id_token
from idp.oidc.interaction import clear_session_cookie
from idp.oidc.models import Client
from idp.security.csrf import verify_csrf
from idp.security.stores import SessionData
from idp.state import AppState

router = APIRouter(tags=["OpenID Connect"])


def end_session(state: AppState, db: Session, session: SessionData) -> SessionData | None:
    """End a session everywhere (idempotent: only the first caller gets the session back)."""
    ended = state.stores.sessions.end(db, session.sid)
    if ended is None:
        return None
    state.tokens.revoke_session(db, ended.sid, "logout")
    backchannel.enqueue(state, db, ended)
    state.audit.record(
        db,
        "logout",
        actor_account_id=ended.account_id,
        detail={"sid": ended.sid, "clients": ended.clients},
    )
    return ended


class LogoutError(Exception):
    pass


def _resolve(state: AppState, db: Session, params: dict) -> tuple[Client | None, dict | None]:
    hint = params.get("id_token_hint")
    claims = decode_own_id_token(state, hint) if hint else None
    if hint and claims is None:
        raise LogoutError(_("Le jeton fourni par le service n'est pas valide."))
    client_id = params.get("client_id")
    if claims is not None:
        aud = claims.get("aud")
        hinted = aud if isinstance(aud, str) else (aud[0] if aud else None)
        if client_id and client_id != hinted:
            raise LogoutError(_("La demande de déconnexion est incohérente."))
        client_id = hinted
    client = db.get(Client, client_id) if client_id else None
    if client_id and client is None:
        raise LogoutError(_("Le service qui vous a envoyé ici n'est pas reconnu."))
    target = params.get("post_logout_redirect_uri")
    if target and (client is None or target not in client.post_logout_redirect_uris):
        raise LogoutError(_("L'adresse de retour demandée par le service n'est pas autorisée."))
    return client, claims


async def _logout_params(request: Request) -> dict[str, str]:
    if request.method == "POST":
        form = await request.form()
        params = {k: str(v) for k, v in form.items() if v != ""}
        if params.get("decision"):
            verify_csrf(request, params.get("csrf_token"))
        return params
    return {k: v for k, v in request.query_params.items() if v != ""}


LogoutParams = Annotated[dict[str, str], Depends(_logout_params)]


@router.get("/logout", operation_id="end_session", response_class=Response)
@router.post("/logout", operation_id="end_session_post", response_class=Response)
def end_session_endpoint(request: Request, state: State, db: Db, params: LogoutParams) -> Response:
    """End-session endpoint: ``id_token_hint``, ``post_logout_redirect_uri``, ``state``,
    ``client_id``, ``logout_hint``, ``ui_locales``."""
    return _logout(state, db, request, params)


def _logout(state: AppState, db: Session, request: Request, params: dict) -> Response:
    try:
        client, claims = _resolve(state, db, params)
    except LogoutError as exc:
        return state.templates.error_page(request, _("Déconnexion impossible"), str(exc), 400)
    found = current_session(state, db, request)
    session = found[0] if found else None
    if session is not None and params.get("decision") == "cancel":
        return state.templates.render(
            request,
            "message.html",
            {
                "title": _("Vous êtes toujours connecté"),
                "message": _("Vous n'avez pas été déconnecté."),
                "links": [],
            },
        )
    if session is not None:
        confirmed = params.get("decision") == "logout" and request.method == "POST"
        hinted_here = claims is not None and claims.get("sid") == session.sid
        if not (confirmed or hinted_here):
            return _confirm_page(state, request, client, params)
        ended = end_session(state, db, session)
        upstream = (ended.upstream or {}) if ended else {}
    else:
        upstream = {}
    target = params.get("post_logout_redirect_uri")
    if target:
        final = (
            add_params_to_uri(target, [("state", params["state"])])
            if params.get("state")
            else target
        )
    else:
        final = "/deconnexion"
    response: Response = RedirectResponse(
        upstream_logout_url(state, upstream, final) or final, status_code=303
    )
    clear_session_cookie(response, state.settings)
    return response


def upstream_logout_url(state: AppState, upstream: dict, final: str) -> str | None:
    """Where to send the browser so the upstream provider (FranceConnect) logs out too."""
    hook = state.upstream_logout
    return hook(upstream, final) if hook and upstream else None


def _confirm_page(
    state: AppState, request: Request, client: Client | None, params: dict
) -> Response:
    hidden = {
        k: v for k, v in params.items() if k in ("post_logout_redirect_uri", "state", "client_id")
    }
    if client is not None:
        hidden["client_id"] = client.client_id
    return state.templates.render(
        request,
        "logout_confirm.html",
        {"client_name": client.name if client else None, "action": "/logout", "hidden": hidden},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/deconnexion", include_in_schema=False)
def logged_out(request: Request, state: State) -> Response:
    return state.templates.render(
        request,
        "message.html",
        {
            "title": _("Vous êtes déconnecté"),
            "message": _(
                "Vous êtes déconnecté d'ÉduConnect et des services auxquels vous aviez accédé."
            ),
            "links": [(_("Se connecter à nouveau"), "/login")],
        },
    )
