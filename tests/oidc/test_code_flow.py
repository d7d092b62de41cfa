"""The authorization code flow end to end (OIDC Basic OP: oidcc-server)."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.oidc import pkce


def test_code_flow_issues_verified_tokens(browser, client, rp, account, state):
    verifier, challenge = pkce()
    params = browser.code_flow(
        rp, code_challenge=challenge, code_challenge_method="S256", nonce="n-0S6_WzA2Mj"
    )
    assert params["iss"] == "http://localhost"
    response = browser.tokens(rp, params["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert "refresh_token" in body
    keys = KeySet.import_key_set(client.get("/jwks").json())
    id_token = jwt.decode(body["id_token"], keys, algorithms=["ES256"])
    claims = id_token.claims
    assert claims["iss"] == "http://localhost"
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    for name in ("auth_time", "sid", "acr", "amr", "at_hash", "sub", "exp", "iat"):
        assert name in claims, name
    assert claims["amr"] == ["pwd"]
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == claims["sub"]
    assert userinfo.json()["given_name"] == "Jeanne"
