"""Profile changes under /compte (password, e-mail, mobile) through the real app."""

from __future__ import annotations

import html

from starlette.testclient import TestClient

from tests.accounts import helpers as h
from tests.support.oidc import PASSWORD, make_account
from tests.support.stores import sessions_for


def _signed_in(client, browser, state, **fields):
    account = make_account(state, "j.martin12", **fields)
    assert browser.login("j.martin12", PASSWORD).status_code == 303
    return account


class TestPassword:
    def test_change_requires_the_current_password_and_ends_other_sessions(
        self, client, browser, state
    ):
        account = _signed_in(client, browser, state)
        other = TestClient(client.app, base_url="http://localhost")
        h.post_form(
            other, other.get("/login").text, "/login", username="j.martin12", password=PASSWORD
        )
        assert len(sessions_for(state, account.id)) == 2
        page = client.get("/compte/mot-de-passe")
        assert page.status_code == 200 and 'name="current_password"' in page.text
        wrong = h.post_form(
            client,
            page.text,
            "/compte/mot-de-passe",
            current_password="nope",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert wrong.status_code == 400 and "actuel incorrect" in wrong.text
        same = h.post_form(
            client,
            page.text,
            "/compte/mot-de-passe",
            current_password=PASSWORD,
            password=PASSWORD,
            password_confirm=PASSWORD,
        )
        assert same.status_code == 400 and "différent" in html.unescape(same.text)
        done = h.post_form(
            client,
            page.text,
            "/compte/mot-de-passe",
            current_password=PASSWORD,
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert done.status_code == 200 and "Mot de passe modifié" in done.text
        [kept] = sessions_for(state, account.id)
        assert client.get("/compte/mot-de-passe").status_code == 200  # this browser stays signed in
        assert other.get("/compte/mot-de-passe", follow_redirects=False).status_code == 303
        assert kept

    def test_franceconnect_only_accounts_are_told_where_their_password_is(
        self, client, browser, state
    ):
        account = _signed_in(client, browser, state)
        with state.uow() as db:
            from idp.accounts.models import Account

            db.get(Account, account.id).password_hash = None
        page = client.get("/compte/mot-de-passe")
        assert "Vous vous connectez avec FranceConnect" in html.unescape(page.text)
        assert 'name="password"' not in page.text

    def test_needs_a_session(self, client):
        for url in ("/compte/mot-de-passe", "/compte/courriel", "/compte/mobile"):
            response = client.get(url, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/login")


class TestEmail:
    def test_new_address_confirmed_by_link_and_old_address_told(
        self, client, browser, state, clock
    ):
        account = _signed_in(client, browser, state, email="old@example.fr", email_verified=True)
        page = client.get("/compte/courriel")
        bad = h.post_form(client, page.text, "/compte/courriel", email="nope")
        assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
        sent = h.post_form(client, page.text, "/compte/courriel", email="new@example.fr")
        assert sent.status_code == 200
        assert h.account(state, account.id).email == "old@example.fr"
        link = h.last_link(state, "email_change", "new@example.fr")
        confirm = client.get(link)
        done = h.post_form(client, confirm.text, "/compte/courriel/confirmer")
        assert done.status_code == 200
        updated = h.account(state, account.id)
        assert (updated.email, updated.email_verified) == ("new@example.fr", True)
        [notice] = h.outbox(state, "email_changed", "old@example.fr")
        assert "new@example.fr" in notice.body
        assert h.post_form(client, confirm.text, "/compte/courriel/confirmer").status_code == 400
        h.post_form(client, page.text, "/compte/courriel", email="later@example.fr")
        link = h.last_link(state, "email_change", "later@example.fr")
        clock.advance(24 * 3600 + 1)
        assert client.get(link).status_code == 400


class TestMobile:
    def test_new_number_confirmed_by_sms_code(self, client, browser, state):
        account = _signed_in(client, browser, state)
        page = client.get("/compte/mobile")
        bad = h.post_form(client, page.text, "/compte/mobile", mobile="01 23 45 67 89")
        assert bad.status_code == 400
        page = h.post_form(client, page.text, "/compte/mobile", mobile="06 11 22 33 44")
        assert page.status_code == 200 and "06 •• •• •• 44" in page.text
        code = h.last_code(state, "+33611223344")
        wrong = h.post_form(
            client, page.text, "/compte/mobile/code", code=f"{(int(code) + 1) % 10**6:06d}"
        )
        assert wrong.status_code == 400
        done = h.post_form(client, page.text, "/compte/mobile/code", code=code)
        assert done.status_code == 200
        updated = h.account(state, account.id)
        assert (updated.phone_number, updated.phone_number_verified) == ("+33611223344", True)

    def test_code_page_of_another_session_is_refused(self, client, browser, state):
        _signed_in(client, browser, state)
        page = h.post_form(
            client, client.get("/compte/mobile").text, "/compte/mobile", mobile="06 11 22 33 44"
        )
        browser.login("j.martin12", PASSWORD)  # new session
        response = h.post_form(
            client, page.text, "/compte/mobile/code", code=h.last_code(state, "+33611223344")
        )
        assert response.status_code == 303

    def test_resend_replaces_the_code(self, client, browser, state):
        _signed_in(client, browser, state)
        page = h.post_form(
            client, client.get("/compte/mobile").text, "/compte/mobile", mobile="06 11 22 33 44"
        )
        first = h.last_code(state, "+33611223344")
        resent = h.post_form(client, page.text, "/compte/mobile/renvoyer")
        assert resent.status_code == 200 and "Un nouveau code a été demandé" in resent.text
        second = h.last_code(state, "+33611223344")
        if first != second:
            refused = h.post_form(client, resent.text, "/compte/mobile/code", code=first)
            assert refused.status_code == 400
        done = h.post_form(client, resent.text, "/compte/mobile/code", code=second)
        assert done.status_code == 200 and "06 •• •• •• 44" in done.text
