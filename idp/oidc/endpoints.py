"""What the authorization server offers, in one place: the grants with their extensions
(PKCE S256 required, OpenID Connect ID tokens), client authentication methods, introspection
(RFC 7662) and revocation (RFC 7009)."""

from __future__ import annotations

from idp.oidc.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    IdToken,
    PrivateKeyJwt,
    RefreshTokenGrant,
    S256CodeChallenge,
)
from idp.oidc.introspection import Introspection, Revocation
from idp.oidc.server import Server


def register_all(server: Server) -> None:
    server.register_grant(
        AuthorizationCodeGrant, [S256CodeChallenge(required=True), IdToken(server)]
    )
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(server))
    server.register_endpoint(Introspection(server))
    server.register_endpoint(Revocation(server))
