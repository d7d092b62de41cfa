"""Client credentials (RFC 6749 §4.4) for service clients, with RFC 9068 access tokens."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.oidc import assert_oauth_error, make_rp


def _service(state, **overrides):
    return make_rp(
        state,
        grant_types=["client_credentials"],
        scopes=["school", "introspection"],
        redirect_uris=[],
        **overrides,
    )


class TestClientCredentials:
    def test_issues_a_jwt_access_token(self, client, state):
        service = _service(state)
        response = client.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": "school"},
            auth=service.basic,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "refresh_token" not in body and "id_token" not in body
        token = jwt.decode(body["access_token"], KeySet.import_key_set(client.get("/jwks").json()))
        assert token.header["typ"] == "at+jwt"
        assert token.claims["sub"] == service.client_id
        assert token.claims["client_id"] == service.client_id
        assert token.claims["scope"] == "school"

    def test_scope_not_allowed_is_invalid_scope(self, client, state):
        service = _service(state)
        response = client.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": "children"},
            auth=service.basic,
        )
        assert_oauth_error(response, "invalid_scope")

    def test_wrong_secret(self, client, state):
        service = _service(state)
        response = client.post(
            "/token", data={"grant_type": "client_credentials"}, auth=(service.client_id, "nope")
        )
        assert_oauth_error(response, "invalid_client", 401)

    def test_revoked_service_token_is_inactive(self, client, state):
        service = _service(state)
        token = client.post(
            "/token", data={"grant_type": "client_credentials"}, auth=service.basic
        ).json()["access_token"]
        assert (
            client.post("/introspect", data={"token": token}, auth=service.basic).json()["active"]
            is True
        )
        assert client.post("/revoke", data={"token": token}, auth=service.basic).status_code == 200
        assert client.post("/introspect", data={"token": token}, auth=service.basic).json() == {
            "active": False
        }
