"""UserInfo (OIDC Core §5.3): userinfo-get, -post-header, -post-body; claims by scope."""

from __future__ import annotations

from idp.db import transaction
from tests.support.oidc import make_rp, pkce


def _token(browser, rp, scope="openid profile email phone"):
    verifier, challenge = pkce()
    params = browser.code_flow(
        rp, scope=scope, code_challenge=challenge, code_challenge_method="S256"
    )
    return browser.tokens(rp, params["code"], verifier).json()


class TestUserinfo:
    def test_userinfo_get(self, browser, client, rp, account):
        token = _token(browser, rp)["access_token"]
        response = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"

    def test_userinfo_post_header(self, browser, client, rp, account):
        token = _token(browser, rp)["access_token"]
        assert (
            client.post("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )

    def test_userinfo_post_body(self, browser, client, rp, account):
        token = _token(browser, rp)["access_token"]
        assert client.post("/userinfo", data={"access_token": token}).status_code == 200

    def test_two_ways_at_once_is_invalid_request(self, browser, client, rp, account):
        token = _token(browser, rp)["access_token"]
        response = client.post(
            "/userinfo", data={"access_token": token}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 400

    def test_no_token(self, client):
        response = client.get("/userinfo")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_bad_token(self, client):
        response = client.get("/userinfo", headers={"Authorization": "Bearer abc.def.ghi"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]

    def test_service_token_has_no_user(self, client, state):
        service = make_rp(
            state, grant_types=["client_credentials"], scopes=["school"], redirect_uris=[]
        )
        token = client.post(
            "/token", data={"grant_type": "client_credentials"}, auth=service.basic
        ).json()["access_token"]
        assert (
            client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        )


class TestScopes:
    def test_scope_profile(self, browser, client, rp, account):
        token = _token(browser, rp, "openid profile")["access_token"]
        claims = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).json()
        assert claims["given_name"] == "Jeanne" and claims["family_name"] == "Martin"
        assert "email" not in claims

    def test_scope_email(self, browser, client, rp, account):
        token = _token(browser, rp, "openid email")["access_token"]
        claims = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).json()
        assert claims["email"] == "j.martin@example.fr" and claims["email_verified"] is True
        assert "given_name" not in claims

    def test_scope_all(self, browser, client, state, account):
        from idp.accounts.models import Account

        with transaction(state.sessions) as db:
            row = db.get(Account, account.id)
            row.phone_number, row.phone_number_verified = "+33612345678", True
        rp = make_rp(state)
        token = _token(browser, rp, "openid profile email phone")["access_token"]
        claims = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).json()
        assert {
            "sub",
            "given_name",
            "family_name",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
        } <= set(claims)

    def test_scopes_the_client_may_not_have_are_dropped(self, browser, client, state, account):
        rp = make_rp(state, scopes=["openid", "profile"])
        token = _token(browser, rp, "openid profile email")
        assert token["scope"] == "openid profile"


class TestSubjects:
    def test_pairwise_subjects_differ_between_sectors_and_are_stable(
        self, browser, client, state, account
    ):
        a = make_rp(state, redirect_uris=["https://lsun.example.fr/cb"])
        b = make_rp(state, redirect_uris=["https://folios.example.fr/cb"])
        a2 = make_rp(state, redirect_uris=["https://lsun.example.fr/other"])
        subs = []
        for rp in (a, b, a2):
            token = _token(browser, rp, "openid")["access_token"]
            subs.append(
                client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).json()["sub"]
            )
        assert subs[0] != subs[1]
        assert subs[0] == subs[2]  # same sector (host)
        assert account.id not in subs

    def test_public_subject(self, browser, client, state, account):
        rp = make_rp(state, subject_type="public")
        token = _token(browser, rp, "openid")["access_token"]
        assert (
            client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).json()["sub"]
            == account.id
        )
