"""The grants and the client authentication they accept (registered by ``idp.services``).

- Authorization code (RFC 6749 §4.1) with PKCE (RFC 7636, S256 only, required for public
  clients) and OpenID Connect (Core §3.1): codes single-use, replay revokes the family.
- Refresh token (RFC 6749 §6), rotated on every use; reuse revokes the family.
- Client credentials (RFC 6749 §4.4) for service clients.
- Client authentication: client_secret_basic, client_secret_post, private_key_jwt (RFC 7523,
  OIDC Core §9), none (public clients).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    grants,
    scope_to_list,
)
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import KeySet
from sqlalchemy import update

from idp.accounts.models import Account
from idp.observability.metrics import GRANTS
from idp.oidc.clients import CONFIDENTIAL_AUTH
from idp.oidc.models import AuthorizationCode, Grant, RefreshToken
from idp.oidc.tokens import token_hash

if TYPE_CHECKING:
    from idp.oidc.server import Server

ALL_AUTH = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


def _usable_account(server: Server, account_id: str | None) -> Account | None:
    account = server.db.get(Account, account_id) if account_id else None
    if account is None or not account.can_log_in:
        return None
    return account


def _use_once(server: Server, row, key_column, replay_event: str) -> bool:
    """Mark a code or refresh token used, atomically: of two parallel uses only one wins. The
    loser (or a later use) is a replay, and the whole grant family is revoked."""
    model = type(row)
    claimed = server.db.execute(
        update(model)
        .where(key_column == getattr(row, key_column.key), model.used_at.is_(None))
        .values(used_at=server.clock.now())
    ).rowcount
    if claimed == 1:
        return True
    server.tokens.revoke_grant(server.db, row.grant_id, replay_event.replace(".", "_"))
    server.audit.record(
        server.db,
        replay_event,
        client_id=row.client_id,
        target_type="account",
        target_id=row.account_id,
    )
    return False


def _live_family(server: Server, grant_id: str) -> Grant | None:
    family = server.db.get(Grant, grant_id)
    return family if family is not None and family.revoked_at is None else None


class _IssuesFamilyTokens:
    """Token generation through our TokenService, bound to the request's grant family."""

    server: Server

    def generate_token(
        self, user=None, scope=None, grant_type=None, expires_in=None, include_refresh_token=True
    ):
        GRANTS.labels(self.GRANT_TYPE).inc()  # every grant issues through here
        return self.server.tokens.issue(
            self.server.db,
            self.request.client,
            user,
            scope or "",
            self.request.family,
            include_refresh_token,
        )


