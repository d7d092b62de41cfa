"""Grouping children under one account (DESIGN.md §4.5; domain-facts §2.8): automatic by names +
verified mobile or e-mail, manual by proving control of the other account."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from idp.accounts.grouping.service import DIFFERENT_NAMES, SAME_ACCOUNT, auto_group
from idp.accounts.models import Account, AccountGuardian, AccountState
from idp.db import transaction
from idp.oidc.models import Client, Grant
from idp.security.models import AuditEvent
from tests.accounts import helpers as h
from tests.support.oidc import PASSWORD, Browser, csrf_of, pkce
from tests.support.stores import sessions_for

MOBILE = "+33612345678"


def links(state, account_id: str) -> set[str]:
    with transaction(state.sessions) as db:
        return set(
            db.scalars(
                select(AccountGuardian.guardian_id).where(AccountGuardian.account_id == account_id)
            )
        )


def activate(state, family: h.Family, *, phone: bool = True, email: str | None = None) -> Account:
    """Make the family's letter account an active one, with a known password."""
    with transaction(state.sessions) as db:
        account = db.get(Account, family.account_id)
        account.state = AccountState.active
        account.activated_at = state.clock.now()
        account.password_hash = state.passwords.hash(PASSWORD)
        account.phone_number, account.phone_number_verified = MOBILE, phone
        if email:
            account.email, account.email_verified = email, True
    return h.account(state, family.account_id)


def group(state, account_id: str) -> list[str]:
    with transaction(state.sessions) as db:
        return auto_group(state, db, db.get(Account, account_id))


@pytest.fixture
def mine(state) -> h.Family:
    family = h.notify(
        state, h.add_guardian(state, children=[("Léa", date(2012, 5, 3))]), username="j.martin12"
    )
    activate(state, family)
    return family


class TestAutomatic:
    def test_same_names_and_verified_mobile(self, state, mine):
        other_school = h.add_guardian(
            state,
            given="JEANNE",
            family="martin",
            children=[("Hugo", date(2016, 1, 2))],
            school="0690001",
        )
        other_number = h.add_guardian(
            state, mobile="+33699999999", children=[("Zoé", date(2010, 1, 1))], school="0690001"
        )
        other_person = h.add_guardian(
            state, given="Paul", children=[("Tom", date(2011, 1, 1))], school="0690001"
        )
        assert group(state, mine.account_id) == other_school.guardian_ids
        assert links(state, mine.account_id) == {*mine.guardian_ids, *other_school.guardian_ids}
        assert other_number.guardian_ids[0] not in links(state, mine.account_id)
        assert other_person.guardian_ids[0] not in links(state, mine.account_id)
        assert group(state, mine.account_id) == []  # idempotent
        with transaction(state.sessions) as db:
            assert db.scalar(select(AuditEvent).where(AuditEvent.event == "grouping.automatic"))

    def test_unverified_contacts_prove_nothing(self, state, mine):
        with transaction(state.sessions) as db:
            db.get(Account, mine.account_id).phone_number_verified = False
        h.add_guardian(state, children=[("Hugo", date(2016, 1, 2))], school="0690001")
        assert group(state, mine.account_id) == []

    def test_same_verified_email(self, state, mine):
        with transaction(state.sessions) as db:
            account = db.get(Account, mine.account_id)
            account.phone_number_verified = False
            account.email, account.email_verified = "jeanne.martin@example.fr", True
        record = h.add_guardian(
            state,
            mobile=None,
            email="Jeanne.Martin@example.fr",
            children=[("Hugo", date(2016, 1, 2))],
            school="0690001",
        )
        assert group(state, mine.account_id) == record.guardian_ids

    def test_takes_records_from_an_unused_letter_account(self, state, mine):
        letter = h.notify(
            state,
            h.add_guardian(state, children=[("Hugo", date(2016, 1, 2))], school="0690001"),
            username="j.martin77",
        )
        assert group(state, mine.account_id) == letter.guardian_ids
        retired = h.account(state, letter.account_id)
        assert retired.state == AccountState.retired
        assert retired.merged_into_id == mine.account_id

    def test_leaves_records_of_an_activated_account(self, state, mine):
        other = h.notify(
            state,
            h.add_guardian(state, children=[("Hugo", date(2016, 1, 2))], school="0690001"),
            username="j.martin77",
        )
        activate(state, other)
        assert group(state, mine.account_id) == []
        assert h.account(state, other.account_id).state == AccountState.active


@pytest.fixture
def other(state) -> h.Family:
    """The same parent's letter from a second school (its mobile differs: no automatic grouping)."""
    family = h.add_guardian(
        state, mobile="+33700000001", children=[("Hugo", date(2016, 1, 2))], school="0690001"
    )
    return h.notify(state, family, username="j.martin77")


