"""Interoperability with openid-client, an independent OpenID Certified relying-party library.

``openid_client_flow.mjs`` runs discovery, the code flow (PKCE S256, state, nonce; the hosted
login and consent pages driven with plain fetch), userinfo, refresh rotation and reuse detection,
introspection, revocation, client_credentials, a public client and RP-initiated logout against
the app served over HTTP. The library validates the protocol (RFC 9207 ``iss``, the ES256 ID
token against the JWKS, nonce, PKCE); this test checks what the script observed.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.e2e.live import LiveIdP, node_modules_ready, run_node
from tests.support.oidc import PASSWORD, make_account, make_rp

SCOPES = ["openid", "profile", "email"]


def _config(idp: LiveIdP) -> dict:
    state, base = idp.state, idp.base_url
    account = make_account(state, "c.durand", given_name="Camille", family_name="Durand")
    confidential = make_rp(
        state,
        name="Service confidentiel",
        redirect_uris=[f"{base}/rp/cb"],
        post_logout_redirect_uris=[f"{base}/rp/bye"],
        grant_types=["authorization_code", "refresh_token"],
        scopes=SCOPES,
        token_endpoint_auth_method="client_secret_basic",
        first_party=True,
    )
    public = make_rp(
        state,
        name="Application mobile",
        redirect_uris=[f"{base}/app/cb"],
        public=True,
        grant_types=["authorization_code", "refresh_token"],
        scopes=SCOPES,
        first_party=False,
    )
    service = make_rp(
        state,
        name="Serveur de ressources",
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["introspection"],
    )
    return {
        "issuer": base,
        "username": account.username,
        "password": PASSWORD,
        "confidential": {
            "client_id": confidential.client_id,
            "client_secret": confidential.secret,
            "redirect_uri": confidential.redirect_uri,
            "post_logout_redirect_uri": f"{base}/rp/bye",
        },
        "public": {"client_id": public.client_id, "redirect_uri": public.redirect_uri},
        "service": {"client_id": service.client_id, "client_secret": service.secret},
        "_ids": {"confidential": confidential.client_id, "service": service.client_id},
    }


def test_openid_client_interoperates(live_idp: LiveIdP):
    node_modules_ready("openid-client")
    config = _config(live_idp)
    base = live_idp.base_url
    out = run_node("openid_client_flow.mjs", config)

    assert out["discovery"]["issuer"] == base
    assert out["discovery"]["authorization_response_iss_parameter_supported"] is True

    conf = out["confidential"]
    assert conf["pages"] == ["login"]  # first party: no consent page
    claims = conf["id_token_claims"]
    assert claims["iss"] == base
    assert claims["aud"] == config["_ids"]["confidential"]
    assert claims["amr"] == ["pwd"]
    assert {"sid", "auth_time", "at_hash"} <= claims.keys()
    assert conf["userinfo"]["sub"] == claims["sub"]
    assert conf["userinfo"]["given_name"] == "Camille"
    assert conf["introspection"]["active"] is True
    assert conf["introspection"]["sub"] == claims["sub"]

    refresh = conf["refresh"]
    assert refresh["rotated"] is True
    assert refresh["reuse_error"] == "invalid_grant"
    assert refresh["after_reuse_error"] == "invalid_grant"  # the whole family was revoked
    assert refresh["access_after_reuse"] == {"active": False}

    assert out["sso"] == {"pages": [], "same_sid": True}

    service = out["service"]
    assert service["token_type"].lower() == "bearer"
    assert service["scope"] == "introspection"
    assert service["has_refresh_token"] is False
    assert service["introspection"]["active"] is True
    assert service["introspection"]["client_id"] == config["_ids"]["service"]
    assert service["user_token"]["active"] is True
    assert service["user_token"]["client_id"] == config["_ids"]["confidential"]

    assert conf["revocation"] == {
        "access_before": True,
        "access_after": False,
        "refresh_before": True,
        "refresh_after": False,
        "refresh_grant_error": "invalid_grant",
    }

    public = out["public"]
    assert public["pages"] == ["login", "consent"]
    assert public["userinfo_sub"] == public["id_token_claims"]["sub"]
    # Pairwise subjects per sector: both clients redirect to 127.0.0.1, one sector, one sub.
    assert public["id_token_claims"]["sub"] == claims["sub"]
    assert public["refresh_rotated"] is True
    assert public["refresh_after_revocation_error"] == "invalid_grant"
    assert public["without_pkce"]["status"] == 302
    assert public["without_pkce"]["error"] == "invalid_request"

    logout = out["logout"]
    assert logout["had_session_cookie"] is True
    assert logout["status"] == 303
    assert logout["location"].startswith(f"{base}/rp/bye?")
    assert logout["state_returned"] is True
    assert logout["session_cookie_cleared"] is True
    next_authorize = logout["next_authorize"]
    assert next_authorize["status"] == 303
    assert urlsplit(next_authorize["location"]).path == "/login"
    assert "auth" in parse_qs(urlsplit(next_authorize["location"]).query)
