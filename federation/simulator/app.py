"""The FranceConnect v2 simulator application and its back-channel endpoints.

Paths and payloads follow FC v2 (docs.partenaires.franceconnect.gouv.fr, "Les endpoints";
domain-facts 1.2): discovery, JWKS, token (``client_secret_post``, also Basic), userinfo served as
a signed JWT (``Content-Type: application/jwt``). The ID token carries ``acr``, ``auth_time``,
``sid``, ``nonce`` and, when requested through ``claims``, ``amr`` (FC "amr" page).

Mount it under a prefix that matches the issuer, e.g. issuer
``http://localhost:8000/fc/api/v2`` → ``app.mount("/fc", create_simulator_app(...))``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from federation.simulator import tokens
from federation.simulator.authorize import router as browser_router
from federation.simulator.identities import IDENTITIES_BY_KEY
from federation.simulator.store import (
    ACCESS_TOKEN_TTL,
    ID_TOKEN_TTL,
    Grant,
    SimulatorClient,
    SimulatorState,
)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def create_simulator_app(
    issuer: str,
    clients: list[SimulatorClient],
    *,
    now: Callable[[], float] = time.time,
) -> FastAPI:
    """Build a simulator whose endpoints live at ``<mount prefix>/api/v2/...``.

    ``issuer`` must be the public URL of ``/api/v2`` (it is what tokens carry in ``iss``).
    ``now`` lets tests move the simulator's clock (code and token expiry).
    """
    app = FastAPI(
        title="Simulateur FranceConnect",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    state = SimulatorState(
        issuer=issuer.rstrip("/"),
        clients={client.client_id: client for client in clients},
        now=now,
    )
    app.state.simulator = state
    app.state.faults = state.faults
    app.include_router(browser_router)

    @app.get("/api/v2/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return _discovery_document(state.issuer)

    @app.get("/api/v2/jwks")
    def jwks() -> dict[str, Any]:
        return state.signer.jwks()

    @app.post("/api/v2/token")
    async def token(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        return _token_response(state, request.headers.get("authorization"), form)

    @app.api_route("/api/v2/userinfo", methods=["GET", "POST"])
    def userinfo(request: Request) -> Response:
        return _userinfo_response(state, request.headers.get("authorization", ""))

    return app


def _discovery_document(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "end_session_endpoint": f"{issuer}/session/end",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "scopes_supported": sorted(tokens.SCOPE_CLAIMS),
        "claims_supported": list(tokens.CLAIMS_SUPPORTED),
        "claims_parameter_supported": True,
        "acr_values_supported": list(tokens.ACR_VALUES),
        "prompt_values_supported": ["login", "consent"],
        "id_token_signing_alg_values_supported": [tokens.SIGNING_ALG],
        "userinfo_signing_alg_values_supported": [tokens.SIGNING_ALG],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    }


def _oauth_error(error: str, description: str, status_code: int = 400) -> JSONResponse:
    headers = dict(_NO_STORE)
    if status_code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="franceconnect-simulator"'
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status_code,
        headers=headers,
    )


def _client_credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str] | None:
    """Credentials from Basic (RFC 6749 section 2.3.1, form-urlencoded parts) or the body."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"]
    return None


def _token_response(
    sim: SimulatorState, authorization: str | None, form: dict[str, str]
) -> JSONResponse:
    if tokens.FAULT_TOKEN_SERVER_ERROR in sim.faults:
        return _oauth_error("server_error", "Simulated failure", 500)
    credentials = _client_credentials(authorization, form)
    client = sim.clients.get(credentials[0]) if credentials else None
    if (
        credentials is None
        or client is None
        or not hmac.compare_digest(credentials[1].encode(), client.client_secret.encode())
    ):
        return _oauth_error("invalid_client", "Client authentication failed", 401)
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", "Only authorization_code is supported")
    code = form.get("code", "")
    grant = sim.codes.pop(code) if code else None
    if grant is None:
        # A replayed code revokes the token it produced (RFC 6749 section 4.1.2).
        previous_token = sim.used_codes.pop(code) if code else None
        if previous_token:
            sim.access_tokens.pop(previous_token)
        return _oauth_error("invalid_grant", "Code is invalid, expired or already used")
    request = grant.request
    if request.client_id != client.client_id or form.get("redirect_uri") != request.redirect_uri:
        return _oauth_error("invalid_grant", "Code was issued to another client or redirect_uri")
    access_token = sim.access_tokens.add(grant)
    sim.used_codes.put(code, access_token)
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL,
        "id_token": _id_token(sim, grant),
        "scope": " ".join(request.scopes),
    }
    return JSONResponse(body, headers=_NO_STORE)


def _id_token(sim: SimulatorState, grant: Grant) -> str:
    faults = sim.faults
    issued_at = int(sim.now())
    if tokens.FAULT_EXPIRED_ID_TOKEN in faults:
        issued_at -= 3600
    identity = IDENTITIES_BY_KEY[grant.identity_key]
    claims: dict[str, Any] = {
        "iss": sim.issuer + ("/evil" if tokens.FAULT_WRONG_ISSUER in faults else ""),
        "aud": "someone-else" if tokens.FAULT_WRONG_AUDIENCE in faults else grant.request.client_id,
        "sub": identity.sub,
        "iat": issued_at,
        "exp": issued_at + ID_TOKEN_TTL,
        "auth_time": grant.auth_time,
        "nonce": grant.request.nonce + ("x" if tokens.FAULT_WRONG_NONCE in faults else ""),
        "acr": grant.request.acr,
        "sid": grant.sid,
    }
    if grant.request.amr_requested:
        claims["amr"] = ["pwd"]
    return sim.signer.sign(
        claims,
        forged=tokens.FAULT_BAD_ID_TOKEN_SIGNATURE in faults,
        unknown_kid=tokens.FAULT_UNKNOWN_KID in faults,
    )


def _userinfo_response(sim: SimulatorState, authorization: str) -> Response:
    scheme, _, access_token = authorization.partition(" ")
    grant = sim.access_tokens.get(access_token) if scheme.lower() == "bearer" else None
    if grant is None:
        return Response(
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"', **_NO_STORE},
        )
    faults = sim.faults
    identity = IDENTITIES_BY_KEY[grant.identity_key]
    claims: dict[str, Any] = tokens.claims_for_scopes(identity.claims(), grant.request.scopes)
    if tokens.FAULT_USERINFO_SUB_MISMATCH in faults:
        claims["sub"] = "0" * 64 + "v1"
    if tokens.FAULT_USERINFO_JSON in faults:
        return JSONResponse(claims, headers=_NO_STORE)
    claims.update(iss=sim.issuer, aud=grant.request.client_id, iat=int(sim.now()))
    signed = sim.signer.sign(claims, forged=tokens.FAULT_BAD_USERINFO_SIGNATURE in faults)
    return Response(signed, media_type="application/jwt", headers=_NO_STORE)
