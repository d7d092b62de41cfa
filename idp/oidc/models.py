"""Persisted OIDC artefacts: clients, grants (token families), codes, refresh tokens, consents,
signing keys and the back-channel logout queue.

Access tokens are RFC 9068 JWTs and are not stored: revocation is recorded instead (a revoked
grant family, or a revoked ``jti``), which is what introspection consults.
"""

from __future__ import annotations

from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class Client(Base, ClientMixin):
    """A relying party. Implements Authlib's ``ClientMixin``; secrets are compared through
    ``secret_checker``, set by the server when it loads the client (the HMAC key lives in
    settings, not in the row)."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: HMAC-SHA256 of the secret (secrets are random, so a fast keyed hash is right).
    secret_hash: Mapped[str | None] = mapped_column(String(128))
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    jwks: Mapped[dict | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    subject_type: Mapped[str] = mapped_column(String(10), default="pairwise")
    sector_identifier: Mapped[str] = mapped_column(String(255))
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(10), default="ES256")
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_ine: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    secret_checker = None  # set per load by the server: Callable[[Client, str], bool]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # OpenID Connect: redirect_uri is REQUIRED in every request

    def get_allowed_scope(self, scope: str | None) -> str:
        """Requested scopes the client may have; others are dropped (OIDC Core §3.1.2.1)."""
        if not scope:
            return ""
        allowed = set(self.scopes)
        return " ".join(s for s in dict.fromkeys(scope_to_list(scope)) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match, nothing else

    def check_client_secret(self, client_secret: str) -> bool:
        checker = self.secret_checker
        return bool(self.secret_hash and checker and checker(self, client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


class Grant(Base):
    """A token family: everything issued from one authorization (or one client_credentials
    request). Revoking the family revokes every token that carries its id."""

    __tablename__ = "oauth_grants"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[int | None] = mapped_column(Integer)
    acr: Mapped[str | None] = mapped_column(String(40))
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class AuthorizationCode(Base, AuthorizationCodeMixin):
    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    session_id: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[int] = mapped_column(Integer)
    acr: Mapped[str | None] = mapped_column(String(40))
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str] | None:
        return self.amr


class RefreshToken(Base):
    __tablename__ = "oauth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_grants.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    #: Set when rotated: presenting it again is a replay and revokes the family.
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope


class RevokedAccessToken(Base):
    """An access token revoked on its own (RFC 7009); kept until it would have expired."""

    __tablename__ = "oauth_revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Consent(Base):
    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("account_id", "client_id", name="uq_consent_pair"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE")
    )
    scopes: Mapped[list[str]] = mapped_column(JSON)
    granted_at: Mapped[datetime]


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10))
    #: active (signs) | retired (published until ``publish_until``, then dropped).
    state: Mapped[str] = mapped_column(String(10))
    private_jwk_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    publish_until: Mapped[datetime | None]
