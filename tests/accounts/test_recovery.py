"""Forgotten identifier and password (DESIGN.md §4.6) through the real app."""

from __future__ import annotations

import html
import re
from datetime import date

from tests.accounts import helpers as h
from tests.support.oidc import PASSWORD, make_account, pkce
from tests.support.stores import sessions_for

MOBILE = "+33612345678"


def _ask_username(client, contact):
    page = client.get("/identifiant-oublie")
    return h.post_form(client, page.text, "/identifiant-oublie", contact=contact)


def _ask_password(client, username):
    page = client.get("/mot-de-passe-oublie")
    return h.post_form(client, page.text, "/mot-de-passe-oublie", username=username)


def _shape(text: str) -> str:
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
    text = re.sub(r'name="progress" value="[^"]*"', "", text)
    return re.sub(r"<strong class=\"ec-nowrap\">[^<]*</strong>", "", text)


class TestForgottenIdentifier:
    def test_sent_by_sms_to_the_registry_mobile(self, client, state):
        family = h.notify(
            state,
            h.add_guardian(state, children=[("Léa", date(2012, 5, 3))]),
            username="j.martin12",
            state="active",
            activated_at=state.clock.now(),
        )
        assert family.account_id
        response = _ask_username(client, "06 12 34 56 78")
        assert response.status_code == 200
        [sms] = h.outbox(state, "forgot_username", MOBILE)
        assert "j.martin12" in sms.body

    def test_sent_by_email_to_a_verified_address_only(self, client, state):
        make_account(state, "j.martin12", email="jeanne@example.fr", email_verified=True)
        make_account(state, "p.martin", email="paul@example.fr", email_verified=False)
        _ask_username(client, "Jeanne@Example.fr")
        _ask_username(client, "paul@example.fr")
        [mail] = h.outbox(state, "forgot_username")
        assert mail.recipient == "jeanne@example.fr" and "j.martin12" in mail.body

    def test_same_answer_whether_or_not_an_account_exists(self, client, state):
        make_account(state, "j.martin12", email="jeanne@example.fr", email_verified=True)
        known = _ask_username(client, "jeanne@example.fr")
        unknown = _ask_username(client, "personne@example.fr")
        assert known.status_code == unknown.status_code == 200
        assert _shape(known.text) == _shape(unknown.text)

    def test_invalid_input_and_limits(self, client, state):
        response = _ask_username(client, "pas un numéro")
        assert response.status_code == 400 and 'aria-invalid="true"' in response.text
        statuses = [_ask_username(client, "personne@example.fr").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


class TestForgottenPassword:
    def test_by_sms_code_ends_sessions_and_revokes_grants(self, browser, client, rp, state):
        make_account(state, "j.martin12", phone_number=MOBILE, phone_number_verified=True)
        verifier, challenge = pkce()
        params = browser.code_flow(
            rp, "j.martin12", code_challenge=challenge, code_challenge_method="S256"
        )
        tokens = browser.tokens(rp, params["code"], verifier).json()
        other = type(client)(client.app, base_url="http://localhost")
        h.post_form(
            other, other.get("/login").text, "/login", username="j.martin12", password=PASSWORD
        )
        assert len(sessions_for(state, h.account_id_of(state, "j.martin12"))) == 2

        page = _ask_password(client, "j.martin12")
        assert page.status_code == 200
        page = h.post_form(
            client, page.text, "/mot-de-passe-oublie/code", code=h.last_code(state, MOBILE)
        )
        assert page.status_code == 200 and 'name="password"' in page.text
        weak = h.post_form(
            client,
            page.text,
            "/mot-de-passe-oublie/nouveau",
            password="azertyuiop12",
            password_confirm="azertyuiop12",
        )
        assert weak.status_code == 400
        done = h.post_form(
            client,
            page.text,
            "/mot-de-passe-oublie/nouveau",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert done.status_code == 200 and "Mot de passe modifié" in done.text
        assert sessions_for(state, h.account_id_of(state, "j.martin12")) == []
        refreshed = client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=rp.basic,
        )
        assert refreshed.status_code == 400
        # The verified-code step sets one password only.
        again = h.post_form(
            client,
            page.text,
            "/mot-de-passe-oublie/nouveau",
            password="Autre-Phrase-Secrete-42",
            password_confirm="Autre-Phrase-Secrete-42",
        )
        assert again.status_code == 400
        client.cookies.clear()
        assert browser.login("j.martin12", PASSWORD).status_code == 400
        assert browser.login("j.martin12", h.NEW_PASSWORD).status_code == 303

    def test_by_email_link_when_there_is_no_mobile(self, browser, client, state, clock):
        make_account(state, "j.martin12", email="jeanne@example.fr", email_verified=True)
        page = _ask_password(client, "j.martin12")
        assert page.status_code == 200
        assert h.outbox(state, "otp") == []
        link = h.last_link(state, "password_reset", "jeanne@example.fr")
        form = client.get(link)
        assert form.status_code == 200
        done = h.post_form(
            client,
            form.text,
            "/mot-de-passe-oublie/nouveau",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert done.status_code == 200
        assert client.get(link).status_code == 400
        assert (
            h.post_form(
                client,
                form.text,
                "/mot-de-passe-oublie/nouveau",
                password=h.NEW_PASSWORD,
                password_confirm=h.NEW_PASSWORD,
            ).status_code
            == 400
        )
        # A link expires after 30 minutes.
        _ask_password(client, "j.martin12")
        link = h.last_link(state, "password_reset", "jeanne@example.fr")
        clock.advance(31 * 60)
        assert client.get(link).status_code == 400

    def test_same_answer_whether_or_not_the_account_exists(self, client, state):
        make_account(state, "j.martin12", phone_number=MOBILE, phone_number_verified=True)
        make_account(state, "p.martin", email="paul@example.fr", email_verified=True)
        answers = [_ask_password(client, name) for name in ("j.martin12", "p.martin", "x.nobody")]
        assert {a.status_code for a in answers} == {200}
        assert (
            len(
                {
                    _shape(a.text.replace(name, "NAME"))
                    for a, name in zip(answers, ("j.martin12", "p.martin", "x.nobody"), strict=True)
                }
            )
            == 1
        )
        assert len(h.outbox(state)) == 2

    def test_wrong_code_and_limits(self, client, state):
        make_account(state, "j.martin12", phone_number=MOBILE, phone_number_verified=True)
        page = _ask_password(client, "j.martin12")
        response = h.post_form(
            client,
            page.text,
            "/mot-de-passe-oublie/code",
            code="000000" if h.last_code(state, MOBILE) != "000000" else "111111",
        )
        assert response.status_code == 400 and "Code incorrect" in response.text
        statuses = [_ask_password(client, "j.martin12").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]

    def test_pages_tell_pupils_where_to_go(self, client):
        for url in ("/mot-de-passe-oublie", "/identifiant-oublie"):
            assert "Vous êtes élève" in html.unescape(client.get(url).text)

    def test_new_password_step_cannot_be_posted_directly(self, client, state):
        make_account(state, "j.martin12", phone_number=MOBILE, phone_number_verified=True)
        page = client.get("/mot-de-passe-oublie")
        response = h.post_form(
            client,
            page.text,
            "/mot-de-passe-oublie/nouveau",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert response.status_code == 400
