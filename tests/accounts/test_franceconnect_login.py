"""FranceConnect login against the simulator over real HTTP (DESIGN.md §4.4): first-time linking
(children's birth dates + SMS code), later logins straight in, resuming an authorization; no
database connection held while the callback waits for FranceConnect."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import event, select

from federation.simulator.identities import IDENTITIES_BY_KEY
from idp.accounts.franceconnect.wiring import install_connector, make_connector
from idp.accounts.models import (
    Account,
    AccountGuardian,
    AccountState,
    ActivationRoute,
    FederatedIdentity,
)
from idp.db import transaction
from idp.settings import Settings
from tests.accounts import helpers as h
from tests.support.franceconnect import FcBrowser, LiveIdp, assert_page_basics, live_idp, query
from tests.support.oidc import make_rp, pkce
from tests.support.stores import sessions_for

CAMILLE = IDENTITIES_BY_KEY["camille-martin"]
MOBILE = "+33611223344"
KIDS = [("Léo", date(2012, 4, 2)), ("Inès", date(2015, 9, 30))]
SECOND_SCHOOL_KID = [("Noé", date(2018, 1, 15))]


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


def camille(state, **kwargs) -> h.Family:
    values = dict(given="Camille", family="MARTIN", mobile=MOBILE, children=KIDS)
    values.update(kwargs)
    return h.add_guardian(state, **values)


def link_through_pages(browser: FcBrowser, callback: str, dates: list[str], mobile: str = MOBILE):
    """callback → birth dates → SMS code; returns the response after the code."""
    response = browser.get(callback)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/franceconnect/rattachement"
    page = browser.get("/franceconnect/rattachement")
    assert page.status_code == 200
    assert "Camille Marie MARTIN" in page.text
    assert_page_basics(page.text)
    response = browser.post_page(page, "/franceconnect/rattachement", birthdate=dates)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/franceconnect/code"
    page = browser.get("/franceconnect/code")
    assert "•• •• ••" in page.text
    assert_page_basics(page.text)
    code = h.last_code(browser.idp.state, mobile)
    return browser.post_page(page, "/franceconnect/code", code=code, action="verify")


def accounts(state) -> list[Account]:
    with transaction(state.sessions) as db:
        return list(db.scalars(select(Account)))


def links(state, account_id: str) -> set[str]:
    with transaction(state.sessions) as db:
        return set(
            db.scalars(
                select(AccountGuardian.guardian_id).where(AccountGuardian.account_id == account_id)
            )
        )


class TestFirstLogin:
    def test_creates_an_account_for_every_record_of_the_person(self, idp, browser):
        state = idp.state
        first = camille(state)
        # The same parent, known to a second school with the same mobile number.
        second = camille(state, children=SECOND_SCHOOL_KID, school="0690001")
        dates = ["2012-04-02", "30/09/2015", "2018-01-15"]
        response = link_through_pages(browser, browser.to_callback(), dates)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/compte"
        assert browser.has_session

        [account] = accounts(state)
        assert account.state == AccountState.active
        assert account.activation_route == ActivationRoute.franceconnect
        assert account.password_hash is None
        assert (account.given_name, account.family_name) == ("Camille", "MARTIN")
        assert account.username.startswith("c.martin")
        assert (account.phone_number, account.phone_number_verified) == (MOBILE, True)
        # FranceConnect's address, unknown to the schools: kept, but to be confirmed.
        assert (account.email, account.email_verified) == (CAMILLE.email, False)
        assert links(state, account.id) == {*first.guardian_ids, *second.guardian_ids}
        with transaction(state.sessions) as db:
            identity = db.scalar(select(FederatedIdentity))
            assert (identity.provider, identity.subject, identity.account_id) == (
                "franceconnect",
                CAMILLE.sub,
                account.id,
            )
        [session] = sessions_for(state, account.id)
        assert session.amr == ["fc", "sms"] and session.acr == "eidas1"
        assert session.upstream and session.upstream["franceconnect_id_token"]

        page = browser.get("/compte")
        assert page.status_code == 200
        for name in ("Léo", "Inès", "Noé"):
            assert name in page.text
        assert "géré par le compte que vous utilisez avec FranceConnect" in page.text

    def test_later_logins_go_straight_in(self, idp, browser):
        camille(state := idp.state)
        link_through_pages(browser, browser.to_callback(), ["2012-04-02", "2015-09-30"])
        [account] = accounts(state)

        other = FcBrowser(idp)
        try:
            response = other.get(other.to_callback())
            assert response.status_code == 303
            assert response.headers["location"] == "/compte"
            assert other.has_session
        finally:
            other.close()
        sessions = sessions_for(state, account.id)
        assert sorted(s.amr for s in sessions) == [["fc"], ["fc", "sms"]]
        assert len(h.outbox(state, "otp")) == 1  # no second code

    def test_links_the_account_the_records_already_have(self, idp, browser):
        state = idp.state
        family = h.notify(state, camille(state), username="c.martin42")
        link_through_pages(browser, browser.to_callback(), ["2012-04-02", "2015-09-30"])
        [account] = accounts(state)
        assert account.id == family.account_id
        # The letter's temporary password stops working: the account was activated by FC.
        assert account.state == AccountState.active
        assert account.activation_route == ActivationRoute.franceconnect
        assert account.password_hash is None

    def test_keeps_an_active_accounts_password(self, idp, browser):
        state = idp.state
        family = h.notify(state, camille(state), username="c.martin42")
        with transaction(state.sessions) as db:
            active = db.get(Account, family.account_id)
            active.state, active.activated_at = AccountState.active, state.clock.now()
        link_through_pages(browser, browser.to_callback(), ["2012-04-02", "2015-09-30"])
        [account] = accounts(state)
        assert account.id == family.account_id
        assert account.password_hash is not None

    def test_a_homonym_with_other_children_is_left_out(self, idp, browser):
        state = idp.state
        mine = camille(state)
        other_mobile = "+33699887766"
        theirs = camille(
            state, mobile=other_mobile, children=[("Zoé", date(2011, 6, 6))], school="0690001"
        )
        link_through_pages(browser, browser.to_callback(), ["2012-04-02", "2015-09-30"])
        [account] = accounts(state)
        assert links(state, account.id) == set(mine.guardian_ids)
        assert not h.outbox(state, "otp", other_mobile)
        assert theirs.guardian_ids[0] not in links(state, account.id)

    def test_resumes_the_authorization_request(self, idp, browser):
        state = idp.state
        camille(state)
        rp = make_rp(state)
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid profile children",
            "state": "rp-state",
            "nonce": "rp-nonce",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        response = browser.http.get("/authorize", params=params)
        assert response.status_code == 303
        login_page = browser.get(response.headers["location"])
        start = browser.login_start_from(login_page)
        assert start.startswith("/franceconnect/login?auth=")
        response = link_through_pages(
            browser, browser.to_callback(start), ["2012-04-02", "2015-09-30"]
        )
        response = browser.follow(response)
        location = response.headers["location"]
        assert location.startswith(rp.redirect_uri), location
        result = query(location)
        assert result["state"] == "rp-state"
        tokens = browser.http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": result["code"],
                "redirect_uri": rp.redirect_uri,
                "code_verifier": verifier,
            },
            auth=rp.basic,
        )
        assert tokens.status_code == 200, tokens.text
        keys = KeySet.import_key_set(browser.http.get("/jwks").json())
        claims = jwt.decode(tokens.json()["id_token"], keys, algorithms=["ES256"]).claims
        assert claims["acr"] == "eidas1"
        assert "fc" in claims["amr"]
        assert claims["nonce"] == "rp-nonce"
        userinfo = browser.http.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
        ).json()
        assert sorted(child["given_name"] for child in userinfo["children"]) == ["Inès", "Léo"]


# -- no connection held while FranceConnect answers ------------------------------------------------
class CheckedOut:
    """How many pooled connections of an engine are checked out right now."""

    def __init__(self, engine) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(engine, "checkout", self._out)
        event.listen(engine, "checkin", self._in)

    def _out(self, *_args) -> None:
        with self._lock:
            self.count += 1

    def _in(self, *_args) -> None:
        with self._lock:
            self.count -= 1


class Watched(httpx.BaseTransport):
    """The real transport, noting the checked-out connections at each request it sends."""

    def __init__(self, checked_out: CheckedOut) -> None:
        self._inner = httpx.HTTPTransport()
        self._checked_out = checked_out
        self.calls: list[tuple[str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.path, self._checked_out.count))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def transport(idp) -> Iterator[Watched]:
    watched = Watched(CheckedOut(idp.state.engine))
    http = httpx.Client(transport=watched, follow_redirects=False, timeout=10.0)
    install_connector(idp.state, make_connector(idp.state, http))
    yield watched
    http.close()


def test_callback_holds_no_connection_while_calling_franceconnect(idp, transport, browser):
    camille(idp.state)
    callback = browser.to_callback()
    transport.calls.clear()  # the login redirect's discovery fetch is not the point here
    response = browser.get(callback)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/franceconnect/rattachement"  # the db was used
    paths = [path for path, _ in transport.calls]
    assert any(path.endswith("/token") for path in paths), paths
    assert any(path.endswith("/userinfo") for path in paths), paths
    assert transport.calls and all(held == 0 for _, held in transport.calls), transport.calls
