"""What each action does to the account, and the audit entry it leaves (before/after)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from idp.accounts.journeys.models import LinkReport, LinkReportStatus
from idp.accounts.models import Account, AccountState
from idp.admin.schools import issuing
from idp.db import transaction
from idp.security.models import AuditEvent
from tests.admin.helpers import A, C, add_staff, csrf, staff_login, text_of
from tests.support.oidc import PASSWORD, csrf_of, form_fields


@pytest.fixture
def director(client, state, world, clock):
    add_staff(state, world, "director_a")
    staff_login(client, world, "director_a", clock)
    return client


def _act(client, url: str, verb: str):
    return client.post(f"{url}/{verb}", data={"csrf_token": csrf(client)}, follow_redirects=False)


def _account(state, account_id: str) -> Account:
    with transaction(state.sessions) as db:
        return db.get(Account, account_id)


def _audit(state, event: str) -> list[AuditEvent]:
    with transaction(state.sessions) as db:
        return list(
            db.scalars(select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.at))
        )


def _credentials(html: str) -> tuple[str, str]:
    cells = re.findall(r'<td class="ec-nowrap">([^<]+)</td>', html)
    return cells[0], cells[1]


def _password_login(client, username: str, password: str):
    page = client.get("/login")
    data = {
        **form_fields(page.text),
        "username": username,
        "password": password,
        "csrf_token": csrf_of(page.text),
    }
    return client.post("/login", data=data, follow_redirects=False)


class TestNotify:
    def test_a_pupil_without_account(self, director, state, world, clock):
        url = f"/admin/eleves/{world.pupils['emil']}"
        response = _act(director, url, "notifier")
        assert response.status_code == 200
        username, password = _credentials(response.text)
        assert username.startswith("e.emil") and re.fullmatch(
            r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password
        )
        with transaction(state.sessions) as db:
            account = db.scalar(select(Account).where(Account.username == username))
            assert (
                account.state == AccountState.notified and account.pupil_id == world.pupils["emil"]
            )
            assert (account.notification_expires_at - clock.now()).days == 92
            assert state.passwords.verify(account.password_hash, password)
        event = _audit(state, "admin.account.notified")[-1]
        assert (
            event.actor_role == "director"
            and event.school_uai == A
            and event.target_id == account.id
        )
        assert event.detail["before"] is None and event.detail["after"]["state"] == "notified"

    def test_again_gives_a_new_letter_to_an_expired_account(self, director, state, world, clock):
        response = _act(director, f"/admin/eleves/{world.pupils['carl']}", "notifier")
        assert response.status_code == 200
        account = _account(state, world.accounts["carl"])
        assert (
            account.state == AccountState.notified and account.notification_expires_at > clock.now()
        )
        event = _audit(state, "admin.account.renotified")[-1]
        assert (
            event.detail["before"]["state"] == "notified"
            and event.detail["after"]["state"] == "notified"
        )

    def test_not_an_active_account(self, director, world):
        response = _act(director, f"/admin/eleves/{world.pupils['alice']}", "notifier")
        assert response.status_code == 409 and "Réinitialiser le mot de passe" in text_of(
            response.text
        )

    def test_pupils_of_a_primary_school_get_no_account(self, client, state, world, clock):
        add_staff(state, world, "national")
        with transaction(state.sessions) as db:
            school = db.get(issuing.School, C)
            pupil = db.get(issuing.Pupil, world.pupils["gina"])
            with pytest.raises(issuing.IssueError, match="premier degré"):
                issuing.issue_pupil(state, db, school, pupil)

    def test_a_whole_school(self, director, state, world):
        page = director.get("/admin/notifier")
        response = director.post(
            "/admin/notifier",
            data={"csrf_token": csrf_of(page.text), "ecole": A, "confirmation": "oui"},
        )
        assert response.status_code == 200
        assert "2 courriers prêts" in text_of(response.text)  # emil, and bob's guardian
        with transaction(state.sessions) as db:
            without = db.scalar(
                select(func.count())
                .select_from(Account)
                .where(Account.state == AccountState.notified)
            )
        assert without == 3 + 2  # bob, carl (letter out of date) and gina's guardian before
        summary = _audit(state, "admin.school.notified")[-1]
        assert summary.detail == {"class_name": None, "pupils": 1, "guardians": 1}

    def test_a_whole_school_is_all_or_nothing(self, director, state, world, monkeypatch):
        def fail(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(issuing, "issue_guardian", fail)
        page = director.get("/admin/notifier")
        with pytest.raises(RuntimeError):
            director.post(
                "/admin/notifier",
                data={"csrf_token": csrf_of(page.text), "ecole": A, "confirmation": "oui"},
            )
        with transaction(state.sessions) as db:
            assert (
                db.scalar(select(Account).where(Account.pupil_id == world.pupils["emil"])) is None
            )
            assert not db.scalars(
                select(AuditEvent).where(AuditEvent.event.like("admin.%notified"))
            ).all()

    def test_a_refusal_leaves_nothing_behind(self, director, state, world):
        """Nobody left to notify: the page answers 409 from the request's transaction, which
        commits, yet the refused batch's audit event is not in it."""
        page = director.get("/admin/notifier")
        data = {"csrf_token": csrf_of(page.text), "ecole": A, "confirmation": "oui"}
        assert director.post("/admin/notifier", data=data).status_code == 200
        again = director.post("/admin/notifier", data=data)
        assert again.status_code == 409 and "Tout le monde a déjà un compte" in text_of(again.text)
        assert len(_audit(state, "admin.school.notified")) == 1

    def test_the_confirmation_is_required(self, director):
        page = director.get("/admin/notifier")
        response = director.post(
            "/admin/notifier", data={"csrf_token": csrf_of(page.text), "ecole": A}
        )
        assert response.status_code == 400 and "Cochez la case" in text_of(response.text)

    def test_one_class(self, director, state, world):
        page = director.get("/admin/notifier")
        response = director.post(
            "/admin/notifier",
            data={
                "csrf_token": csrf_of(page.text),
                "ecole": A,
                "classe": "5A",
                "confirmation": "oui",
            },
        )
        assert "1 courrier prêt" in text_of(
            response.text
        )  # bob's guardian; 5A pupils all have accounts
        assert _account(state, world.accounts["alice"]).state == AccountState.active
        unknown = director.post(
            "/admin/notifier",
            data={
                "csrf_token": csrf_of(page.text),
                "ecole": A,
                "classe": "9Z",
                "confirmation": "oui",
            },
        )
        assert unknown.status_code == 409


