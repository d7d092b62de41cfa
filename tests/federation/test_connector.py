"""The FranceConnect connector driven against the simulator over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import httpx
import pytest

from federation.connector import MESSAGE_UNAVAILABLE, FranceConnectErrorCode
from federation.franceconnect import FranceConnectConnector, FranceConnectError
from federation.simulator import IDENTITIES

# Same values as the simulator's registered client (tests/federation/conftest.py).
CLIENT_ID = "educonnect-test"
CLIENT_SECRET = "a-long-enough-test-secret-for-the-simulator"
REDIRECT_URI = "https://educonnect.test/fc/callback"
POST_LOGOUT_REDIRECT_URI = "https://educonnect.test/fc/logged-out"


def _login(connector, browser, identity="camille-martin"):
    state, nonce = connector.new_state_and_nonce()
    params = browser.login(connector.login_url(state, nonce), identity)
    return params, state, nonce


def test_full_login_returns_the_verified_identity(connector, browser):
    params, state, nonce = _login(connector, browser)
    identity = connector.handle_callback(params, state, nonce)

    assert re.fullmatch(r"[0-9a-f]{64}v1", identity.sub)
    assert identity.given_name == "Camille Marie"
    assert identity.family_name == "MARTIN"
    assert identity.birthdate == date(1984, 3, 12)
    assert identity.gender == "female"
    assert identity.email == "camille.martin@example.fr"
    assert identity.birthplace == "75107"
    assert identity.birthcountry == "99100"
    # FC v2 no longer releases preferred_username with identite_pivot, and we do not ask for it.
    assert identity.preferred_username is None
    assert identity.id_token_claims["acr"] == "eidas1"
    assert identity.id_token_claims["amr"] == ["pwd"]
    assert identity.id_token_claims["nonce"] == nonce
    assert identity.raw["aud"] == CLIENT_ID
    assert identity.id_token not in repr(identity)


@pytest.mark.parametrize("expected", IDENTITIES, ids=lambda identity: identity.key)
def test_every_identity_can_log_in(connector, browser, expected):
    params, state, nonce = _login(connector, browser, expected.key)
    identity = connector.handle_callback(params, state, nonce)
    assert (identity.sub, identity.family_name) == (expected.sub, expected.family_name)
    assert identity.birthdate == date.fromisoformat(expected.birthdate)
    assert identity.birthplace == expected.birthplace


def test_login_url_carries_fc_parameters(connector):
    state, nonce = connector.new_state_and_nonce()
    url = httpx.URL(connector.login_url(state, nonce))
    assert url.path.endswith("/api/v2/authorize")
    assert url.params["scope"] == "openid identite_pivot email"
    assert url.params["acr_values"] == "eidas1"
    assert (url.params["state"], url.params["nonce"]) == (state, nonce)
    assert url.params["redirect_uri"] == REDIRECT_URI


def test_login_url_refuses_short_state(connector):
    with pytest.raises(ValueError):
        connector.login_url("short", "n" * 40)


def test_cancel_maps_to_access_denied(connector, browser):
    state, nonce = connector.new_state_and_nonce()
    page_url, page = browser.open_picker(connector.login_url(state, nonce))
    params = browser.callback_params(browser.submit(page_url, page, "action", "cancel"))
    assert params == {
        "error": "access_denied",
        "error_description": "User auth aborted",
        "state": state,
    }
    with pytest.raises(FranceConnectError) as caught:
        connector.handle_callback(params, state, nonce)
    assert caught.value.code == FranceConnectErrorCode.ACCESS_DENIED
    assert "annulé" in caught.value.message


def test_wrong_state_is_rejected_before_redeeming_the_code(connector, browser):
    params, state, nonce = _login(connector, browser)
    with pytest.raises(FranceConnectError) as caught:
        connector.handle_callback(params, "x" * 43, nonce)
    assert caught.value.code == FranceConnectErrorCode.INVALID_STATE
    # The code was not spent: the legitimate callback still works.
    assert connector.handle_callback(params, state, nonce).family_name == "MARTIN"


def test_replayed_code_is_invalid_grant(connector, browser):
    params, state, nonce = _login(connector, browser)
    connector.handle_callback(params, state, nonce)
    with pytest.raises(FranceConnectError) as caught:
        connector.handle_callback(params, state, nonce)
    assert caught.value.code == FranceConnectErrorCode.INVALID_GRANT
    assert caught.value.message == "La connexion avec FranceConnect a expiré. Veuillez recommencer."


def test_expired_code_is_invalid_grant(connector, browser, simulator):
    params, state, nonce = _login(connector, browser)
    simulator.clock.offset = 61
    with pytest.raises(FranceConnectError) as caught:
        connector.handle_callback(params, state, nonce)
    assert caught.value.code == FranceConnectErrorCode.INVALID_GRANT


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("wrong_nonce", FranceConnectErrorCode.INVALID_ID_TOKEN),
        ("bad_id_token_signature", FranceConnectErrorCode.INVALID_ID_TOKEN),
        ("wrong_issuer", FranceConnectErrorCode.INVALID_ID_TOKEN),
        ("wrong_audience", FranceConnectErrorCode.INVALID_ID_TOKEN),
        ("expired_id_token", FranceConnectErrorCode.INVALID_ID_TOKEN),
        ("unknown_kid", FranceConnectErrorCode.INVALID_ID_TOKEN),
        ("bad_userinfo_signature", FranceConnectErrorCode.INVALID_USERINFO),
        ("userinfo_sub_mismatch", FranceConnectErrorCode.INVALID_USERINFO),
        ("userinfo_json", FranceConnectErrorCode.INVALID_USERINFO),
        ("token_server_error", FranceConnectErrorCode.UNAVAILABLE),
    ],
)
def test_faulty_provider_responses_are_rejected(connector, browser, simulator, fault, code):
    params, state, nonce = _login(connector, browser)
    simulator.faults.add(fault)
    with pytest.raises(FranceConnectError) as caught:
        connector.handle_callback(params, state, nonce)
    assert caught.value.code == code
    assert caught.value.message  # French, shown to the user
    assert "eyJ" not in str(caught.value)  # no token in messages meant for logs


def test_wrong_nonce_detail_names_the_check(connector, browser, simulator):
    params, state, nonce = _login(connector, browser)
    simulator.faults.add("wrong_nonce")
    with pytest.raises(FranceConnectError, match="nonce"):
        connector.handle_callback(params, state, nonce)


def test_key_rotation_is_followed_by_refetching_the_jwks(connector, browser, simulator):
    params, state, nonce = _login(connector, browser)
    connector.handle_callback(params, state, nonce)  # JWKS now cached
    simulator.app.state.simulator.signer.rotate()
    params, state, nonce = _login(connector, browser)
    assert connector.handle_callback(params, state, nonce).family_name == "MARTIN"


def test_unreachable_provider_gives_a_french_message():
    with httpx.Client(timeout=1.0) as http:
        unreachable = FranceConnectConnector(
            discovery_url="http://127.0.0.1:9/api/v2/.well-known/openid-configuration",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT_URI,
            post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI,
            http=http,
        )
        with pytest.raises(FranceConnectError) as caught:
            unreachable.login_url("s" * 32, "n" * 32)
    assert caught.value.code == FranceConnectErrorCode.UNAVAILABLE
    assert caught.value.message == MESSAGE_UNAVAILABLE


def test_wrong_client_secret_is_reported_without_leaking_it(simulator, browser):
    with FranceConnectConnector(
        discovery_url=simulator.discovery_url,
        client_id=CLIENT_ID,
        client_secret="not-the-secret",
        redirect_uri=REDIRECT_URI,
        post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI,
    ) as connector:
        params, state, nonce = _login(connector, browser)
        with pytest.raises(FranceConnectError) as caught:
            connector.handle_callback(params, state, nonce)
    assert caught.value.code == FranceConnectErrorCode.INVALID_CLIENT
    assert "not-the-secret" not in str(caught.value)


def test_logout_round_trip(connector, browser):
    params, state, nonce = _login(connector, browser)
    identity = connector.handle_callback(params, state, nonce)
    logout_state, _ = connector.new_state_and_nonce()
    response = browser.http.get(connector.logout_url(identity.id_token, logout_state))
    assert response.status_code == 303
    assert response.headers["location"] == f"{POST_LOGOUT_REDIRECT_URI}?state={logout_state}"


@contextmanager
def _recording_connector(
    simulator, fetched: list[str], **options
) -> Iterator[FranceConnectConnector]:
    """A connector to the simulator that notes the path of every request it sends."""
    hooks = {"request": [lambda r: fetched.append(r.url.path)]}
    with (
        httpx.Client(event_hooks=hooks) as http,
        FranceConnectConnector(
            discovery_url=simulator.discovery_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT_URI,
            post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI,
            http=http,
            **options,
        ) as connector,
    ):
        yield connector


def test_documents_are_cached_and_an_unknown_kid_refetches_the_jwks_once(simulator, browser):
    fetched: list[str] = []
    with _recording_connector(simulator, fetched) as connector:
        params, state, nonce = _login(connector, browser)
        connector.handle_callback(params, state, nonce)
        params, state, nonce = _login(connector, browser)
        simulator.faults.add("unknown_kid")
        with pytest.raises(FranceConnectError):
            connector.handle_callback(params, state, nonce)
    assert fetched.count("/api/v2/.well-known/openid-configuration") == 1
    assert fetched.count("/api/v2/jwks") == 2


def test_logout_url_uses_the_discovery_document_it_has_even_past_its_ttl(simulator, browser):
    """The IdP builds the logout URL while it ends its own session, in a transaction: no call
    to FranceConnect then, as long as one discovery document was ever fetched."""
    fetched: list[str] = []
    with _recording_connector(simulator, fetched, cache_ttl=0) as connector:  # all stale at once
        params, state, nonce = _login(connector, browser)
        identity = connector.handle_callback(params, state, nonce)
        fetched.clear()
        logout_state, _ = connector.new_state_and_nonce()
        url = connector.logout_url(identity.id_token, logout_state)
        assert fetched == []
        connector.login_url(*connector.new_state_and_nonce())
        assert fetched == ["/api/v2/.well-known/openid-configuration"]  # the TTL is past
    response = browser.http.get(url)
    assert response.headers["location"] == f"{POST_LOGOUT_REDIRECT_URI}?state={logout_state}"
