"""The simulator mounted under a prefix, the way the IdP serves it at /fc."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI

from federation.franceconnect import FranceConnectConnector
from federation.simulator import SimulatorClient, create_simulator_app
from tests.support.live_server import live_server

CLIENT = SimulatorClient(
    client_id="mounted-client",
    client_secret="mounted-client-secret-value",
    redirect_uris=["https://idp.test/fc/callback"],
    post_logout_redirect_uris=["https://idp.test/fc/logged-out"],
)


def _idp_with_simulator(base_url: str) -> FastAPI:
    idp = FastAPI()
    idp.mount("/fc", create_simulator_app(f"{base_url}/fc/api/v2", [CLIENT]))
    return idp


def test_login_and_logout_through_a_mounted_simulator(browser):
    with (
        live_server(factory=_idp_with_simulator) as base_url,
        FranceConnectConnector(
            discovery_url=f"{base_url}/fc/api/v2/.well-known/openid-configuration",
            client_id=CLIENT.client_id,
            client_secret=CLIENT.client_secret,
            redirect_uri=CLIENT.redirect_uris[0],
            post_logout_redirect_uri=CLIENT.post_logout_redirect_uris[0],
        ) as connector,
    ):
        state, nonce = connector.new_state_and_nonce()
        login_url = connector.login_url(state, nonce)
        assert login_url.startswith(f"{base_url}/fc/api/v2/authorize?")
        page_url, page = browser.open_picker(login_url)
        assert page_url.startswith(f"{base_url}/fc/api/v2/interaction/")
        response = browser.submit(page_url, page, "identity", "karim-benali")
        assert response.headers["location"].startswith(CLIENT.redirect_uris[0] + "?")
        query = dict(parse_qsl(urlsplit(response.headers["location"]).query))
        identity = connector.handle_callback(query, state, nonce)
        assert (identity.given_name, identity.family_name) == ("Karim", "BENALI")
        assert identity.id_token_claims["iss"] == f"{base_url}/fc/api/v2"

        logout = browser.http.get(connector.logout_url(identity.id_token, state))
        assert logout.status_code == 303
        assert logout.headers["location"] == f"{CLIENT.post_logout_redirect_uris[0]}?state={state}"
