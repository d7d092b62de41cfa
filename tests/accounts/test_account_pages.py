""" "Mon compte": identity, children, connected services and sessions, and undoing them."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from idp.accounts.models import Account
from idp.db import transaction
from idp.oidc.models import Consent, Grant
from tests.accounts import helpers as h
from tests.support.franceconnect import assert_page_basics
from tests.support.oidc import PASSWORD, Browser, csrf_of, make_rp, pkce
from tests.support.stores import session_of, sessions_for


@pytest.fixture
def family(state) -> h.Family:
    first = h.add_guardian(state, children=[("Léa", date(2012, 5, 3))])
    h.add_guardian(state, children=[("Ancien", date(2009, 1, 1))], departed=True)
    family = h.notify(state, first, username="j.martin12")
    with transaction(state.sessions) as db:
        account = db.get(Account, family.account_id)
        account.state = h.AccountState.active
        account.activated_at = state.clock.now()
        account.password_hash = state.passwords.hash(PASSWORD)
        account.email, account.email_verified = "jeanne@example.fr", False
        account.phone_number, account.phone_number_verified = "+33612345678", True
    return family


def text(response) -> str:
    return html.unescape(response.text)


def post(client: TestClient, action: str, **fields):
    """Post like the page's forms do (any page of the account carries the browser's token)."""
    token = csrf_of(client.get("/compte/rattacher").text)
    return client.post(action, data={"csrf_token": token, **fields}, follow_redirects=False)


class TestOverview:
    def test_needs_a_session(self, client):
        response = client.get("/compte", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"

    def test_shows_identity_children_and_links(self, client, browser, family):
        browser.login("j.martin12", PASSWORD)
        page = client.get("/compte")
        assert page.status_code == 200
        body = text(page)
        for expected in ("Jeanne Martin", "j.martin12", "jeanne@example.fr", "+33612345678"):
            assert expected in body
        assert "Adresse électronique à confirmer" in body
        assert (
            "Léa" in body
            and "Collège Victor Hugo" in body
            and "5A" in body
            and "03/05/2012" in body
        )
        assert "Ancien" not in body  # departed
        for link in (
            "/compte/mot-de-passe",
            "/compte/courriel",
            "/compte/mobile",
            "/compte/rattacher",
        ):
            assert f'href="{link}"' in page.text
        assert "géré par le compte que vous utilisez avec FranceConnect" not in body
        assert_page_basics(page.text)
        assert_page_basics(client.get("/compte/rattacher").text)

    def test_franceconnect_only_account(self, state, client, browser, family):
        browser.login("j.martin12", PASSWORD)
        with transaction(state.sessions) as db:
            account = db.get(Account, family.account_id)
            account.password_hash = None
            account.email_verified = True
        body = text(client.get("/compte"))
        assert "géré par le compte que vous utilisez avec FranceConnect" in body
        assert 'href="/compte/mot-de-passe"' not in body
        assert "Adresse électronique à confirmer" not in body

    def test_notice_after_an_action(self, client, browser, family):
        browser.login("j.martin12", PASSWORD)
        assert "La session a été fermée." in client.get("/compte?fait=session").text


class TestServices:
    def test_revoking_a_service_revokes_its_tokens_and_consent(
        self, state, client, browser, family
    ):
        rp = make_rp(state, name="Télé-services", first_party=False)
        verifier, challenge = pkce()
        params = browser.code_flow(
            rp, "j.martin12", PASSWORD, code_challenge=challenge, code_challenge_method="S256"
        )
        tokens = browser.tokens(rp, params["code"], verifier).json()
        page = client.get("/compte")
        assert "Télé-services" in page.text

        response = post(client, "/compte/services/revoquer", client_id=rp.client_id)
        assert response.status_code == 303
        assert response.headers["location"] == "/compte?fait=service"
        with transaction(state.sessions) as db:
            assert all(
                g.revoked_at
                for g in db.scalars(select(Grant).where(Grant.client_id == rp.client_id))
            )
            assert db.scalar(select(Consent)) is None
        refreshed = client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=rp.basic,
        )
        assert refreshed.status_code == 400
        userinfo = client.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert userinfo.status_code == 401
        assert "Télé-services" not in client.get("/compte").text

    def test_another_accounts_service_is_untouched(
        self, state, client, browser, rp, family, account
    ):
        # ``account`` is someone else (j.martin) who uses the service.
        other = Browser(TestClient(browser.client.app, base_url="http://localhost"))
        other.code_flow(rp)
        browser.login("j.martin12", PASSWORD)
        post(client, "/compte/services/revoquer", client_id=rp.client_id)
        with transaction(state.sessions) as db:
            grants = list(db.scalars(select(Grant).where(Grant.account_id == account.id)))
        assert grants and all(g.revoked_at is None for g in grants)

    def test_needs_csrf(self, client, browser, family):
        browser.login("j.martin12", PASSWORD)
        assert client.post("/compte/services/revoquer", data={"client_id": "x"}).status_code == 403


class TestSessions:
    def test_ending_another_session(self, state, app, client, browser, family):
        phone = Browser(
            TestClient(
                app,
                base_url="http://localhost",
                headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"},
            )
        )
        phone.login("j.martin12", PASSWORD)
        browser.login("j.martin12", PASSWORD)
        page = client.get("/compte")
        assert "Safari sous iPhone" in page.text and "(cet appareil)" in page.text
        sessions = sessions_for(state, family.account_id)
        assert len(sessions) == 2
        mine = session_of(state, client.cookies["ec_session"])
        [theirs] = [s for s in sessions if s.sid != mine.sid]

        response = post(client, "/compte/sessions/terminer", sid=theirs.sid)
        assert response.headers["location"] == "/compte?fait=session"
        assert [s.sid for s in sessions_for(state, family.account_id)] == [mine.sid]
        assert phone.client.get("/compte", follow_redirects=False).headers["location"] == "/login"

    def test_own_session_goes_to_logout(self, state, client, browser, family):
        browser.login("j.martin12", PASSWORD)
        mine = session_of(state, client.cookies["ec_session"])
        response = post(client, "/compte/sessions/terminer", sid=mine.sid)
        assert response.headers["location"] == "/logout"

    def test_cannot_end_someone_elses_session(self, state, app, client, browser, family, account):
        stranger = Browser(TestClient(app, base_url="http://localhost"))
        stranger.login()  # j.martin
        [theirs] = sessions_for(state, account.id)
        browser.login("j.martin12", PASSWORD)
        post(client, "/compte/sessions/terminer", sid=theirs.sid)
        assert sessions_for(state, account.id)
