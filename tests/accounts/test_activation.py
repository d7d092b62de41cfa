"""Activation of a notified account (DESIGN.md §4.2) through the real app."""

from __future__ import annotations

from datetime import date

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.accounts.journeys.models import LinkReport
from idp.accounts.models import AccountState, ActivationRoute
from idp.db import transaction
from tests.accounts import helpers as h
from tests.support.oidc import make_account, pkce, query

BIRTHDATES = [date(2012, 5, 3), date(2015, 11, 24)]


def _family(state, **kwargs):
    family = h.add_guardian(
        state, children=[("Léa", BIRTHDATES[0]), ("Hugo", BIRTHDATES[1])], **kwargs
    )
    return h.notify(state, family)


def _dates(family, *values):
    return {f"birthdate_{pid}": v for pid, v in zip(family.pupil_ids, values, strict=True)}


def _login_to_activation(browser, rp, **params):
    response = browser.authorize(rp, **params)
    assert response.headers["location"].startswith("/login")
    response = browser.submit_login(response.headers["location"], "j.martin12", h.TEMPORARY)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/activation?auth=")
    return browser.client.get(response.headers["location"])


class TestGuardianActivation:
    def test_full_activation_then_code_flow(self, browser, client, rp, state):
        family = _family(state)
        verifier, challenge = pkce()
        page = _login_to_activation(
            browser,
            rp,
            scope="openid profile email children",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        assert page.status_code == 200
        assert "Léa" in page.text and "Hugo" in page.text
        page = h.post_form(
            client, page.text, "/activation/enfants", **_dates(family, "03/05/2012", "2015-11-24")
        )
        assert page.status_code == 200, page.text
        assert 'name="password"' in page.text
        sent = h.post_form(
            client,
            page.text,
            "/activation/mot-de-passe",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
            email="Jeanne.Martin@Example.fr",
        )
        assert sent.status_code == 200, sent.text
        assert "Jeanne.Martin@example.fr" in sent.text
        # Not active until the e-mail is confirmed; the temporary password still works.
        assert h.account(state, family.account_id).state == AccountState.notified
        link = h.last_link(state, "activation_email", "Jeanne.Martin@example.fr")
        confirm_page = client.get(link)
        assert confirm_page.status_code == 200
        response = h.post_form(client, confirm_page.text, "/activation/courriel")
        assert response.status_code in (302, 303), response.text
        params = query(response.headers["location"])
        assert response.headers["location"].startswith(rp.redirect_uri)
        account = h.account(state, family.account_id)
        assert account.state == AccountState.active
        assert account.activation_route == ActivationRoute.letter
        assert account.email_verified and account.activated_at is not None
        assert state.passwords.verify(account.password_hash, h.NEW_PASSWORD)

        tokens = browser.tokens(rp, params["code"], verifier)
        assert tokens.status_code == 200, tokens.text
        keys = KeySet.import_key_set(client.get("/jwks").json())
        claims = jwt.decode(tokens.json()["id_token"], keys, algorithms=["ES256"]).claims
        info = client.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
        ).json()
        assert info["sub"] == claims["sub"]
        assert info["given_name"] == "Jeanne"
        assert info["email"] == "Jeanne.Martin@example.fr" and info["email_verified"] is True
        assert sorted(child["given_name"] for child in info["children"]) == ["Hugo", "Léa"]
        # The link is single-use.
        assert client.get(link).status_code == 400
        assert h.post_form(client, confirm_page.text, "/activation/courriel").status_code == 400
        # The temporary password no longer works; the new one does.
        client.cookies.clear()
        assert browser.login("j.martin12", h.TEMPORARY).status_code == 400
        assert browser.login("j.martin12", h.NEW_PASSWORD).status_code == 303


