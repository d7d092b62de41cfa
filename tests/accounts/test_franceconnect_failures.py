"""FranceConnect failures end on a clear French page and never open a session: tampered or
replayed callbacks, a misbehaving provider (simulator faults), unknown identities, wrong birth
dates, wrong SMS codes."""

from __future__ import annotations

import html
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from federation.simulator import tokens as faults
from idp.accounts.models import Account, FederatedIdentity
from idp.db import transaction
from idp.settings import Settings
from tests.accounts import helpers as h
from tests.accounts.test_franceconnect_login import MOBILE, camille
from tests.support.franceconnect import FcBrowser, LiveIdp, assert_page_basics, live_idp, query


@pytest.fixture
def idp(settings: Settings, engine) -> Iterator[LiveIdp]:
    def settings_factory(**overrides) -> Settings:
        return Settings(**{**settings.model_dump(), **overrides})

    with live_idp(settings_factory) as served:
        yield served


@pytest.fixture
def browser(idp) -> Iterator[FcBrowser]:
    b = FcBrowser(idp)
    yield b
    b.close()


def assert_refused(browser: FcBrowser, response, text: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert text in page_text(response)
    assert "Connexion avec FranceConnect impossible" in response.text
    assert_page_basics(response.text)
    assert not browser.has_session
    with transaction(browser.idp.state.sessions) as db:
        assert db.scalar(select(FederatedIdentity)) is None


def page_text(response) -> str:
    return html.unescape(response.text)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return parts._replace(query=urlencode({**query(url), **changes})).geturl()


class TestTamperedCallbacks:
    def test_cancelled_at_franceconnect(self, browser):
        response = browser.get(browser.to_callback(identity=None))
        assert_refused(browser, response, "Vous avez annulé la connexion avec FranceConnect")

    def test_wrong_state(self, browser):
        callback = browser.to_callback()
        response = browser.get(with_query(callback, state="x" * 43))
        assert_refused(browser, response, "n'a pas abouti")

    def test_callback_from_another_browser(self, idp, browser):
        callback = browser.to_callback()
        stranger = FcBrowser(idp)
        try:
            assert_refused(stranger, stranger.get(callback), "n'a pas abouti")
        finally:
            stranger.close()

    def test_replayed_callback(self, idp, browser):
        camille(idp.state)
        callback = browser.to_callback()
        assert browser.get(callback).status_code == 303  # on to the birth dates
        browser.http.cookies.delete("ec_fc_link")
        assert_refused(browser, browser.get(callback), "n'a pas abouti")

    @pytest.mark.parametrize(
        "fault",
        [
            faults.FAULT_WRONG_NONCE,
            faults.FAULT_BAD_ID_TOKEN_SIGNATURE,
            faults.FAULT_WRONG_ISSUER,
            faults.FAULT_WRONG_AUDIENCE,
            faults.FAULT_EXPIRED_ID_TOKEN,
            faults.FAULT_BAD_USERINFO_SIGNATURE,
            faults.FAULT_USERINFO_SUB_MISMATCH,
            faults.FAULT_USERINFO_JSON,
        ],
    )
    def test_unverifiable_answers(self, idp, browser, fault):
        camille(idp.state)
        idp.faults.add(fault)
        response = browser.get(browser.to_callback())
        assert_refused(browser, response, "Veuillez recommencer")

    def test_provider_down(self, idp, browser):
        idp.faults.add(faults.FAULT_TOKEN_SERVER_ERROR)
        response = browser.get(browser.to_callback())
        assert_refused(browser, response, "momentanément indisponible")

    def test_expired_authorization_request(self, browser):
        response = browser.get("/franceconnect/login?auth=forged")
        assert_refused(browser, response, "La demande de connexion a expiré")


class TestUnknownIdentity:
    def test_explains_what_to_do(self, idp, browser):
        camille(idp.state)  # someone else
        response = browser.get(browser.to_callback(identity="jean-dupont"))
        assert response.status_code == 200
        assert "Votre identité n'est pas connue des écoles" in page_text(response)
        assert "Jean Pierre DUPONT" in response.text
        assert "SIECLE" in response.text and "/inscription" in response.text
        assert_page_basics(response.text)
        assert not browser.has_session

    @pytest.mark.parametrize(
        "record", [{"departed": True}, {"legal": False}], ids=["departed", "contact"]
    )
    def test_only_legal_guardians_of_enrolled_pupils(self, idp, browser, record):
        camille(idp.state, **record)
        response = browser.get(browser.to_callback())
        assert "Votre identité n'est pas connue des écoles" in page_text(response)


class TestLinkingSteps:
    def _to_birthdates(self, idp, browser):
        camille(idp.state)
        assert (
            browser.get(browser.to_callback()).headers["location"] == "/franceconnect/rattachement"
        )
        return browser.get("/franceconnect/rattachement")

    def test_wrong_birth_dates_then_lockout(self, idp, browser):
        page = self._to_birthdates(idp, browser)
        for _ in range(5):
            response = browser.post_page(
                page, "/franceconnect/rattachement", birthdate=["2012-04-02"]
            )
            assert response.status_code == 400
            assert "ne correspondent pas" in page_text(response)
        # Extra dates are refused too: a list of guesses cannot sweep records in.
        response = browser.post_page(
            page,
            "/franceconnect/rattachement",
            birthdate=["2012-04-02", "2015-09-30", "2016-01-01"],
        )
        assert response.status_code == 429
        assert "Trop de tentatives" in response.text
        assert not h.outbox(idp.state, "otp")
        assert not browser.has_session

    def test_invalid_date(self, idp, browser):
        page = self._to_birthdates(idp, browser)
        response = browser.post_page(page, "/franceconnect/rattachement", birthdate=["31/02/2015"])
        assert response.status_code == 400
        assert "Une des dates n'est pas valide" in page_text(response)

    def test_wrong_code(self, idp, browser):
        page = self._to_birthdates(idp, browser)
        response = browser.post_page(
            page, "/franceconnect/rattachement", birthdate=["2012-04-02", "2015-09-30"]
        )
        page = browser.get(response.headers["location"])
        right = h.last_code(idp.state, MOBILE)
        wrong = f"{(int(right) + 1) % 10**6:06d}"
        response = browser.post_page(page, "/franceconnect/code", code=wrong, action="verify")
        assert response.status_code == 400
        assert "Code incorrect" in response.text
        assert not browser.has_session
        # A new code replaces the old one.
        response = browser.post_page(page, "/franceconnect/code", action="resend")
        assert "Un nouveau code vous a été envoyé" in page_text(response)
        assert len(h.outbox(idp.state, "otp")) == 2
        response = browser.post_page(response, "/franceconnect/code", code=right, action="verify")
        assert response.status_code == 400
        response = browser.post_page(
            response, "/franceconnect/code", code=h.last_code(idp.state, MOBILE), action="verify"
        )
        assert response.status_code == 303
        assert browser.has_session

    def test_link_cookie_is_needed(self, browser):
        response = browser.get("/franceconnect/rattachement")
        assert_refused(browser, response, "Le délai pour rattacher")

    def test_no_account_created_before_the_code(self, idp, browser):
        page = self._to_birthdates(idp, browser)
        browser.post_page(
            page, "/franceconnect/rattachement", birthdate=["2012-04-02", "2015-09-30"]
        )
        with transaction(idp.state.sessions) as db:
            assert db.scalar(select(Account)) is None
