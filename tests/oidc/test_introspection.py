"""RFC 7662 introspection and RFC 7009 revocation."""

from __future__ import annotations

from tests.support.oidc import assert_oauth_error, make_rp, pkce


def _tokens(browser, rp):
    verifier, challenge = pkce()
    params = browser.code_flow(rp, code_challenge=challenge, code_challenge_method="S256")
    return browser.tokens(rp, params["code"], verifier).json()


class TestIntrospection:
    def test_active_access_token(self, browser, client, rp, account):
        token = _tokens(browser, rp)["access_token"]
        body = client.post("/introspect", data={"token": token}, auth=rp.basic).json()
        assert body["active"] is True
        assert body["client_id"] == rp.client_id
        assert set(body["scope"].split()) == {"openid", "profile"}
        assert body["token_type"] == "Bearer"

    def test_refresh_token(self, browser, client, rp, account):
        token = _tokens(browser, rp)["refresh_token"]
        body = client.post(
            "/introspect", data={"token": token, "token_type_hint": "refresh_token"}, auth=rp.basic
        ).json()
        assert body["active"] is True and body["token_type"] == "refresh_token"

    def test_requires_client_authentication(self, browser, client, rp, account):
        token = _tokens(browser, rp)["access_token"]
        assert_oauth_error(client.post("/introspect", data={"token": token}), "invalid_client", 401)

    def test_another_clients_token_is_inactive(self, browser, client, state, rp, account):
        token = _tokens(browser, rp)["access_token"]
        other = make_rp(state)
        assert client.post("/introspect", data={"token": token}, auth=other.basic).json() == {
            "active": False
        }

    def test_resource_server_with_introspection_scope(self, browser, client, state, rp, account):
        token = _tokens(browser, rp)["access_token"]
        api = make_rp(
            state, grant_types=["client_credentials"], scopes=["introspection"], redirect_uris=[]
        )
        assert (
            client.post("/introspect", data={"token": token}, auth=api.basic).json()["active"]
            is True
        )

    def test_garbage(self, client, rp):
        assert client.post("/introspect", data={"token": "garbage"}, auth=rp.basic).json() == {
            "active": False
        }

    def test_missing_token_parameter(self, client, rp):
        assert_oauth_error(client.post("/introspect", data={}, auth=rp.basic), "invalid_request")


class TestRevocation:
    def test_revoke_access_token(self, browser, client, rp, account):
        tokens = _tokens(browser, rp)
        assert (
            client.post(
                "/revoke", data={"token": tokens["access_token"]}, auth=rp.basic
            ).status_code
            == 200
        )
        assert client.post(
            "/introspect", data={"token": tokens["access_token"]}, auth=rp.basic
        ).json() == {"active": False}
        # The refresh token of the same grant still works (only the access token was revoked).
        refresh = client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=rp.basic,
        )
        assert refresh.status_code == 200

    def test_revoke_refresh_token_revokes_the_grant(self, browser, client, rp, account):
        tokens = _tokens(browser, rp)
        client.post(
            "/revoke",
            data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
            auth=rp.basic,
        )
        assert client.post(
            "/introspect", data={"token": tokens["access_token"]}, auth=rp.basic
        ).json() == {"active": False}
        refresh = client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=rp.basic,
        )
        assert_oauth_error(refresh, "invalid_grant")

    def test_unknown_token_is_200(self, client, rp):
        assert client.post("/revoke", data={"token": "nothing"}, auth=rp.basic).status_code == 200

    def test_another_clients_token_is_left_alone(self, browser, client, state, rp, account):
        tokens = _tokens(browser, rp)
        other = make_rp(state)
        assert (
            client.post(
                "/revoke", data={"token": tokens["access_token"]}, auth=other.basic
            ).status_code
            == 200
        )
        assert (
            client.post(
                "/introspect", data={"token": tokens["access_token"]}, auth=rp.basic
            ).json()["active"]
            is True
        )

    def test_unsupported_token_type(self, client, rp):
        response = client.post(
            "/revoke", data={"token": "x", "token_type_hint": "id_token"}, auth=rp.basic
        )
        assert_oauth_error(response, "unsupported_token_type")