class TestChildrenStep:
    def test_wrong_birth_date_is_refused_then_locked(self, browser, client, rp, state):
        family = _family(state)
        page = _login_to_activation(browser, rp)
        for _ in range(5):
            response = h.post_form(
                client,
                page.text,
                "/activation/enfants",
                **_dates(family, "04/05/2012", "24/11/2015"),
            )
            assert response.status_code == 400
            assert "ne correspond pas" in response.text
        response = h.post_form(
            client, page.text, "/activation/enfants", **_dates(family, "04/05/2012", "24/11/2015")
        )
        assert response.status_code == 429
        # Even the right dates wait for the lock to end.
        response = h.post_form(
            client, page.text, "/activation/enfants", **_dates(family, "03/05/2012", "24/11/2015")
        )
        assert response.status_code == 429
        assert client.get("/activation").status_code == 429

    def test_missing_and_malformed_dates_are_explained(self, browser, client, rp, state):
        family = _family(state)
        page = _login_to_activation(browser, rp)
        response = h.post_form(
            client, page.text, "/activation/enfants", **_dates(family, "", "31/02/2015")
        )
        assert response.status_code == 400
        assert "Saisissez la date de naissance de Léa" in response.text
        assert "Format attendu" in response.text
        assert f'aria-describedby="birthdate_{family.pupil_ids[0]}-error"' in response.text
        assert 'aria-invalid="true"' in response.text

    def test_not_my_child_records_a_report(self, browser, client, rp, state):
        family = _family(state)
        page = _login_to_activation(browser, rp)
        fields = {**_dates(family, "03/05/2012", ""), f"not_mine_{family.pupil_ids[1]}": "1"}
        response = h.post_form(client, page.text, "/activation/enfants", **fields)
        assert response.status_code == 200, response.text
        assert 'name="password"' in response.text
        with transaction(state.sessions) as db:
            [report] = db.scalars(select(LinkReport)).all()
            assert (report.pupil_id, report.guardian_id, report.status) == (
                family.pupil_ids[1],
                family.guardian_ids[0],
                "open",
            )
            assert report.school_uai == h.uai("0750001")

    def test_at_least_one_child_must_be_confirmed(self, browser, client, rp, state):
        family = _family(state)
        page = _login_to_activation(browser, rp)
        fields = {f"not_mine_{pid}": "1" for pid in family.pupil_ids}
        response = h.post_form(client, page.text, "/activation/enfants", **fields)
        assert response.status_code == 400
        assert "au moins un enfant" in response.text


class TestSteps:
    def test_needs_a_session(self, client, state):
        _family(state)
        response = client.get("/activation", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")

    def test_password_step_cannot_be_reached_directly(self, browser, client, rp, state):
        family = _family(state)
        page = _login_to_activation(browser, rp)
        fields = dict(
            password=h.NEW_PASSWORD, password_confirm=h.NEW_PASSWORD, email="j@example.fr"
        )
        response = h.post_form(client, page.text, "/activation/mot-de-passe", **fields)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/activation"
        )
        response = h.post_form(
            client, page.text, "/activation/mot-de-passe", progress="forged.token", **fields
        )
        assert response.status_code == 303
        assert h.outbox(state) == []
        assert h.account(state, family.account_id).state == AccountState.notified

    def test_progress_is_bound_to_the_session(self, browser, client, rp, state):
        family = _family(state)
        page = _login_to_activation(browser, rp)
        password_page = h.post_form(
            client, page.text, "/activation/enfants", **_dates(family, "03/05/2012", "24/11/2015")
        )
        browser.login("j.martin12", h.TEMPORARY)  # a new session: the old progress is void
        fields = dict(
            password=h.NEW_PASSWORD, password_confirm=h.NEW_PASSWORD, email="j@example.fr"
        )
        response = h.post_form(client, password_page.text, "/activation/mot-de-passe", **fields)
        assert response.status_code == 303

    def test_csrf_is_required(self, browser, client, rp, state):
        family = _family(state)
        _login_to_activation(browser, rp)
        response = client.post(
            "/activation/enfants", data=_dates(family, "03/05/2012", "24/11/2015")
        )
        assert response.status_code == 403