class TestHelpingAFamily:
    def test_reset_password(self, director, client, state, world):
        with transaction(state.sessions) as db:
            db.get(Account, world.accounts["alice"]).password_hash = state.passwords.hash(PASSWORD)
        response = _act(director, f"/admin/eleves/{world.pupils['alice']}", "reinitialiser")
        assert response.status_code == 200
        username, password = _credentials(response.text)
        account = _account(state, world.accounts["alice"])
        assert account.force_password_change and account.state == AccountState.active
        event = _audit(state, "admin.password.reset")[-1]
        assert (
            event.detail["before"]["force_password_change"] is False
            and event.detail["after"]["force_password_change"] is True
        )
        director.cookies.clear()
        assert _password_login(director, username, PASSWORD).status_code == 400
        assert _password_login(director, username, password).status_code == 303

    def test_unlock_lifts_the_login_lock(self, director, state, world):
        with transaction(state.sessions) as db:
            db.get(Account, world.accounts["alice"]).password_hash = state.passwords.hash(PASSWORD)
        for _ in range(7):
            _password_login(director, "u.alice", "wrong password")
        locked = _account(state, world.accounts["alice"])
        assert locked.state == AccountState.locked
        staff_cookie = dict(director.cookies)
        director.cookies.clear()
        assert "Trop de tentatives" in text_of(_password_login(director, "u.alice", PASSWORD).text)
        director.cookies.update(staff_cookie)
        assert (
            _act(director, f"/admin/eleves/{world.pupils['alice']}", "debloquer").status_code == 303
        )
        assert _account(state, world.accounts["alice"]).state == AccountState.active
        director.cookies.clear()
        assert _password_login(director, "u.alice", PASSWORD).status_code == 303
        event = _audit(state, "admin.account.unlocked")[-1]
        assert (
            event.detail["before"]["state"] == "locked"
            and event.detail["after"]["state"] == "active"
        )

    def test_disable_and_enable(self, director, state, world):
        url = f"/admin/eleves/{world.pupils['alice']}"
        assert _act(director, url, "desactiver").headers["location"].endswith("fait=desactiver")
        assert _account(state, world.accounts["alice"]).state == AccountState.disabled
        assert _act(director, url, "desactiver").status_code == 409
        assert _act(director, url, "reactiver").status_code == 303
        assert _account(state, world.accounts["alice"]).state == AccountState.active
        before_after = [
            (e.detail["before"]["state"], e.detail["after"]["state"])
            for e in _audit(state, "admin.account.disabled")
            + _audit(state, "admin.account.enabled")
        ]
        assert before_after == [("active", "disabled"), ("disabled", "active")]

    def test_show_the_identifier(self, director, state, world):
        url = f"/admin/eleves/{world.pupils['alice']}"
        assert "u.alice" not in director.get(url).text
        response = _act(director, url, "identifiant")
        assert 'id="identifier">u.alice<' in response.text
        assert _audit(state, "admin.identifier.shown")[-1].target_id == world.accounts["alice"]
        assert "Identifiant consulté" in director.get(url).text  # in the account's history


class TestReports:
    def _report(
        self, state, world, school=A, pupil="alice", guardian="alice", account="p.alice"
    ) -> str:
        with transaction(state.sessions) as db:
            report = LinkReport(
                account_id=world.accounts[account],
                guardian_id=world.guardians[guardian],
                pupil_id=world.pupils[pupil],
                school_uai=school,
                created_at=state.clock.now(),
            )
            db.add(report)
            db.flush()
            return report.id

    def test_listed_and_resolved(self, director, state, world):
        mine = self._report(state, world)
        other = self._report(
            state, world, school="0750002P", pupil="fred", guardian="fred", account="p.fred"
        )
        page = director.get("/admin/signalements")
        assert f"/admin/signalements/{mine}" in page.text and other not in page.text
        response = director.post(
            f"/admin/signalements/{mine}",
            data={"csrf_token": csrf_of(page.text), "decision": "dismissed"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        with transaction(state.sessions) as db:
            assert db.get(LinkReport, mine).status == LinkReportStatus.dismissed
        event = _audit(state, "admin.report.resolved")[-1]
        assert event.detail == {"before": {"status": "open"}, "after": {"status": "dismissed"}}
        forbidden = director.post(
            f"/admin/signalements/{other}",
            data={"csrf_token": csrf_of(page.text), "decision": "confirmed"},
        )
        assert forbidden.status_code == 404
