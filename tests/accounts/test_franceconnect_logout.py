"""Logging out of a FranceConnect session logs out of FranceConnect too (DESIGN.md §4.7):
/logout → FC /api/v2/session/end (id_token_hint, state, post_logout_redirect_uri) →
/franceconnect/logout-callback → the relying party's post-logout URI, or /deconnexion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idp.db import transaction
from idp.settings import Settings
from tests.accounts.test_franceconnect_login import camille, link_through_pages
from tests.support.franceconnect import FcBrowser, LiveIdp, csrf, live_idp, query
from tests.support.oidc import make_rp
from tests.support.stores import sessions_for


@pytest.fixture
def idp(settings: Settings, engine) -> Iterator[LiveIdp]:
    def settings_factory(**overrides) -> Settings:
        return Settings(**{**settings.model_dump(), **overrides})

    with live_idp(settings_factory) as served:
        yield served


@pytest.fixture
def browser(idp) -> Iterator[FcBrowser]:
    camille(idp.state)
    b = FcBrowser(idp)
    link_through_pages(b, b.to_callback(), ["2012-04-02", "2015-09-30"])
    assert b.has_session
    yield b
    b.close()


def test_logout_goes_through_franceconnect(idp, browser):
    confirm = browser.get("/logout")
    assert confirm.status_code == 200
    response = browser.http.post(
        "/logout", data={"csrf_token": csrf(confirm.text), "decision": "logout"}
    )
    assert response.status_code == 303
    upstream = response.headers["location"]
    assert upstream.startswith(f"{idp.base_url}/fc/api/v2/session/end?")
    params = query(upstream)
    assert params["post_logout_redirect_uri"] == f"{idp.base_url}/franceconnect/logout-callback"
    assert params["id_token_hint"] and len(params["state"]) >= 32
    assert not browser.has_session  # ours ended before leaving

    back = browser.http.get(upstream)
    assert back.status_code == 303
    assert back.headers["location"].startswith(
        f"{idp.base_url}/franceconnect/logout-callback?state="
    )
    final = browser.http.get(back.headers["location"])
    assert final.status_code == 303
    assert final.headers["location"] == "/deconnexion"


def test_relying_party_logout_returns_to_it(idp, browser):
    state = idp.state
    rp = make_rp(state)
    response = browser.http.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid",
            "state": "s",
            "nonce": "n",
        },
    )
    code = query(response.headers["location"])["code"]
    tokens = browser.http.post(
        "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri},
        auth=rp.basic,
    ).json()
    response = browser.http.get(
        "/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.fr/bye",
            "state": "rp-logout-state",
        },
    )
    assert response.status_code == 303
    response = browser.follow(response)
    assert response.headers["location"] == "https://rp.example.fr/bye?state=rp-logout-state"
    assert sessions_for(state, _account_id(state)) == []


def test_tampered_logout_state_is_refused(idp, browser):
    response = browser.get("/franceconnect/logout-callback?state=" + "x" * 60)
    assert response.status_code == 400
    assert "pas pu être vérifié" in response.text


def _account_id(state) -> str:
    from sqlalchemy import select

    from idp.accounts.models import Account

    with transaction(state.sessions) as db:
        return db.scalar(select(Account.id))
