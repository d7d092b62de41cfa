"""Forced password change: the campaign command and the page at the next login (§2.10)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from click.testing import CliRunner

from idp.accounts.cli import force_password_change_command
from idp.accounts.models import AccountKind, AccountState
from tests.accounts import helpers as h
from tests.support.oidc import PASSWORD, make_account, query


def _run(settings, monkeypatch, *args):
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(force_password_change_command, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


class TestCommand:
    def test_flags_the_right_accounts(self, state, settings, monkeypatch, clock):
        now = state.clock.now()
        school_a = h.add_guardian(state, children=[("Léa", date(2012, 5, 3))], school="0750001")
        school_b = h.add_guardian(
            state,
            given="Paul",
            family="Durand",
            mobile=None,
            children=[("Zoé", date(2013, 2, 2))],
            school="0750002",
        )
        h.notify(
            state,
            school_a,
            username="j.martin12",
            state=AccountState.active,
            activated_at=now,
            password_changed_at=now - timedelta(days=30),
        )
        h.notify(
            state,
            school_b,
            username="p.durand",
            state=AccountState.active,
            activated_at=now,
            password_changed_at=now - timedelta(days=30),
        )
        make_account(
            state,
            "l.martin",
            kind=AccountKind.pupil,
            pupil_id=school_a.pupil_ids[0],
            password_changed_at=now - timedelta(days=30),
        )
        make_account(state, "never", state=AccountState.notified, activated_at=None)
        make_account(state, "fc.only", password_hash=None)
        make_account(state, "recent", password_changed_at=now + timedelta(days=1))
        make_account(state, "staff", kind=AccountKind.staff)

        counts = _run(settings, monkeypatch, "--school", h.uai("0750001"))
        assert counts["flagged"] == 2  # the guardian and the pupil of that school
        assert h.account(state, h.account_id_of(state, "j.martin12")).force_password_change
        assert not h.account(state, h.account_id_of(state, "p.durand")).force_password_change

        since = (now + timedelta(days=1)).date().isoformat()
        counts = _run(settings, monkeypatch, "--all", "--changed-before", since)
        assert counts == {
            "flagged": 1,
            "already_flagged": 2,
            "skipped_never_activated": 1,
            "skipped_no_password": 1,
            "skipped_changed_after": 1,
            "skipped_inactive": 0,
        }
        assert not h.account(state, h.account_id_of(state, "staff")).force_password_change

    def test_academy_scope_and_usage(self, state, settings, monkeypatch):
        family = h.add_guardian(state, children=[("Léa", date(2012, 5, 3))])
        h.notify(state, family, state=AccountState.active, activated_at=state.clock.now())
        assert _run(settings, monkeypatch, "--academy", "Paris")["flagged"] == 1
        assert _run(settings, monkeypatch, "--academy", "Lyon")["flagged"] == 0
        result = CliRunner().invoke(force_password_change_command, ["--all", "--school", "x"])
        assert result.exit_code != 0


class TestNextLogin:
    def test_new_password_before_any_service(self, browser, client, rp, state):
        account = make_account(state, "j.martin12", force_password_change=True)
        response = browser.authorize(rp)
        response = browser.submit_login(response.headers["location"], "j.martin12", PASSWORD)
        assert response.headers["location"].startswith("/mot-de-passe/renouveler?auth=")
        page = client.get(response.headers["location"])
        assert "Par mesure de sécurité" in page.text
        same = h.post_form(
            client,
            page.text,
            "/mot-de-passe/renouveler",
            password=PASSWORD,
            password_confirm=PASSWORD,
        )
        assert same.status_code == 400
        # The service cannot be reached meanwhile.
        blocked = browser.authorize(rp)
        assert blocked.headers["location"].startswith("/mot-de-passe/renouveler")
        done = h.post_form(
            client,
            page.text,
            "/mot-de-passe/renouveler",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert done.status_code in (302, 303) and done.headers["location"].startswith(
            rp.redirect_uri
        )
        assert "code" in query(done.headers["location"])
        updated = h.account(state, account.id)
        assert not updated.force_password_change and state.passwords.verify(
            updated.password_hash, h.NEW_PASSWORD
        )
