"""The authorization endpoint (OIDC Core §3.1.2) and how a pending request resumes after the
hosted login and consent pages.

Authlib validates the request (client, exact redirect URI, response type, scope, PKCE, nonce,
prompt syntax); then these steps run in order, each small:

    check_session → check_id_token_hint → check_prompt_login → check_max_age
                  → check_consent → issue the code

An error that may be redirected goes to the registered redirect URI with ``state`` and ``iss``
(RFC 9207); any other shows a French error page and never redirects.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import Account
from idp.accounts.steps import required_step
from idp.db import bound
from idp.i18n import _
from idp.oidc.claims import SCOPE_DESCRIPTIONS
from idp.oidc.interaction import Pending, session_token
from idp.oidc.models import Client, Consent
from idp.oidc.server import OAuthRequest
from idp.security.stores import SessionData
from idp.state import AppState

#: French explanations for errors shown on our own page (never redirected).
PAGE_MESSAGES = {
    "invalid_client": _("Le service qui vous a envoyé ici n'est pas reconnu."),
    "invalid_request": _("La demande de connexion envoyée par le service est incorrecte."),
}


class NeedsLogin(Exception):
    pass


def current_session(
    state: AppState, db: Session, request: Request, token: str | None = None
) -> tuple[SessionData, Account] | None:
    """The SSO session of the request's cookie (or of a token just issued) and its account."""
    token = token or session_token(request)
    if not token:
        return None
    data = state.stores.sessions.get(db, token)
    if data is None:
        return None
    account = db.get(Account, data.account_id)
    if account is None or not account.can_log_in:
        return None
    return data, account


def authorize(
    state: AppState, db: Session, request: Request, pending: Pending, token: str | None = None
) -> Response:
    """Run (or resume) an authorization request in the request's transaction.
    ``token`` is a session opened by this very request (its cookie is not sent back yet)."""
    if pending.extra.get("resume"):
        return resume_elsewhere(state, pending)
    with bound(db):
        req = OAuthRequest(request, params=pending.params)
        found = current_session(state, db, request, token)
        session, account = found if found else (None, None)
        try:
            grant = state.server.get_consent_grant(req, end_user=account)
            prompts = set(req.payload.data.get("prompt", "").split())
            client: Client = req.client
            check_unsupported(req)
            try:
                check_id_token_hint(state, req, client, session)
                check_prompt_login(prompts, pending, session)
                check_max_age(state, req, pending, session)
                if session is None:
                    raise NeedsLogin
            except NeedsLogin:
                if "none" in prompts:
                    raise LoginRequiredError(redirect_uri=req.payload.redirect_uri) from None
                return login_redirect(state, pending)
            step = required_step(account, session)
            if step:
                # Activation or a forced password change comes before any service.
                if "none" in prompts:
                    raise LoginRequiredError(redirect_uri=req.payload.redirect_uri)
                return RedirectResponse(
                    f"{step}?" + urlencode({"auth": state.interactions.seal(pending)}),
                    status_code=303,
                )
            if needs_consent(db, client, account, req.scope, prompts, pending):
                if "none" in prompts:
                    raise ConsentRequiredError(redirect_uri=req.payload.redirect_uri)
                return consent_page(state, request, client, req.scope, pending)
            req.auth_context = session
            response = state.server.create_authorization_response(
                req, grant_user=account, grant=grant
            )
            add_issuer(state, response)
            state.stores.sessions.add_client(db, session.sid, client.client_id)
            state.audit.record(
                db, "authorization.granted", actor_account_id=account.id, client_id=client.client_id
            )
            return response
        except OAuth2Error as error:
            error.state = req.payload.state
            return error_response(state, request, error)


def resume_elsewhere(state: AppState, pending: Pending) -> Response:
    """A pending request of another protocol (SAML) names the local path that resumes it; the
    hosted pages, which end here, send it back there."""
    target = str(pending.extra["resume"])
    if not target.startswith("/") or target.startswith("//"):
        raise ValueError("resume must be a local path")
    query = urlencode({"auth": state.interactions.seal(pending)})
    return RedirectResponse(f"{target}?{query}", status_code=303)


class _NotSupported(OAuth2Error):
    pass


def check_unsupported(req: OAuthRequest) -> None:
    """OIDC Core §6: request objects are not supported and must not be silently ignored."""
    data = req.payload.data
    for param, error in (
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
        ("registration", "registration_not_supported"),
    ):
        if param in data:
            raise _NotSupported(error=error, redirect_uri=req.payload.redirect_uri)
    if data.get("response_mode", "query") != "query":
        from authlib.oauth2.rfc6749 import InvalidRequestError

        raise InvalidRequestError(
            "Only 'response_mode=query' is supported.", redirect_uri=req.payload.redirect_uri
        )


def add_issuer(state: AppState, response: Response) -> None:
    """RFC 9207 §2: every authorization response names its issuer."""
    location = response.headers.get("location")
    if location:
        response.headers["location"] = add_params_to_uri(
            location, [("iss", state.settings.issuer_url)]
        )


