"""``educonnect demo``: registry families, demo accounts and the demo relying party (idempotent)."""

from __future__ import annotations

from idp.db import transaction
from idp.oidc.clients import ClientSpec, create_client, secret_hash
from idp.oidc.models import Client
from idp.security.sealing import derive_key
from idp.services import build_state
from idp.settings import Settings

DEMO_CLIENT_ID = "lsun-demo"
DEMO_SCOPES = ["openid", "profile", "email", "phone", "children", "school", "fredu"]


def demo_client_secret(settings: Settings) -> str:
    """Derived from the server secret, so the in-process demo RP knows it without storage."""
    return derive_key(settings.secrets["secret_key"], "demo-relying-party").hex()


def demo_client_spec(settings: Settings) -> ClientSpec:
    iss = settings.issuer_url
    return ClientSpec(
        name="LSUN démo",
        client_id=DEMO_CLIENT_ID,
        redirect_uris=[f"{iss}/demo/callback"],
        post_logout_redirect_uris=[f"{iss}/demo"],
        backchannel_logout_uri=f"{iss}/demo/backchannel-logout",
        grant_types=["authorization_code", "refresh_token"],
        scopes=DEMO_SCOPES,
        token_endpoint_auth_method="client_secret_basic",
    )


def ensure_demo_client(state) -> None:
    settings = state.settings
    spec = demo_client_spec(settings)
    key = settings.secrets["secret_key"]
    with transaction(state.sessions) as db:
        client = db.get(Client, DEMO_CLIENT_ID)
        if client is None:
            client, _ = create_client(db, spec, state.clock, key)
        # The issuer may have changed (``make run PORT=8100``): keep the URIs in step.
        client.redirect_uris = spec.redirect_uris
        client.post_logout_redirect_uris = spec.post_logout_redirect_uris
        client.backchannel_logout_uri = spec.backchannel_logout_uri
        client.sector_identifier = "localhost"
        client.scopes = spec.scopes
        client.secret_hash = secret_hash(key, demo_client_secret(settings))


def seed(settings: Settings) -> list[dict]:
    state = build_state(settings)
    state.keys.ensure_keys()
    ensure_demo_client(state)
    from idp.saml.demo_sp import ensure_demo_sp

    ensure_demo_sp(state)
    from idp.admin.demo import seed_demo_staff
    from idp.demo.registry import seed_demo_registry

    logins = seed_demo_registry(state.sessions, settings)
    logins += seed_demo_staff(state)
    state.engine.dispose()
    return logins
