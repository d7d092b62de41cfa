"""The token endpoint with authorization codes: PKCE, single use, replay, expiry, client auth."""

from __future__ import annotations

import time

from joserfc import jwt
from joserfc.jwk import ECKey

from tests.support.oidc import assert_oauth_error, make_rp, pkce


def _code(browser, rp, **params):
    verifier, challenge = pkce()
    params = browser.code_flow(rp, code_challenge=challenge, code_challenge_method="S256", **params)
    return params["code"], verifier


class TestCodeExchange:
    def test_ensure_request_with_valid_pkce_succeeds(self, browser, rp, account):
        code, verifier = _code(browser, rp)
        assert browser.tokens(rp, code, verifier).status_code == 200

    def test_wrong_code_verifier(self, browser, rp, account):
        code, _ = _code(browser, rp)
        assert_oauth_error(browser.tokens(rp, code, "x" * 50), "invalid_grant")

    def test_missing_code_verifier(self, browser, rp, account):
        code, _ = _code(browser, rp)
        assert_oauth_error(browser.tokens(rp, code), "invalid_request")

    def test_wrong_redirect_uri(self, browser, rp, account):
        code, verifier = _code(browser, rp)
        response = browser.tokens(rp, code, verifier, redirect_uri="https://rp.example.fr/other")
        assert_oauth_error(response, "invalid_grant")

    def test_code_of_another_client(self, browser, state, rp, account):
        code, verifier = _code(browser, rp)
        other = make_rp(state)
        assert_oauth_error(
            browser.tokens(other, code, verifier, redirect_uri=rp.redirect_uri), "invalid_grant"
        )

    def test_code_expires_after_60_seconds(self, browser, rp, account, clock):
        code, verifier = _code(browser, rp)
        clock.advance(61)
        assert_oauth_error(browser.tokens(rp, code, verifier), "invalid_grant")

    def test_server_client_secret_post(self, browser, client, state, account):
        rp = make_rp(state, token_endpoint_auth_method="client_secret_post")
        code, verifier = _code(browser, rp)
        response = client.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": rp.redirect_uri,
                "code_verifier": verifier,
                "client_id": rp.client_id,
                "client_secret": rp.secret,
            },
        )
        assert response.status_code == 200, response.text

    def test_auth_method_must_be_the_registered_one(self, browser, client, rp, account):
        code, verifier = _code(browser, rp)  # rp is client_secret_basic
        response = client.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": rp.redirect_uri,
                "code_verifier": verifier,
                "client_id": rp.client_id,
                "client_secret": rp.secret,
            },
        )
        assert_oauth_error(response, "invalid_client", 401)

    def test_public_client_with_pkce(self, browser, state, account):
        public = make_rp(state, public=True, redirect_uris=["http://127.0.0.1:9999/cb"])
        code, verifier = _code(browser, public)
        body = browser.tokens(public, code, verifier).json()
        assert (
            "access_token" in body and "refresh_token" not in body
        )  # public clients get no refresh

    def test_private_key_jwt(self, browser, client, state, account):
        key = ECKey.generate_key("P-256", parameters={"kid": "rp-key-1"}, private=True)
        rp = make_rp(
            state,
            token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [key.as_dict(private=False)]},
        )
        code, verifier = _code(browser, rp)

        def assertion(jti: str) -> str:
            now = int(time.time())
            claims = {
                "iss": rp.client_id,
                "sub": rp.client_id,
                "aud": "http://localhost/token",
                "jti": jti,
                "iat": now,
                "exp": now + 60,
            }
            return jwt.encode({"alg": "ES256", "kid": "rp-key-1"}, claims, key)

        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion("a1"),
        }
        assert client.post("/token", data=data).status_code == 200
        # The same assertion (same jti) is refused.
        data["code"], data["code_verifier"] = _code(browser, rp)
        assert_oauth_error(client.post("/token", data=data), "invalid_client")


class TestCodeReuse:
    def test_codereuse(self, browser, rp, account):
        code, verifier = _code(browser, rp)
        assert browser.tokens(rp, code, verifier).status_code == 200
        assert_oauth_error(browser.tokens(rp, code, verifier), "invalid_grant")

    def test_codereuse_revokes_the_tokens_of_the_first_use(
        self, browser, client, rp, account, clock
    ):
        code, verifier = _code(browser, rp)
        first = browser.tokens(rp, code, verifier).json()
        clock.advance(30)
        assert_oauth_error(browser.tokens(rp, code, verifier), "invalid_grant")
        headers = {"Authorization": f"Bearer {first['access_token']}"}
        assert client.get("/userinfo", headers=headers).status_code == 401
        introspection = client.post(
            "/introspect", data={"token": first["access_token"]}, auth=rp.basic
        ).json()
        assert introspection == {"active": False}
        refresh = client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            auth=rp.basic,
        )
        assert_oauth_error(refresh, "invalid_grant")


class TestClientErrors:
    def test_invalid_client_basic_gets_401_with_www_authenticate(
        self, browser, client, rp, account
    ):
        code, verifier = _code(browser, rp)
        response = client.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": rp.redirect_uri,
                "code_verifier": verifier,
            },
            auth=(rp.client_id, "wrong"),
        )
        assert_oauth_error(response, "invalid_client", 401)
        assert response.headers["www-authenticate"].startswith("Basic")

    def test_unsupported_grant_type(self, client, rp):
        assert_oauth_error(
            client.post("/token", data={"grant_type": "password"}, auth=rp.basic),
            "unsupported_grant_type",
        )

    def test_missing_grant_type(self, client, rp):
        response = client.post("/token", data={}, auth=rp.basic)
        assert response.status_code == 400
        assert response.json()["error"] in ("unsupported_grant_type", "invalid_request")

    def test_unauthorized_client(self, client, rp):
        response = client.post("/token", data={"grant_type": "client_credentials"}, auth=rp.basic)
        assert_oauth_error(response, "unauthorized_client")

    def test_garbage_body_is_never_a_500(self, client, rp):
        response = client.post(
            "/token",
            content=b"\xff\xfe\x00garbage",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=rp.basic,
        )
        assert 400 <= response.status_code < 500