def check_id_token_hint(
    state: AppState, req: OAuthRequest, client: Client, session: SessionData | None
) -> None:
    """OIDC Core §3.1.2.1: the hint names who should be logged in; someone else means log in."""
    hint = req.payload.data.get("id_token_hint")
    if not hint:
        return
    claims = decode_own_id_token(state, hint)
    if claims is None:
        from authlib.oauth2.rfc6749 import InvalidRequestError

        raise InvalidRequestError("Invalid 'id_token_hint'.", redirect_uri=req.payload.redirect_uri)
    if session is None or claims.get("sub") != state.tokens.subject(client, session.account_id):
        raise NeedsLogin


def decode_own_id_token(state: AppState, token: str) -> dict | None:
    """An ID token we issued (signature and issuer; an expired one is still a valid hint)."""
    try:
        decoded = jwt.decode(token, state.keys.public_keys(), algorithms=["ES256", "RS256"])
    except (JoseError, ValueError, TypeError):
        return None
    if decoded.claims.get("iss") != state.settings.issuer_url:
        return None
    return decoded.claims


def check_prompt_login(prompts: set[str], pending: Pending, session: SessionData | None) -> None:
    if "login" in prompts and not _fresh(pending, session):
        raise NeedsLogin


def check_max_age(
    state: AppState, req: OAuthRequest, pending: Pending, session: SessionData | None
) -> None:
    raw = req.payload.data.get("max_age")
    if raw is None or session is None or _fresh(pending, session):
        return
    try:
        max_age = int(raw)
    except ValueError:
        from authlib.oauth2.rfc6749 import InvalidRequestError

        raise InvalidRequestError(
            "Invalid 'max_age'.", redirect_uri=req.payload.redirect_uri
        ) from None
    if state.clock.timestamp() - session.auth_time > max_age:
        raise NeedsLogin


def _fresh(pending: Pending, session: SessionData | None) -> bool:
    return (
        session is not None
        and pending.login_at is not None
        and session.auth_time >= pending.login_at
    )


def needs_consent(
    db: Session, client: Client, account: Account, scope: str, prompts: set[str], pending: Pending
) -> bool:
    if client.first_party or pending.consented:
        return False
    if "consent" in prompts:
        return True
    consent = db.scalar(
        select(Consent).where(
            Consent.account_id == account.id, Consent.client_id == client.client_id
        )
    )
    return consent is None or not set(scope.split()) <= set(consent.scopes)


def record_consent(
    state: AppState, db: Session, account_id: str, client_id: str, scope: str
) -> None:
    consent = db.scalar(
        select(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id)
    )
    scopes = set(scope.split())
    if consent is None:
        db.add(
            Consent(
                account_id=account_id,
                client_id=client_id,
                scopes=sorted(scopes),
                granted_at=state.clock.now(),
            )
        )
    else:
        consent.scopes = sorted(scopes | set(consent.scopes))
        consent.granted_at = state.clock.now()
    state.audit.record(
        db,
        "consent.granted",
        actor_account_id=account_id,
        client_id=client_id,
        detail={"scope": sorted(scopes)},
    )


def login_redirect(state: AppState, pending: Pending) -> Response:
    return RedirectResponse(
        "/login?" + urlencode({"auth": state.interactions.seal(pending)}), status_code=303
    )


def consent_page(
    state: AppState, request: Request, client: Client, scope: str, pending: Pending
) -> Response:
    scopes = [(s, SCOPE_DESCRIPTIONS[s]) for s in scope.split() if s in SCOPE_DESCRIPTIONS]
    return state.templates.render(
        request,
        "consent.html",
        {
            "client_name": client.name,
            "scopes": scopes,
            "action": "/consent",
            "hidden": {"auth": state.interactions.seal(pending)},
        },
        headers={"Cache-Control": "no-store"},
    )


def error_response(state: AppState, request: Request, error: OAuth2Error) -> Response:
    """Redirect only to a redirect URI that Authlib validated against the client."""
    if error.redirect_uri:
        params = [("error", error.error)]
        if error.description:
            params.append(("error_description", error.description))
        if error.state:
            params.append(("state", error.state))
        params.append(("iss", state.settings.issuer_url))
        return RedirectResponse(add_params_to_uri(error.redirect_uri, params), status_code=302)
    message = PAGE_MESSAGES.get(error.error, PAGE_MESSAGES["invalid_request"])
    if error.description:
        message = f"{message} ({error.description})"
    return state.templates.error_page(request, _("Connexion impossible"), message, status_code=400)


def deny(state: AppState, db: Session, request: Request, pending: Pending) -> Response:
    """The person refused: ``access_denied`` to the (validated) redirect URI."""
    with bound(db):
        req = OAuthRequest(request, params=pending.params)
        try:
            state.server.get_consent_grant(req, end_user=None)
        except OAuth2Error as error:
            error.state = req.payload.state
            return error_response(state, request, error)
        from authlib.oauth2.rfc6749 import AccessDeniedError

        error = AccessDeniedError(redirect_uri=req.payload.redirect_uri)
        error.state = req.payload.state
        return error_response(state, request, error)


def params_from(values: Mapping[str, str]) -> dict[str, str]:
    """First value of each parameter; empty values are treated as absent (OIDC Core §3.1.2.1)."""
    return {k: v for k, v in values.items() if v != ""}


def now() -> int:
    return int(time.time())