class AuthorizationCodeGrant(_IssuesFamilyTokens, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH
    AUTHORIZATION_CODE_LENGTH = 43

    def save_authorization_code(self, code: str, request) -> None:
        server: Server = self.server
        ctx = request.auth_context
        client = request.client
        data = request.payload.data
        family = server.tokens.new_grant(
            server.db,
            client,
            request.user.id,
            request.scope,
            session_id=ctx.sid,
            auth_time=ctx.auth_time,
            acr=ctx.acr,
            amr=ctx.amr,
        )
        server.db.add(
            AuthorizationCode(
                code_hash=token_hash(code),
                grant_id=family.id,
                client_id=client.client_id,
                account_id=request.user.id,
                redirect_uri=data["redirect_uri"],
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get(
                    "code_challenge_method", "S256" if data.get("code_challenge") else None
                ),
                session_id=ctx.sid,
                auth_time=ctx.auth_time,
                acr=ctx.acr,
                amr=ctx.amr,
                expires_at=server.clock.now().replace(microsecond=0)
                + timedelta(seconds=server.settings.authorization_code_ttl),
            )
        )

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        server: Server = self.server
        db = server.db
        row = db.get(AuthorizationCode, token_hash(code))
        if row is None or row.client_id != client.client_id:
            return None
        # RFC 6749 §4.1.2: a replayed code SHOULD revoke the tokens issued from it.
        if not _use_once(server, row, AuthorizationCode.code_hash, "code.replayed"):
            return None
        if row.expires_at <= server.clock.now():
            return None
        self.request.family = _live_family(server, row.grant_id)
        return row if self.request.family else None

    def delete_authorization_code(self, authorization_code) -> None:
        """Kept (marked used) until the janitor purges it, so replays are recognised."""

    def authenticate_user(self, authorization_code: AuthorizationCode):
        return _usable_account(self.server, authorization_code.account_id)


class RefreshTokenGrant(_IssuesFamilyTokens, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        server: Server = self.server
        db = server.db
        row = db.get(RefreshToken, token_hash(refresh_token))
        if row is None or row.client_id != self.request.client.client_id:
            return None
        now = server.clock.now()
        if row.revoked_at is not None or row.expires_at <= now:
            return None
        # Security BCP §4.14.2: a rotated refresh token presented again revokes the family.
        if not _use_once(server, row, RefreshToken.token_hash, "refresh.reused"):
            return None
        self.request.family = _live_family(server, row.grant_id)
        return row if self.request.family else None

    def authenticate_user(self, refresh_token: RefreshToken):
        account = _usable_account(self.server, refresh_token.account_id)
        if account is None:
            raise InvalidGrantError("The account can no longer use this grant.")
        return account

    def revoke_old_credential(self, refresh_token) -> None:
        """Already marked used when it was claimed."""


class ClientCredentialsGrant(_IssuesFamilyTokens, grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = scope_to_list(self.request.payload.scope) or []
        if set(requested) - set(self.request.client.scopes):
            raise InvalidScopeError("The client may not request these scopes.")

    def create_token_response(self):
        client = self.request.client
        scope = self.request.payload.scope or " ".join(s for s in client.scopes if s != "openid")
        token = self.generate_token(scope=scope, include_refresh_token=False)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (``plain`` is answered with ``invalid_request``), required for public
    clients at the authorization endpoint already, and for anyone who started with it."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            # RFC 7636 §4.3 defaults a missing method to plain, which we do not accept.
            raise InvalidRequestError("Only 'code_challenge_method=S256' is supported.")
        if grant.request.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("PKCE ('code_challenge') is required for public clients.")
        return super().validate_code_challenge(grant, redirect_uri)


class IdToken(OpenIDCode):
    """ID tokens (OIDC Core §2): ``sub`` per client, ``sid``, ``auth_time``, ``acr``, ``amr``,
    ``at_hash``, signed with the client's algorithm (ES256 by default)."""

    def __init__(self, server: Server) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce, request) -> bool:
        return False  # nonces are the client's to check (OIDC Core §15.5.2)

    def resolve_client_private_key(self, client):
        return self.server.keys.signing_key(client.id_token_signed_response_alg)

    def get_client_algorithm(self, client) -> str:
        return client.id_token_signed_response_alg

    def get_encode_header(self, client) -> dict:
        key = self.resolve_client_private_key(client)
        return {"alg": client.id_token_signed_response_alg, "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client) -> dict:
        now = int(time.time())
        return {
            "iss": self.server.settings.issuer_url,
            "aud": client.client_id,
            "iat": now,
            "exp": now + self.server.settings.id_token_ttl,
        }

    def get_authorization_code_claims(self, authorization_code: AuthorizationCode) -> dict:
        claims = super().get_authorization_code_claims(authorization_code)
        client = self.server.query_client(authorization_code.client_id)
        claims["sub"] = self.server.tokens.subject(client, authorization_code.account_id)
        if authorization_code.session_id:
            claims["sid"] = authorization_code.session_id
        return claims

    def generate_user_info(self, user, scope) -> UserInfo:
        # Identity claims are served by userinfo; the ID token stays small.
        return UserInfo()


class PrivateKeyJwt(JWTBearerClientAssertion):
    """``private_key_jwt`` (OIDC Core §9): an assertion signed with a key from the client's
    registered ``jwks`` or ``jwks_uri``; each ``jti`` is accepted once."""

    CLIENT_AUTH_METHOD = "private_key_jwt"
    _jwks_cache: dict[str, tuple[float, dict]] = {}

    def __init__(self, server: Server) -> None:
        super().__init__(validate_jti=True)
        self.server = server

    def get_audiences(self) -> list[str]:
        issuer = self.server.settings.issuer_url
        return [issuer, f"{issuer}/token", f"{issuer}/introspect", f"{issuer}/revoke"]

    def validate_jti(self, claims, jti) -> bool:
        return (
            self.server.stores.throttle.hit(self.server.db, f"jti:{claims['sub']}:{jti}", 600) == 1
        )

    def resolve_client_public_key(self, client):
        if client.jwks:
            return KeySet.import_key_set(client.jwks)
        cached = self._jwks_cache.get(client.jwks_uri or "")
        if cached and time.monotonic() - cached[0] < 300:
            return KeySet.import_key_set(cached[1])
        try:
            response = httpx.get(client.jwks_uri, timeout=5.0)
            response.raise_for_status()
            jwks = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise InvalidClientError(
                description="The client's jwks_uri could not be read."
            ) from exc
        self._jwks_cache[client.jwks_uri] = (time.monotonic(), jwks)
        return KeySet.import_key_set(jwks)
