"""The FranceConnect simulator's own behaviour, over real HTTP (no connector involved)."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

NONCE = "n" * 32
STATE = "s" * 32


def _authorize_params(simulator, **overrides):
    params = {
        "response_type": "code",
        "client_id": simulator.client.client_id,
        "redirect_uri": simulator.client.redirect_uris[0],
        "scope": "openid identite_pivot email",
        "acr_values": "eidas1",
        "state": STATE,
        "nonce": NONCE,
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def _assert_error_page(response, code="Y000400", status=400):
    assert response.status_code == status
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text
    assert "Une erreur est survenue" in response.text
    assert code in response.text


def test_discovery_lists_fc_v2_endpoints(simulator):
    document = httpx.get(simulator.discovery_url).json()
    assert document["issuer"] == simulator.issuer
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
        ("end_session_endpoint", "/session/end"),
    ]:
        assert document[name] == simulator.issuer + path
    assert document["acr_values_supported"] == ["eidas1"]
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    keys = httpx.get(document["jwks_uri"]).json()["keys"]
    # More than one key after a rotation test: the previous key stays published.
    assert {(k["kty"], k["alg"], "d" in k) for k in keys} == {("EC", "ES256", False)}
    assert all(k["kid"] for k in keys)


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://attacker.test/callback"},
        {"client_id": "unknown-client"},
        {"client_id": None},
        {"response_type": "token"},
        {"scope": "identite_pivot email"},
        {"acr_values": None},
        {"acr_values": "eidas3"},
        {"state": None},
        {"nonce": None},
        {"nonce": "n" * 21},
        {"prompt": "none"},
        {"claims": "not json"},
    ],
    ids=lambda overrides: "-".join(f"{k}={v}" for k, v in overrides.items()),
)
def test_invalid_authorize_request_shows_an_error_page(simulator, browser, overrides):
    url = f"{simulator.issuer}/authorize?{urlencode(_authorize_params(simulator, **overrides))}"
    response = browser.http.get(url)
    _assert_error_page(response)
    assert "attacker" not in response.text


def test_authorize_accepts_post_and_shows_the_picker(simulator, browser):
    response = browser.http.post(
        f"{simulator.issuer}/authorize", data=_authorize_params(simulator, prompt="login")
    )
    assert response.status_code == 303
    page = browser.http.get(httpx.URL(f"{simulator.issuer}/").join(response.headers["location"]))
    assert page.status_code == 200
    assert "Choisir une identité de test" in page.text
    for name in ("Camille Marie MARTIN", "Karim BENALI", "Jean Pierre DUPONT", "Annuler"):
        assert name in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_picker_refuses_a_missing_csrf_token_and_keeps_the_interaction(simulator, browser):
    url = f"{simulator.issuer}/authorize?{urlencode(_authorize_params(simulator))}"
    page_url, page = browser.open_picker(url)
    forged = browser.http.post(page_url, data={"identity": "camille-martin"})
    _assert_error_page(forged, "Y000403", 403)
    params = browser.callback_params(browser.submit(page_url, page, "identity", "karim-benali"))
    assert params["state"] == STATE
    assert params["code"]


def test_interaction_is_single_use(simulator, browser):
    url = f"{simulator.issuer}/authorize?{urlencode(_authorize_params(simulator))}"
    page_url, page = browser.open_picker(url)
    browser.callback_params(browser.submit(page_url, page, "identity", "camille-martin"))
    _assert_error_page(browser.submit(page_url, page, "identity", "camille-martin"), "Y000404", 404)


def _code(simulator, browser, **overrides):
    url = f"{simulator.issuer}/authorize?{urlencode(_authorize_params(simulator, **overrides))}"
    return browser.login(url)["code"]


def test_token_endpoint_accepts_basic_auth_and_signs_es256(simulator, browser):
    code = _code(simulator, browser)
    client = simulator.client
    response = httpx.post(
        f"{simulator.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uris[0],
        },
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 60
    assert response.headers["cache-control"] == "no-store"
    keys = KeySet.import_key_set(httpx.get(f"{simulator.issuer}/jwks").json())
    token = jwt.decode(body["id_token"], keys, algorithms=["ES256"])
    assert token.header["kid"]
    claims = token.claims
    assert (claims["iss"], claims["aud"], claims["nonce"]) == (
        simulator.issuer,
        client.client_id,
        NONCE,
    )
    assert claims["acr"] == "eidas1"
    assert {"sub", "exp", "iat", "auth_time", "sid"} <= claims.keys()
    assert "amr" not in claims  # FC only adds it when the claims parameter asks for it

    userinfo = httpx.get(
        f"{simulator.issuer}/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert userinfo.headers["content-type"] == "application/jwt"
    released = jwt.decode(userinfo.text, keys, algorithms=["ES256"]).claims
    assert released["sub"] == claims["sub"]
    # identite_pivot + email, never preferred_username (removed from identite_pivot in v2).
    assert {"given_name", "family_name", "birthdate", "gender", "birthplace", "email"} <= set(
        released
    )
    assert "preferred_username" not in released


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"client_secret": "wrong"}, None, 401, "invalid_client"),
        ({}, ("educonnect-test", "wrong"), 401, "invalid_client"),
        ({"grant_type": "password"}, None, 400, "unsupported_grant_type"),
        ({"redirect_uri": "https://educonnect.test/other"}, None, 400, "invalid_grant"),
        ({"code": "made-up"}, None, 400, "invalid_grant"),
    ],
)
def test_token_endpoint_errors(simulator, browser, form, auth, status, error):
    client = simulator.client
    data = {
        "grant_type": "authorization_code",
        "code": _code(simulator, browser),
        "redirect_uri": client.redirect_uris[0],
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }
    if auth:
        del data["client_id"], data["client_secret"]
    data.update(form)
    response = httpx.post(f"{simulator.issuer}/token", data=data, auth=auth)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_userinfo_requires_a_valid_bearer_token(simulator):
    response = httpx.get(f"{simulator.issuer}/userinfo", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def _id_token(simulator, browser):
    client = simulator.client
    response = httpx.post(
        f"{simulator.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": _code(simulator, browser),
            "redirect_uri": client.redirect_uris[0],
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    return response.json()["id_token"]


def test_session_end_redirects_with_state(simulator, browser):
    params = {
        "id_token_hint": _id_token(simulator, browser),
        "state": "logout-state",
        "post_logout_redirect_uri": simulator.client.post_logout_redirect_uris[0],
    }
    response = browser.http.get(f"{simulator.issuer}/session/end", params=params)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"{simulator.client.post_logout_redirect_uris[0]}?state=logout-state"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"id_token_hint": None},
        {"id_token_hint": "forged"},
        {"state": None},
        {"post_logout_redirect_uri": None},
        {"post_logout_redirect_uri": "https://attacker.test/"},
        {"post_logout_redirect_uri": "https://educonnect.test/fc/callback"},
    ],
    ids=lambda overrides: "-".join(f"{k}={v}" for k, v in overrides.items()),
)
def test_session_end_rejects_bad_parameters(simulator, browser, overrides):
    params = {
        "id_token_hint": _id_token(simulator, browser),
        "state": "logout-state",
        "post_logout_redirect_uri": simulator.client.post_logout_redirect_uris[0],
        **overrides,
    }
    params = {key: value for key, value in params.items() if value is not None}
    _assert_error_page(browser.http.get(f"{simulator.issuer}/session/end", params=params))


def test_session_end_rejects_an_id_token_from_another_provider(simulator, browser):
    foreign = _id_token(simulator, browser)
    header, payload, _signature = foreign.split(".")
    tampered = f"{header}.{payload}.{'A' * 86}"
    response = browser.http.get(
        f"{simulator.issuer}/session/end",
        params={
            "id_token_hint": tampered,
            "state": "s",
            "post_logout_redirect_uri": simulator.client.post_logout_redirect_uris[0],
        },
    )
    _assert_error_page(response)
