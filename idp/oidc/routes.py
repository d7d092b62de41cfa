"""OIDC endpoints: discovery, JWKS, authorization, token, userinfo, introspection, revocation.

Route functions only translate HTTP. They are plain ``def`` (run in the thread pool, where the
synchronous Authlib server and the database do the work); what must be awaited, the form, is
read by the ``OAuthForm`` dependency, and the transaction is declared in the signature.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, Response

from idp.accounts.models import Account
from idp.db import bound
from idp.deps import Db, ReadDb, State, request_transaction
from idp.i18n import _
from idp.oidc.authorize import authorize, error_response, params_from
from idp.oidc.claims import CLAIMS_SUPPORTED, userinfo_claims
from idp.oidc.clients import SCOPES
from idp.oidc.interaction import Pending
from idp.oidc.models import Client, Grant
from idp.oidc.server import OAuthRequest, error_json
from idp.state import AppState

router = APIRouter(tags=["OpenID Connect"])

_FORM = "application/x-www-form-urlencoded"


def _form_body(properties: dict, required: list[str]) -> dict:
    """OpenAPI for form bodies that Authlib reads itself (FastAPI cannot infer them)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                _FORM: {
                    "schema": {"type": "object", "properties": properties, "required": required}
                }
            },
        }
    }


_STR = {"type": "string"}