class TestPasswordAndEmail:
    def _password_page(self, browser, client, rp, state):
        family = _family(state)
        page = _login_to_activation(browser, rp)
        return family, h.post_form(
            client, page.text, "/activation/enfants", **_dates(family, "03/05/2012", "24/11/2015")
        )

    def test_weak_or_temporary_password_and_bad_email_are_refused(self, browser, client, rp, state):
        _, page = self._password_page(browser, client, rp, state)
        response = h.post_form(
            client,
            page.text,
            "/activation/mot-de-passe",
            password="azertyuiop12",
            password_confirm="azertyuiop12",
            email="pas-une-adresse",
        )
        assert response.status_code == 400
        assert "trop facile" in response.text and "Adresse électronique incorrecte" in response.text
        response = h.post_form(
            client,
            response.text,
            "/activation/mot-de-passe",
            password=h.TEMPORARY + "-x",
            password_confirm=h.TEMPORARY + "-x",
            email="",
        )
        assert response.status_code == 400 and "Saisissez votre adresse" in response.text
        response = h.post_form(
            client,
            page.text,
            "/activation/mot-de-passe",
            password="Leonard-Vinci-Joconde",
            password_confirm="Leonard-Vinci-Joconde",
            email="j@example.fr",
        )
        assert response.status_code == 200  # (not personal: neither Jeanne, Martin, Léa nor Hugo)
        response = h.post_form(
            client,
            page.text,
            "/activation/mot-de-passe",
            password="Martin-Vinci-Joconde",
            password_confirm="Martin-Vinci-Joconde",
            email="j@example.fr",
        )
        assert response.status_code == 400 and "votre nom" in response.text

    def test_link_opened_elsewhere_activates_and_sends_to_login(self, browser, client, rp, state):
        family, page = self._password_page(browser, client, rp, state)
        h.post_form(
            client,
            page.text,
            "/activation/mot-de-passe",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
            email="j@example.fr",
        )
        link = h.last_link(state, "activation_email", "j@example.fr")
        client.cookies.clear()
        confirm = client.get(link)
        response = h.post_form(client, confirm.text, "/activation/courriel")
        assert response.status_code == 200
        assert "Votre compte est activé" in response.text and 'href="/login"' in response.text
        assert h.account(state, family.account_id).state == AccountState.active

    def test_expired_and_replaced_links_are_refused(self, browser, client, rp, state, clock):
        family, page = self._password_page(browser, client, rp, state)
        sent = h.post_form(
            client,
            page.text,
            "/activation/mot-de-passe",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
            email="j@example.fr",
        )
        first = h.last_link(state, "activation_email", "j@example.fr")
        resent = h.post_form(client, sent.text, "/activation/renvoyer")
        assert resent.status_code == 200
        second = h.last_link(state, "activation_email", "j@example.fr")
        assert first != second
        assert client.get(first).status_code == 400
        clock.advance(24 * 3600 + 1)
        assert client.get(second).status_code == 400
        assert h.account(state, family.account_id).state == AccountState.notified


class TestOtherAccounts:
    def test_pupil_chooses_a_password_and_goes_on(self, browser, client, rp, state):
        from idp.accounts.models import AccountKind

        family = h.add_guardian(state, children=[("Léa", BIRTHDATES[0])])
        make_account(
            state,
            "l.martin",
            h.TEMPORARY,
            kind=AccountKind.pupil,
            state=AccountState.notified,
            given_name="Léa",
            pupil_id=family.pupil_ids[0],
            email=None,
            email_verified=False,
            activated_at=None,
        )
        response = browser.authorize(rp)
        response = browser.submit_login(response.headers["location"], "l.martin", h.TEMPORARY)
        page = client.get(response.headers["location"])
        assert 'name="email"' not in page.text and "birthdate_" not in page.text
        response = h.post_form(
            client,
            page.text,
            "/activation/mot-de-passe",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert response.status_code in (302, 303) and response.headers["location"].startswith(
            rp.redirect_uri
        )
        with transaction(state.sessions) as db:
            from idp.accounts.models import Account

            pupil = db.scalar(select(Account).where(Account.username == "l.martin"))
            assert (
                pupil.state == AccountState.active
                and pupil.activation_route == ActivationRoute.letter
            )

    def test_expired_letter_points_to_the_school(self, browser, client, state, clock):
        _family(state)
        clock.advance(91 * 24 * 3600)
        response = browser.login("j.martin12", h.TEMPORARY)
        assert response.status_code == 400
        assert "expiré" in response.text and "école" in response.text
