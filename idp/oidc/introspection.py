"""RFC 7662 token introspection and RFC 7009 token revocation.
https://www.rfc-editor.org/rfc/rfc7662 · https://www.rfc-editor.org/rfc/rfc7009

A client may introspect the tokens issued to it; a resource server whose client is allowed the
``introspection`` scope may introspect any token. Anything else is ``{"active": false}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from idp.accounts.models import Account
from idp.oidc.clients import CONFIDENTIAL_AUTH
from idp.oidc.tokens import TokenRef

if TYPE_CHECKING:
    from idp.oidc.server import Server


class UnsupportedTokenType(OAuth2Error):
    """RFC 7009 §2.2.1 — an error response of RFC 6749 §5.2, hence 400 (Authlib says 401)."""

    error = "unsupported_token_type"
    status_code = 400


class _TokenParams:
    SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")

    def check_params(self, request, client) -> None:
        if "token" not in request.form:
            raise InvalidRequestError("Missing 'token' parameter.")
        hint = request.form.get("token_type_hint")
        if hint and hint not in self.SUPPORTED_TOKEN_TYPES:
            raise UnsupportedTokenType()


class Introspection(_TokenParams, IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH

    def __init__(self, server: Server) -> None:
        super().__init__(server)

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRef | None:
        return self.server.tokens.lookup(self.server.db, token_string, token_type_hint)

    def check_permission(self, token: TokenRef, client, request) -> bool:
        return token.client_id == client.client_id or "introspection" in client.scopes

    def introspect_token(self, token: TokenRef) -> dict:
        claims = token.claims
        if token.kind == "refresh_token":
            account_id = claims.get("account_id")
            account = self.server.db.get(Account, account_id) if account_id else None
            if account_id and (account is None or not account.can_log_in):
                return {"active": False}
            client = self.server.query_client(token.client_id)
            body = {
                "active": True,
                "token_type": "refresh_token",
                "client_id": token.client_id,
                "scope": claims["scope"],
                "iat": claims["iat"],
                "exp": claims["exp"],
                "iss": self.server.settings.issuer_url,
            }
            if account and client:
                body["sub"] = self.server.tokens.subject(client, account.id)
            return body
        body = {"active": True, "token_type": "Bearer"}
        for name in (
            "scope",
            "client_id",
            "sub",
            "aud",
            "iss",
            "exp",
            "iat",
            "jti",
            "auth_time",
            "acr",
            "sid",
        ):
            if name in claims:
                body[name] = claims[name]
        return body


class Revocation(_TokenParams, RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

    def __init__(self, server: Server) -> None:
        super().__init__(server)

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRef | None:
        return self.server.tokens.lookup(self.server.db, token_string, token_type_hint)

    def authenticate_token(self, request, client):
        # RFC 7009 §2.2: a token of another client is ignored (200), not an error, so the
        # endpoint tells nothing about tokens that are not the caller's.
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is not None and token.check_client(client):
            return token
        return None

    def revoke_token(self, token: TokenRef, request) -> None:
        db = self.server.db
        tokens = self.server.tokens
        if token.kind == "refresh_token":
            # RFC 7009 §2.1: revoking a refresh token revokes the grant's access tokens too.
            tokens.revoke_grant(db, token.grant_id, "revoked")
        else:
            tokens.revoke_access_token(db, token.claims)