def submit(client: TestClient, username: str, password: str):
    page = client.get("/compte/rattacher")
    assert page.status_code == 200, page.text
    return client.post(
        "/compte/rattacher",
        data={"csrf_token": csrf_of(page.text), "username": username, "password": password},
        follow_redirects=False,
    )


class TestManual:
    def test_moves_the_other_accounts_children_and_retires_it(
        self, state, client, browser, rp, mine, other, app
    ):
        # The other account has a session and a grant: both must end.
        other_browser = Browser(TestClient(app, base_url="http://localhost"))
        other_browser.login("j.martin77", h.TEMPORARY)
        assert sessions_for(state, other.account_id)
        with transaction(state.sessions) as db:
            grant = state.tokens.new_grant(
                db, db.get(Client, rp.client_id), other.account_id, "openid"
            )
            grant_id = grant.id
        browser.login("j.martin12", PASSWORD)

        response = submit(client, "j.martin77", h.TEMPORARY)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/compte?fait=rattachement"
        assert links(state, mine.account_id) == {*mine.guardian_ids, *other.guardian_ids}
        retired = h.account(state, other.account_id)
        assert (retired.state, retired.merged_into_id) == (AccountState.retired, mine.account_id)
        assert sessions_for(state, other.account_id) == []
        with transaction(state.sessions) as db:
            assert db.get(Grant, grant_id).revoked_at is not None
            event = db.scalar(select(AuditEvent).where(AuditEvent.event == "grouping.manual"))
            assert event.actor_account_id == mine.account_id and event.target_id == other.account_id
        page = client.get("/compte")
        assert "Léa" in page.text and "Hugo" in page.text
        # The retired account no longer logs in.
        assert (
            Browser(TestClient(app, base_url="http://localhost"))
            .login("j.martin77", h.TEMPORARY)
            .status_code
            == 400
        )

    def test_wrong_password(self, state, client, browser, mine, other):
        browser.login("j.martin12", PASSWORD)
        response = submit(client, "j.martin77", "not-the-password")
        assert response.status_code == 400
        assert "Identifiant ou mot de passe incorrect" in response.text
        assert links(state, mine.account_id) == set(mine.guardian_ids)
        assert h.account(state, other.account_id).state == AccountState.notified

    def test_names_must_be_identical(self, state, client, browser, mine):
        stranger = h.notify(
            state,
            h.add_guardian(state, given="Jeannette", children=[("Hugo", date(2016, 1, 2))]),
            username="j.martin77",
        )
        browser.login("j.martin12", PASSWORD)
        response = submit(client, "j.martin77", h.TEMPORARY)
        assert response.status_code == 400
        assert _text(DIFFERENT_NAMES) in response.text
        assert h.account(state, stranger.account_id).state == AccountState.notified

    def test_not_the_same_account(self, client, browser, mine):
        browser.login("j.martin12", PASSWORD)
        response = submit(client, "j.martin12", PASSWORD)
        assert response.status_code == 400
        assert _text(SAME_ACCOUNT) in response.text

    def test_throttled_like_logins(self, state, client, browser, mine, other):
        browser.login("j.martin12", PASSWORD)
        for _ in range(state.settings.login_max_failures_account):
            assert submit(client, "j.martin77", "guess").status_code == 400
        response = submit(client, "j.martin77", h.TEMPORARY)  # even the right one, now
        assert "Trop de tentatives" in response.text
        assert h.account(state, other.account_id).state == AccountState.notified

    def test_needs_a_session_and_csrf(self, client, browser, mine):
        assert (
            client.get("/compte/rattacher", follow_redirects=False).headers["location"] == "/login"
        )
        browser.login("j.martin12", PASSWORD)
        response = client.post("/compte/rattacher", data={"username": "x", "password": "y"})
        assert response.status_code == 403

    def test_children_claim_lists_every_child(self, state, client, browser, rp, mine, other):
        pytest.importorskip("idp.accounts.family")
        browser.login("j.martin12", PASSWORD)
        assert submit(client, "j.martin77", h.TEMPORARY).status_code == 303
        verifier, challenge = pkce()
        params = browser.code_flow(
            rp,
            "j.martin12",
            PASSWORD,
            scope="openid children",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        tokens = browser.tokens(rp, params["code"], verifier).json()
        userinfo = client.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json()
        assert sorted(c["given_name"] for c in userinfo["children"]) == ["Hugo", "Léa"]


def _text(message: str) -> str:
    """A French sentence as the HTML escapes it."""
    return re.sub("'", "&#39;", message)
