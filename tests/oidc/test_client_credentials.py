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


class TestClientCache:
    """Clients are cached a few seconds per process (idp.oidc.client_cache): a change must
    still be seen, at once in this process, within the lifetime from elsewhere."""

    def test_the_grant_uses_no_database_connection_once_the_client_is_known(self, client, state):
        from sqlalchemy import event

        service = _service(state)
        data = {"grant_type": "client_credentials"}
        assert client.post("/token", data=data, auth=service.basic).status_code == 200
        checkouts = []
        listener = lambda *args: checkouts.append(1)  # noqa: E731
        event.listen(state.engine, "checkout", listener)
        try:
            for _ in range(3):
                assert client.post("/token", data=data, auth=service.basic).status_code == 200
        finally:
            event.remove(state.engine, "checkout", listener)
        assert checkouts == []

    def test_a_change_made_elsewhere_is_seen_within_the_lifetime(self, client, state):
        from idp.db import transaction
        from idp.oidc import client_cache
        from idp.oidc.clients import secret_hash
        from idp.oidc.models import Client

        now = [1000.0]
        state.server.clients = client_cache.ClientCache(now=lambda: now[0])
        service = _service(state)
        data = {"grant_type": "client_credentials"}
        assert client.post("/token", data=data, auth=service.basic).status_code == 200
        with transaction(state.sessions) as db:  # as the CLI or another instance would
            db.get(Client, service.client_id).secret_hash = secret_hash(
                state.settings.secrets["secret_key"], "a-new-secret"
            )
        now[0] += client_cache.TTL + 0.1
        assert_oauth_error(
            client.post("/token", data=data, auth=service.basic), "invalid_client", 401
        )
        assert (
            client.post("/token", data=data, auth=(service.client_id, "a-new-secret")).status_code
            == 200
        )

    def test_a_deleted_client_is_refused_within_the_lifetime(self, client, state):
        from sqlalchemy import delete

        from idp.db import transaction
        from idp.oidc import client_cache
        from idp.oidc.models import Client

        now = [1000.0]
        state.server.clients = client_cache.ClientCache(now=lambda: now[0])
        service = _service(state)
        data = {"grant_type": "client_credentials"}
        assert client.post("/token", data=data, auth=service.basic).status_code == 200
        with transaction(state.sessions) as db:
            db.execute(delete(Client).where(Client.client_id == service.client_id))
        now[0] += client_cache.TTL + 0.1
        assert_oauth_error(
            client.post("/token", data=data, auth=service.basic), "invalid_client", 401
        )

    def test_invalidate_drops_at_once(self, state):
        from idp.db import transaction
        from idp.oidc.client_cache import ClientCache

        service = _service(state)
        cache = ClientCache()
        with transaction(state.sessions) as db:
            first = cache.get(db, service.client_id, lambda c: None)
            assert cache.get(db, service.client_id, lambda c: None) is first
            cache.invalidate(service.client_id)
            assert cache.get(db, service.client_id, lambda c: None) is not first
