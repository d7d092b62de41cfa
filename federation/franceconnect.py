"""The IdP's client for FranceConnect v2 ("standard", eIDAS low): authorization code flow.

Implements, for a service provider (FS), what FC v2 requires (docs.partenaires.franceconnect.
gouv.fr: "Les endpoints", "Migration v1 → v2"; domain-facts section 1):

* /authorize with ``acr_values=eidas1``, ``state`` and ``nonce`` (OIDC Core 3.1.2.1);
* error handling on the callback (``error=access_denied``, "User auth aborted");
* code exchange with ``client_secret_post`` (OIDC Core 3.1.3, 9);
* ID token validation: ES256/RS256 signature against the JWKS, ``iss``, ``aud``/``azp``,
  ``exp``, ``iat``, ``nonce`` (OIDC Core 3.1.3.7), with one JWKS refetch on unknown ``kid``;
* userinfo as a signed JWT whose ``iss``/``aud`` are checked and whose ``sub`` must equal the
  ID token's (OIDC Core 5.3.2, 5.3.4);
* RP-initiated logout at ``end_session_endpoint`` with ``id_token_hint``, ``state`` and
  ``post_logout_redirect_uri`` (FC ``/api/v2/session/end``).

FC+ (signed-then-encrypted tokens) is not supported.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import InvalidKeyIdError, JoseError

from federation.connector import (
    MESSAGE_ACCESS_DENIED,
    MESSAGE_EXPIRED,
    MESSAGE_RESTART,
    MESSAGE_UNAVAILABLE,
    MESSAGE_UNVERIFIED,
    FranceConnectError,
    FranceConnectErrorCode,
    FranceConnectIdentity,
)
from federation.provider_metadata import ProviderCache

__all__ = [
    "FranceConnectConnector",
    "FranceConnectError",
    "FranceConnectErrorCode",
    "FranceConnectIdentity",
]

DEFAULT_SCOPE = "openid identite_pivot email"
#: FC v2 signs with ES256 (recommended) or RS256 only; anything else, HS256 above all, is refused.
ALGORITHMS = ("ES256", "RS256")
#: ``eidas1`` is asked for; FC may authenticate at a higher level, never lower.
ACCEPTED_ACRS = frozenset({"eidas1", "eidas2", "eidas3"})
#: The caller's state and nonce must be at least this long (FC+ documents 32 minimum).
MIN_STATE_LENGTH = 32
_CODE = FranceConnectErrorCode


class FranceConnectConnector:
    """Client of one FranceConnect v2 platform, for one registered FS (client_id)."""

    def __init__(
        self,
        discovery_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        post_logout_redirect_uri: str,
        http: httpx.Client | None = None,
        *,
        scope: str = DEFAULT_SCOPE,
        acr_values: str = "eidas1",
        cache_ttl: float = 3600.0,
        timeout: float = 10.0,
        leeway: int = 60,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._post_logout_redirect_uri = post_logout_redirect_uri
        self._scope = scope
        self._acr_values = acr_values
        self._leeway = leeway
        self._now = now
        self._owns_http = http is None
        # No redirects: an OIDC back channel never legitimately redirects, and following one
        # could leak the client secret or code to another host.
        self._http = http or httpx.Client(timeout=timeout, follow_redirects=False)
        self._provider = ProviderCache(discovery_url, self._http, ttl=cache_ttl)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> FranceConnectConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def new_state_and_nonce() -> tuple[str, str]:
        """Fresh unguessable ``state`` and ``nonce`` (43 characters each) to keep in session."""
        return secrets.token_urlsafe(32), secrets.token_urlsafe(32)

    def login_url(self, state: str, nonce: str, *, prompt: str | None = None) -> str:
        """Where to send the browser to start a FranceConnect login."""
        if len(state) < MIN_STATE_LENGTH or len(nonce) < MIN_STATE_LENGTH:
            raise ValueError(f"state and nonce need at least {MIN_STATE_LENGTH} characters")
        params = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": self._redirect_uri,
            "scope": self._scope,
            "acr_values": self._acr_values,
            "state": state,
            "nonce": nonce,
            # FC only returns ``amr`` when asked this way (FC "amr" page).
            "claims": json.dumps({"id_token": {"amr": {"essential": True}}}),
        }
        if prompt:
            params["prompt"] = prompt
        return f"{self._provider.metadata().authorization_endpoint}?{urlencode(params)}"

    def logout_url(self, id_token: str, state: str) -> str:
        """Where to send the browser to end the FranceConnect session.

        Called while the IdP ends its own session (in a transaction): a discovery document
        already fetched, even past its TTL, is used rather than waiting on FranceConnect."""
        endpoint = self._provider.metadata(stale_ok=True).end_session_endpoint
        if endpoint is None:
            raise FranceConnectError(
                _CODE.UNAVAILABLE, MESSAGE_UNAVAILABLE, "no end_session_endpoint"
            )
        params = {
            "id_token_hint": id_token,
            "state": state,
            "post_logout_redirect_uri": self._post_logout_redirect_uri,
        }
        return f"{endpoint}?{urlencode(params)}"

    def handle_callback(
        self, query_params: Mapping[str, str], expected_state: str, expected_nonce: str
    ) -> FranceConnectIdentity:
        """Check the callback, redeem the code and return the verified identity."""
        # State first, even for errors: an unbound callback must not drive any behaviour.
        state = query_params.get("state", "")
        if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise FranceConnectError(_CODE.INVALID_STATE, MESSAGE_RESTART, "state mismatch")
        error = query_params.get("error")
        if error == "access_denied":
            raise FranceConnectError(_CODE.ACCESS_DENIED, MESSAGE_ACCESS_DENIED, "user cancelled")
        if error:
            raise FranceConnectError(
                _CODE.PROVIDER_ERROR, MESSAGE_RESTART, f"callback error={error[:64]}"
            )
        code = query_params.get("code")
        if not code:
            raise FranceConnectError(
                _CODE.INVALID_CALLBACK, MESSAGE_RESTART, "callback without code"
            )

        tokens = self._redeem(code)
        id_claims = self._verify_id_token(tokens["id_token"], expected_nonce)
        userinfo = self._fetch_userinfo(tokens["access_token"], str(id_claims["sub"]))
        return FranceConnectIdentity.from_claims(userinfo, tokens["id_token"], id_claims)

    def _redeem(self, code: str) -> dict[str, str]:
        endpoint = self._provider.metadata().token_endpoint
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._redirect_uri,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        try:
            response = self._http.post(endpoint, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise FranceConnectError(
                _CODE.UNAVAILABLE, MESSAGE_UNAVAILABLE, type(exc).__name__
            ) from exc
        body = _json_object(response)
        if response.status_code != 200:
            oauth_error = str(body.get("error", "")) if body else ""
            detail = f"token endpoint HTTP {response.status_code} {oauth_error[:64]}"
            if oauth_error == "invalid_grant":
                raise FranceConnectError(_CODE.INVALID_GRANT, MESSAGE_EXPIRED, detail)
            if oauth_error == "invalid_client":
                raise FranceConnectError(_CODE.INVALID_CLIENT, MESSAGE_UNAVAILABLE, detail)
            raise FranceConnectError(_CODE.UNAVAILABLE, MESSAGE_UNAVAILABLE, detail)
        if (
            body is None
            or not all(isinstance(body.get(k), str) for k in ("access_token", "id_token"))
            or str(body.get("token_type", "")).lower() != "bearer"
        ):
            raise FranceConnectError(
                _CODE.UNAVAILABLE, MESSAGE_UNAVAILABLE, "malformed token response"
            )
        return {"access_token": body["access_token"], "id_token": body["id_token"]}

    def _verify_id_token(self, id_token: str, expected_nonce: str) -> dict[str, Any]:
        claims = self._verify_jwt(id_token, _CODE.INVALID_ID_TOKEN)
        issuer = self._provider.metadata().issuer
        registry = jwt.JWTClaimsRegistry(
            now=int(self._now()),
            leeway=self._leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": self._client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise FranceConnectError(_CODE.INVALID_ID_TOKEN, MESSAGE_UNVERIFIED, str(exc)) from exc
        audience = claims["aud"]
        several_audiences = isinstance(audience, list) and len(audience) > 1
        if several_audiences and claims.get("azp") != self._client_id:
            raise FranceConnectError(
                _CODE.INVALID_ID_TOKEN, MESSAGE_UNVERIFIED, "azp is not our client_id"
            )
        nonce = claims["nonce"]
        if not isinstance(nonce, str) or not hmac.compare_digest(
            nonce.encode(), expected_nonce.encode()
        ):
            # A replayed or injected ID token (OIDC Core 3.1.3.7 item 11).
            raise FranceConnectError(_CODE.INVALID_ID_TOKEN, MESSAGE_RESTART, "nonce mismatch")
        if claims.get("acr") not in ACCEPTED_ACRS:
            raise FranceConnectError(_CODE.INVALID_ID_TOKEN, MESSAGE_UNVERIFIED, "acr below eidas1")
        return claims

    def _fetch_userinfo(self, access_token: str, sub: str) -> dict[str, Any]:
        endpoint = self._provider.metadata().userinfo_endpoint
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/jwt"}
        try:
            response = self._http.get(endpoint, headers=headers)
        except httpx.HTTPError as exc:
            raise FranceConnectError(
                _CODE.UNAVAILABLE, MESSAGE_UNAVAILABLE, type(exc).__name__
            ) from exc
        if response.status_code != 200:
            detail = f"userinfo HTTP {response.status_code}"
            raise FranceConnectError(_CODE.UNAVAILABLE, MESSAGE_UNAVAILABLE, detail)
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/jwt":
            # FC v2 must sign userinfo; plain JSON would be unauthenticated data.
            detail = f"userinfo content type {content_type[:64]!r}"
            raise FranceConnectError(_CODE.INVALID_USERINFO, MESSAGE_UNVERIFIED, detail)
        claims = self._verify_jwt(response.text.strip(), _CODE.INVALID_USERINFO)
        registry = jwt.JWTClaimsRegistry(
            now=int(self._now()),
            leeway=self._leeway,
            iss={"essential": True, "value": self._provider.metadata().issuer},
            aud={"essential": True, "value": self._client_id},
            sub={"essential": True, "value": sub},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise FranceConnectError(_CODE.INVALID_USERINFO, MESSAGE_UNVERIFIED, str(exc)) from exc
        return claims

    def _verify_jwt(self, token: str, failure_code: str) -> dict[str, Any]:
        """Signature check against the provider's JWKS, refetched once if the ``kid`` is new."""
        try:
            kid = jws.extract_compact(token.encode()).headers().get("kid")
        except (JoseError, ValueError) as exc:
            raise FranceConnectError(failure_code, MESSAGE_UNVERIFIED, "not a compact JWS") from exc
        keys = self._provider.key_set()
        if kid is not None:
            try:
                keys.get_by_kid(kid)
            except InvalidKeyIdError:
                keys = self._provider.key_set(refresh=True)
        try:
            return dict(jwt.decode(token, keys, algorithms=list(ALGORITHMS)).claims)
        except (JoseError, ValueError) as exc:
            raise FranceConnectError(
                failure_code, MESSAGE_UNVERIFIED, f"JWS rejected: {exc}"
            ) from exc


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
