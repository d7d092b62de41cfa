""" "LSUN démo": a relying party served next to the IdP in development, so a newcomer can click
through the whole flow. It is a real client of our own endpoints over HTTP, built on Authlib's
OAuth client (PKCE, state, nonce) with ID-token verification against the published JWKS.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from fastapi import APIRouter, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from idp.demo.seed import DEMO_CLIENT_ID, DEMO_SCOPES, demo_client_secret
from idp.deps import State
from idp.i18n import _
from idp.state import AppState

router = APIRouter(prefix="/demo", include_in_schema=False)
COOKIE = "demo_rp"
#: Logout tokens received on the back channel (shown on the demo page; per process).
RECEIVED_LOGOUTS: deque[dict] = deque(maxlen=20)


def _key(state: AppState) -> OctKey:
    return OctKey.import_key(hashlib.sha256(demo_client_secret(state.settings).encode()).digest())


def _seal(state: AppState, data: dict) -> str:
    return jwt.encode({"alg": "HS256"}, {**data, "exp": int(time.time()) + 1800}, _key(state))


def _open(state: AppState, raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        token = jwt.decode(raw, _key(state), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(exp={"essential": True}).validate(token.claims)
    except (JoseError, ValueError):
        return None
    return token.claims


def _client(state: AppState) -> OAuth2Client:
    iss = state.settings.issuer_url
    return OAuth2Client(
        client_id=DEMO_CLIENT_ID,
        client_secret=demo_client_secret(state.settings),
        scope=" ".join(DEMO_SCOPES),
        redirect_uri=f"{iss}/demo/callback",
        code_challenge_method="S256",
        timeout=10.0,
    )


def _page(state: AppState, request: Request, **context) -> Response:
    return state.templates.render(
        request, "demo.html", {"received_logouts": list(RECEIVED_LOGOUTS), **context}
    )


@router.get("")
def home(request: Request, state: State) -> Response:
    session = _open(state, request.cookies.get(COOKIE)) or {}
    return _page(state, request, id_token=session.get("id_token"))


@router.get("/login")
def login(request: Request, state: State, prompt: str | None = None) -> Response:
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(24)
    with _client(state) as client:
        url, oauth_state = client.create_authorization_url(
            f"{state.settings.issuer_url}/authorize",
            code_verifier=verifier,
            nonce=nonce,
            **({"prompt": prompt} if prompt else {}),
        )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        COOKIE,
        _seal(state, {"state": oauth_state, "nonce": nonce, "verifier": verifier}),
        httponly=True,
        samesite="lax",
        secure=state.settings.cookie_secure,
    )
    return response


@router.get("/callback")
async def callback(request: Request, state: State) -> Response:
    return await run_in_threadpool(_callback, state, request)


def _callback(state: AppState, request: Request) -> Response:
    pending = _open(state, request.cookies.get(COOKIE)) or {}
    params = request.query_params
    if params.get("error"):
        return _page(
            state, request, error=f"{params['error']} : {params.get('error_description', '')}"
        )
    if not pending.get("state") or params.get("state") != pending["state"]:
        return _page(
            state, request, error=_("Paramètre state inattendu : la connexion est refusée.")
        )
    if params.get("iss") != state.settings.issuer_url:
        return _page(state, request, error=_("Paramètre iss inattendu (RFC 9207)."))
    iss = state.settings.issuer_url
    try:
        with _client(state) as client:
            token = client.fetch_token(
                f"{iss}/token", code=params.get("code", ""), code_verifier=pending["verifier"]
            )
            response = client.get(f"{iss}/userinfo")
            response.raise_for_status()
            userinfo = response.json()
        jwks = httpx.get(f"{iss}/jwks", timeout=10.0).json()
        decoded = jwt.decode(
            token["id_token"], KeySet.import_key_set(jwks), algorithms=["ES256", "RS256"]
        )
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": iss},
            aud={"essential": True, "value": DEMO_CLIENT_ID},
            nonce={"essential": True, "value": pending["nonce"]},
            exp={"essential": True},
        ).validate(decoded.claims)
    except (httpx.HTTPError, JoseError, KeyError, ValueError) as exc:
        return _page(
            state, request, error=_("Échec de la connexion : %(reason)s") % {"reason": exc}
        )
    response = _page(
        state, request, id_token=token["id_token"], id_claims=decoded.claims, userinfo=userinfo
    )
    response.set_cookie(
        COOKIE,
        _seal(state, {"id_token": token["id_token"]}),
        httponly=True,
        samesite="lax",
        secure=state.settings.cookie_secure,
    )
    return response


@router.get("/logout")
def logout(request: Request, state: State) -> Response:
    session = _open(state, request.cookies.get(COOKIE)) or {}
    iss = state.settings.issuer_url
    query = httpx.QueryParams(
        {
            "post_logout_redirect_uri": f"{iss}/demo",
            "state": secrets.token_urlsafe(12),
            **(
                {"id_token_hint": session["id_token"]}
                if session.get("id_token")
                else {"client_id": DEMO_CLIENT_ID}
            ),
        }
    )
    response = RedirectResponse(f"{iss}/logout?{query}", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/backchannel-logout")
async def backchannel_logout(request: Request, state: State) -> Response:
    form = await request.form()
    return await run_in_threadpool(_receive_logout, state, str(form.get("logout_token", "")))


def _receive_logout(state: AppState, logout_token: str) -> Response:
    iss = state.settings.issuer_url
    try:
        decoded = jwt.decode(logout_token, state.keys.public_keys(), algorithms=["ES256", "RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": iss},
            aud={"essential": True, "value": DEMO_CLIENT_ID},
            events={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError):
        return Response(status_code=400)
    RECEIVED_LOGOUTS.appendleft(
        {
            "sid": decoded.claims.get("sid"),
            "sub": decoded.claims.get("sub"),
            "iat": decoded.claims.get("iat"),
        }
    )
    return Response(status_code=200, headers={"Cache-Control": "no-store"})
