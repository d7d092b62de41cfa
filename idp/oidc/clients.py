"""Client registration (``educonnect clients create``) and client secret checks.

Metadata names follow OpenID Connect Dynamic Client Registration 1.0 §2.
https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.oidc.models import Client

SCOPES = (
    "openid",
    "profile",
    "email",
    "phone",
    "children",
    "school",
    "fredu",
    "introspection",
    "admin",
)
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
#: Client authentication methods of confidential clients at the token and introspection endpoints.
CONFIDENTIAL_AUTH = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


class ClientError(ValueError):
    """Invalid client metadata (``invalid_client_metadata``-like)."""


def secret_hash(key: str, secret: str) -> str:
    """HMAC-SHA256: client secrets are 256-bit random values, so a slow hash buys nothing."""
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).hexdigest()


def secret_checker(key: str):
    def check(client: Client, secret: str) -> bool:
        return hmac.compare_digest(client.secret_hash or "", secret_hash(key, secret))

    return check


@dataclass
class ClientSpec:
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    public: bool = False
    grant_types: list[str] | None = None
    scopes: list[str] | None = None
    token_endpoint_auth_method: str | None = None
    jwks: dict | None = None
    jwks_uri: str | None = None
    subject_type: str = "pairwise"
    sector_identifier: str | None = None
    id_token_signed_response_alg: str = "ES256"
    first_party: bool = False
    allow_ine: bool = False
    client_id: str | None = None


def _check_uri(uri: str, *, allow_http_localhost: bool = True) -> None:
    parts = urlsplit(uri)
    if parts.fragment:
        raise ClientError(f"URI must not contain a fragment: {uri}")
    if parts.scheme == "https" and parts.hostname:
        return
    if (
        parts.scheme == "http"
        and allow_http_localhost
        and parts.hostname
        in (
            "localhost",
            "127.0.0.1",
            "::1",
        )
    ):
        return
    raise ClientError(f"URI must be https (http only for localhost): {uri}")


def create_client(
    db: Session, spec: ClientSpec, clock: Clock, hmac_key: str
) -> tuple[Client, str | None]:
    """Validate and store a client; return it with its secret (shown once, stored hashed)."""
    if not spec.redirect_uris and "authorization_code" in (
        spec.grant_types or ["authorization_code"]
    ):
        raise ClientError("at least one redirect URI is required")
    for uri in [*spec.redirect_uris, *spec.post_logout_redirect_uris]:
        _check_uri(uri)
    if spec.backchannel_logout_uri:
        _check_uri(spec.backchannel_logout_uri)

    method = spec.token_endpoint_auth_method or ("none" if spec.public else "client_secret_basic")
    if method not in AUTH_METHODS:
        raise ClientError(f"unknown token endpoint auth method: {method}")
    if spec.public and method != "none":
        raise ClientError("a public client authenticates with 'none'")
    if method == "private_key_jwt" and not (spec.jwks or spec.jwks_uri):
        raise ClientError("private_key_jwt needs jwks or jwks_uri")

    default_grants = (
        ["authorization_code"] if spec.public else ["authorization_code", "refresh_token"]
    )
    grant_types = list(dict.fromkeys(spec.grant_types or default_grants))
    for grant in grant_types:
        if grant not in GRANT_TYPES:
            raise ClientError(f"unknown grant type: {grant}")
    if spec.public and "client_credentials" in grant_types:
        raise ClientError("a public client cannot use client_credentials")

    scopes = list(dict.fromkeys(spec.scopes or ["openid", "profile", "email"]))
    for scope in scopes:
        if scope not in SCOPES:
            raise ClientError(f"unknown scope: {scope}")

    if spec.subject_type not in ("pairwise", "public"):
        raise ClientError("subject type is pairwise or public")
    sector = spec.sector_identifier
    if not sector:
        hosts = {urlsplit(u).hostname for u in spec.redirect_uris}
        if len(hosts) > 1:
            # OIDC Core §8.1: several hosts need an explicit sector identifier.
            raise ClientError("redirect URIs on several hosts need --sector-identifier")
        sector = hosts.pop() if hosts else (spec.client_id or "service")
    if spec.id_token_signed_response_alg not in ("ES256", "RS256"):
        raise ClientError("ID token algorithm is ES256 or RS256")

    secret = None if method in ("none", "private_key_jwt") else secrets.token_urlsafe(32)
    client = Client(
        client_id=spec.client_id or secrets.token_urlsafe(18),
        name=spec.name,
        secret_hash=secret_hash(hmac_key, secret) if secret else None,
        token_endpoint_auth_method=method,
        redirect_uris=list(spec.redirect_uris),
        post_logout_redirect_uris=list(spec.post_logout_redirect_uris),
        backchannel_logout_uri=spec.backchannel_logout_uri,
        grant_types=grant_types,
        scopes=scopes,
        jwks=spec.jwks,
        jwks_uri=spec.jwks_uri,
        subject_type=spec.subject_type,
        sector_identifier=sector,
        id_token_signed_response_alg=spec.id_token_signed_response_alg,
        first_party=spec.first_party,
        allow_ine=spec.allow_ine,
        created_at=clock.now(),
    )
    db.add(client)
    db.flush()
    return client, secret
