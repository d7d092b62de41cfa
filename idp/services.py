"""The application's services, built once from the settings: the composition root shared by
the server (``idp.app.create_app``), the worker and the command line."""

from __future__ import annotations

from idp.accounts.passwords import Passwords
from idp.clock import Clock
from idp.db import make_engine, make_session_factory
from idp.messaging.messenger import Messenger
from idp.oidc.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    IdToken,
    PrivateKeyJwt,
    RefreshTokenGrant,
    S256CodeChallenge,
)
from idp.oidc.interaction import Interactions
from idp.oidc.introspection import Introspection, Revocation
from idp.oidc.keys import KeyManager
from idp.oidc.server import Server
from idp.oidc.tokens import TokenService
from idp.saml.wiring import make_saml
from idp.security.audit import Audit
from idp.security.sealing import Seals
from idp.security.stores import make_stores
from idp.settings import Settings
from idp.state import AppState
from idp.web.templating import Templates


def build_state(settings: Settings, clock: Clock | None = None) -> AppState:
    clock = clock or Clock()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    keys = KeyManager(settings, sessions, clock)
    stores = make_stores(settings, clock)
    audit = Audit(clock)
    tokens = TokenService(settings, keys, clock)
    seals = Seals(
        settings.secrets["secret_key"], settings.secrets["key_encryption_key"], clock.timestamp
    )
    server = Server(settings, keys, tokens, clock, stores, audit)
    register_all(server)
    return AppState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=make_session_factory(engine, readonly=True),
        clock=clock,
        passwords=Passwords(settings),
        keys=keys,
        stores=stores,
        templates=Templates(settings),
        server=server,
        tokens=tokens,
        audit=audit,
        interactions=Interactions(seals.browser("interaction")),
        seals=seals,
        messenger=Messenger(settings, clock),
        saml=make_saml(settings, sessions, clock, seals),
    )


def register_all(server: Server) -> None:
    """What the authorization server offers, in one place: the grants with their extensions
    (PKCE S256 required, OpenID Connect ID tokens), client authentication, introspection
    (RFC 7662) and revocation (RFC 7009)."""
    server.register_grant(
        AuthorizationCodeGrant, [S256CodeChallenge(required=True), IdToken(server)]
    )
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(server))
    server.register_endpoint(Introspection(server))
    server.register_endpoint(Revocation(server))