@router.get("/.well-known/openid-configuration", operation_id="discovery")
def discovery(state: State) -> JSONResponse:
    """OpenID Connect Discovery 1.0 §3 and RFC 8414 metadata."""
    iss = state.settings.issuer_url
    auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    return JSONResponse(
        {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "userinfo_endpoint": f"{iss}/userinfo",
            "jwks_uri": f"{iss}/jwks",
            "introspection_endpoint": f"{iss}/introspect",
            "revocation_endpoint": f"{iss}/revoke",
            "end_session_endpoint": f"{iss}/logout",
            "scopes_supported": [s for s in SCOPES if s != "introspection"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "userinfo_signing_alg_values_supported": ["none"],
            "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
            "token_endpoint_auth_signing_alg_values_supported": [
                "ES256",
                "RS256",
                "PS256",
                "EdDSA",
            ],
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": CLAIMS_SUPPORTED,
            "acr_values_supported": ["urn:educonnect:loa:basic", "eidas1"],
            "prompt_values_supported": ["none", "login", "consent"],
            "ui_locales_supported": ["fr"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "frontchannel_logout_supported": False,
            "access_token_signing_alg_values_supported": ["ES256"],
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/jwks", operation_id="jwks")
def jwks(state: State) -> JSONResponse:
    """RFC 7517 key set: every active key and the retired ones still needed for verification."""
    return JSONResponse(state.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})


async def _params(request: Request) -> list[tuple[str, str]]:
    if request.method == "POST":
        return (await request.form()).multi_items()
    return request.query_params.multi_items()


async def _form(request: Request) -> FormData:
    return await request.form()


#: The authorization request's parameters (query or form), every value kept.
Params = Annotated[list[tuple[str, str]], Depends(_params)]
#: A protocol endpoint's form, read once (Authlib reads it, FastAPI cannot declare it).
OAuthForm = Annotated[FormData, Depends(_form)]


async def _oauth_db(request: Request, form: OAuthForm) -> AsyncIterator[Session]:
    state: AppState = request.app.state.idp
    factory = state.read_sessions if _readonly(form, request) else state.sessions
    async with request_transaction(factory) as db:
        yield db


#: The protocol endpoint's transaction, read-only when it cannot write (see ``_readonly``).
OAuthDb = Annotated[Session, Depends(_oauth_db, scope="function")]


@router.get("/authorize", operation_id="authorize", response_class=Response)
@router.post("/authorize", operation_id="authorize_post", response_class=Response)
def authorize_endpoint(request: Request, state: State, db: Db, items: Params) -> Response:
    """Authorization endpoint (OIDC Core §3.1.2.1): GET with a query or POST with a form."""
    repeated = _repeated(items)
    if repeated:
        return state.templates.error_page(
            request,
            _("Connexion impossible"),
            _("La demande de connexion est incorrecte : le paramètre « %(name)s » est répété.")
            % {"name": repeated},
            status_code=400,
        )
    return authorize(state, db, request, Pending(params_from(dict(items))))


def _repeated(items: list[tuple[str, str]]) -> str | None:
    seen: set[str] = set()
    for key, _value in items:
        if key in seen:
            return key
        seen.add(key)
    return None


_TOKEN_FORM = _form_body(
    {
        "grant_type": {
            "type": "string",
            "enum": ["authorization_code", "refresh_token", "client_credentials"],
        },
        "code": _STR,
        "redirect_uri": _STR,
        "code_verifier": _STR,
        "refresh_token": _STR,
        "scope": _STR,
        "client_id": _STR,
        "client_secret": _STR,
        "client_assertion_type": _STR,
        "client_assertion": _STR,
    },
    ["grant_type"],
)


@router.post("/token", operation_id="token", openapi_extra=_TOKEN_FORM, response_class=JSONResponse)
async def token_endpoint(request: Request, state: State, db: OAuthDb, form: OAuthForm) -> Response:
    """Token endpoint (RFC 6749 §3.2): authorization_code, refresh_token, client_credentials."""
    if _on_the_event_loop(form):
        return _oauth_call(state, db, request, form, "token")
    return await run_in_threadpool(_oauth_call, state, db, request, form, "token")


def _on_the_event_loop(form: FormData) -> bool:
    """A ``client_credentials`` grant with a client secret reads its client from the cache
    (``ClientCache``) and writes nothing: pure computation, cheaper here than a thread hop.
    Every other grant reads and writes the database, in the thread pool."""
    return form.get("grant_type") == "client_credentials" and not form.get("client_assertion")


_TOKEN_REF_FORM = _form_body(
    {
        "token": _STR,
        "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
    },
    ["token"],
)


@router.post(
    "/introspect",
    operation_id="introspect",
    openapi_extra=_TOKEN_REF_FORM,
    response_class=JSONResponse,
)
def introspect_endpoint(request: Request, state: State, db: OAuthDb, form: OAuthForm) -> Response:
    """RFC 7662 token introspection (client authentication required)."""
    return _oauth_call(state, db, request, form, "introspection")


@router.post(
    "/revoke", operation_id="revoke", openapi_extra=_TOKEN_REF_FORM, response_class=JSONResponse
)
def revoke_endpoint(request: Request, state: State, db: OAuthDb, form: OAuthForm) -> Response:
    """RFC 7009 token revocation."""
    return _oauth_call(state, db, request, form, "revocation")


def _readonly(form: FormData, request: Request) -> bool:
    """Transactions that never write may run beside SQLite's single writer. A client
    assertion records its ``jti`` (a write), so it never counts as read-only."""
    if form.get("client_assertion"):
        return False
    return request.url.path == "/introspect" or form.get("grant_type") == "client_credentials"


def _oauth_call(
    state: AppState, db: Session, request: Request, form: FormData, endpoint: str
) -> Response:
    with bound(db):
        req = OAuthRequest(request, form=form)
        if endpoint == "token":
            response = state.server.create_token_response(req)
        else:
            response = state.server.create_endpoint_response(endpoint, req)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response


async def _userinfo_form(request: Request) -> FormData | None:
    if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORM):
        return await request.form()
    return None


UserinfoForm = Annotated[FormData | None, Depends(_userinfo_form)]


@router.get("/userinfo", operation_id="userinfo", response_class=JSONResponse)
@router.post("/userinfo", operation_id="userinfo_post", response_class=JSONResponse)
def userinfo_endpoint(request: Request, state: State, db: ReadDb, form: UserinfoForm) -> Response:
    """UserInfo (OIDC Core §5.3): bearer token in the header, or in a POST form body."""
    return _userinfo(state, db, request, form)


def _bearer_error(error: str, description: str, status: int = 401) -> Response:
    header = f'Bearer error="{error}", error_description="{description}"'
    response = error_json(error, description, status)
    response.headers["WWW-Authenticate"] = header
    return response


def _userinfo(state: AppState, db: Session, request: Request, form: FormData | None) -> Response:
    header = request.headers.get("authorization", "")
    in_header = header[7:].strip() if header[:7].lower() == "bearer " else None
    in_body = form.get("access_token") if form is not None else None
    if in_header and in_body:
        return _bearer_error("invalid_request", "Use one way of sending the token.", 400)
    token = in_header or in_body
    if not token:
        response = Response(status_code=401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="educonnect"'
        return response
    claims = state.tokens.decode_access_token(token)
    if claims is None or "gid" not in claims:
        return _bearer_error("invalid_token", "The access token is invalid or expired.")
    if state.tokens.is_access_token_revoked(db, claims):
        return _bearer_error("invalid_token", "The access token was revoked.")
    grant = db.get(Grant, claims["gid"])
    account = db.get(Account, grant.account_id) if grant and grant.account_id else None
    client = db.get(Client, claims["client_id"])
    if account is None or client is None or not account.can_log_in:
        return _bearer_error("invalid_token", "The access token no longer has a user.")
    scopes = set(claims.get("scope", "").split())
    if "openid" not in scopes:
        return _bearer_error("insufficient_scope", "The token lacks the 'openid' scope.", 403)
    body = userinfo_claims(db, state.tokens, client, account, scopes)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


__all__ = ["error_response", "router"]
