"""Refresh tokens (RFC 6749 §6): rotation on every use, reuse revokes the whole family."""

from __future__ import annotations

from idp.db import transaction
from tests.support.oidc import assert_oauth_error, pkce


def _tokens(browser, rp, scope="openid profile email"):
    verifier, challenge = pkce()
    params = browser.code_flow(
        rp, scope=scope, code_challenge=challenge, code_challenge_method="S256"
    )
    return browser.tokens(rp, params["code"], verifier).json()


def _refresh(client, rp, token, **extra):
    return client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token, **extra},
        auth=rp.basic,
    )


class TestRefresh:
    def test_refresh_token_rotates(self, browser, client, rp, account):
        first = _tokens(browser, rp)
        response = _refresh(client, rp, first["refresh_token"])
        assert response.status_code == 200, response.text
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert (
            client.get(
                "/userinfo", headers={"Authorization": f"Bearer {second['access_token']}"}
            ).status_code
            == 200
        )

    def test_reuse_revokes_the_family(self, browser, client, rp, account):
        first = _tokens(browser, rp)
        second = _refresh(client, rp, first["refresh_token"]).json()
        assert_oauth_error(_refresh(client, rp, first["refresh_token"]), "invalid_grant")
        assert_oauth_error(_refresh(client, rp, second["refresh_token"]), "invalid_grant")
        assert (
            client.get(
                "/userinfo", headers={"Authorization": f"Bearer {second['access_token']}"}
            ).status_code
            == 401
        )

    def test_narrower_scope(self, browser, client, rp, account):
        first = _tokens(browser, rp)
        body = _refresh(client, rp, first["refresh_token"], scope="openid").json()
        assert body["scope"] == "openid"
        # The rotated refresh token keeps the original scope.
        wider = _refresh(client, rp, body["refresh_token"], scope="openid profile email").json()
        assert set(wider["scope"].split()) == {"openid", "profile", "email"}

    def test_wider_scope_is_invalid_scope(self, browser, client, rp, account):
        first = _tokens(browser, rp, scope="openid")
        assert_oauth_error(
            _refresh(client, rp, first["refresh_token"], scope="openid email"), "invalid_scope"
        )

    def test_refresh_token_of_another_client(self, browser, client, rp, account, state):
        from tests.support.oidc import make_rp

        first = _tokens(browser, rp)
        other = make_rp(state)
        assert_oauth_error(_refresh(client, other, first["refresh_token"]), "invalid_grant")

    def test_disabled_account_cannot_refresh(self, browser, client, rp, account, state):
        from idp.accounts.models import Account, AccountState

        first = _tokens(browser, rp)
        with transaction(state.sessions) as db:
            db.get(Account, account.id).state = AccountState.disabled
        assert_oauth_error(_refresh(client, rp, first["refresh_token"]), "invalid_grant")
