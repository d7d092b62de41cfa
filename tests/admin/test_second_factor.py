"""Staff log in with their password, then a TOTP code (RFC 6238): enrolled at the first login,
asked at every login, single use, throttled."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from idp.accounts.models import Account
from idp.admin.models import StaffTotp
from idp.admin.roles import Role
from idp.admin.staff.service import StaffSpec, create_staff
from idp.db import transaction
from idp.security.models import AuditEvent
from tests.admin.helpers import A, add_staff, code, staff_login, text_of
from tests.support.oidc import PASSWORD, csrf_of, form_fields, make_account
from tests.support.stores import sessions_for

NEW_PASSWORD = "Tableau-Craie-Marelle-42"


def _login(client, username: str, password: str):
    page = client.get("/login")
    data = form_fields(page.text)
    data.update({"username": username, "password": password, "csrf_token": csrf_of(page.text)})
    return client.post("/login", data=data, follow_redirects=False)


def _submit_code(client, value: str):
    page = client.get("/connexion/double-authentification")
    data = {**form_fields(page.text), "csrf_token": csrf_of(page.text), "code": value}
    return client.post("/connexion/double-authentification", data=data, follow_redirects=False)


def _events(state, name: str) -> list[AuditEvent]:
    with transaction(state.sessions) as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.event == name)))


class TestFirstLogin:
    def test_new_password_then_enrolment_then_admin(self, client, state, world, clock):
        with transaction(state.sessions) as db:
            _, temporary = create_staff(
                state, db, StaffSpec("c.fontaine", "Claire", "Fontaine", Role.director, [A])
            )
        response = _login(client, "c.fontaine", temporary)
        assert response.status_code == 303
        assert response.headers["location"] == "/connexion/double-authentification"

        page = client.get("/connexion/double-authentification")
        assert "Choisir votre mot de passe" in page.text
        data = {"csrf_token": csrf_of(page.text), "password": "court", "password_confirm": "court"}
        refused = client.post("/connexion/nouveau-mot-de-passe", data=data)
        assert refused.status_code == 400 and "fr-error-text" in refused.text
        data.update(password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
        assert (
            client.post(
                "/connexion/nouveau-mot-de-passe", data=data, follow_redirects=False
            ).status_code
            == 303
        )

        enrol = client.get("/connexion/double-authentification")
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', enrol.text).group(1).replace(" ", "")
        assert 'src="data:image/svg+xml' in enrol.text  # the QR code, inline (CSP: img-src data:)
        assert (
            client.get("/admin", follow_redirects=False).headers["location"]
            == "/connexion/double-authentification"
        )

        wrong = _submit_code(
            client, "000000" if pyotp.TOTP(secret).at(clock.timestamp()) != "000000" else "111111"
        )
        assert wrong.status_code == 400 and "Code incorrect" in wrong.text
        done = _submit_code(client, pyotp.TOTP(secret).at(clock.timestamp()))
        assert done.status_code == 303 and done.headers["location"] == "/admin"
        assert client.get("/admin").status_code == 200
        with transaction(state.sessions) as db:
            account = db.scalar(select(Account).where(Account.username == "c.fontaine"))
            assert not account.force_password_change
            assert db.get(StaffTotp, account.id).confirmed_at is not None
        assert _events(state, "totp.enrolled")

    def test_the_secret_is_stored_encrypted(self, state, world):
        username = add_staff(state, world, "director_a")
        with transaction(state.sessions) as db:
            row = db.scalar(select(StaffTotp))
            assert world.secrets[username] not in row.secret_encrypted


class TestEveryLogin:
    def test_a_code_is_asked_and_upgrades_the_session(self, client, state, world, clock):
        add_staff(state, world, "director_a")
        response = _login(client, "director.a", PASSWORD)
        assert response.headers["location"] == "/connexion/double-authentification"
        page = client.get("/connexion/double-authentification")
        assert "totp-secret" not in page.text  # enrolled: no secret shown again
        old_cookie = client.cookies.get("ec_session")
        done = _submit_code(client, code(world, "director.a", clock))
        assert done.headers["location"] == "/admin"
        assert client.cookies.get("ec_session") != old_cookie  # a new session, with amr otp
        sessions = sessions_for(state, world.accounts["staff:director_a"])
        assert [s.amr for s in sessions] == [["pwd", "otp", "mfa"]]
        assert _events(state, "totp.verified")

    def test_a_code_works_once(self, client, state, world, clock):
        add_staff(state, world, "director_a")
        staff_login(client, world, "director_a", clock)
        client.get("/logout")
        client.cookies.clear()
        _login(client, "director.a", PASSWORD)
        replay = _submit_code(client, code(world, "director.a", clock))  # same 30-second step
        assert replay.status_code == 400 and "déjà été utilisé" in replay.text

    def test_wrong_codes_are_throttled(self, client, state, world, clock):
        add_staff(state, world, "director_a")
        _login(client, "director.a", PASSWORD)
        right = code(world, "director.a", clock)
        wrong = f"{(int(right) + 1) % 1000000:06d}"
        statuses = [_submit_code(client, wrong).status_code for _ in range(6)]
        assert statuses[:5] == [400] * 5 and statuses[5] == 429
        locked = _submit_code(client, right)
        assert locked.status_code == 429 and "Trop de codes incorrects" in text_of(locked.text)
        if state.stores.redis is None:  # Redis expires the lock on its own clock, not the app's
            clock.advance(16 * 60)
            assert _submit_code(client, code(world, "director.a", clock)).status_code == 303

    def test_malformed_code(self, client, state, world):
        add_staff(state, world, "director_a")
        _login(client, "director.a", PASSWORD)
        response = _submit_code(client, "12ab")
        assert response.status_code == 400 and "6 chiffres" in response.text


class TestAccess:
    def test_admin_pages_need_a_session(self, client):
        assert client.get("/admin", follow_redirects=False).headers["location"] == "/login"

    def test_guardians_do_not_see_admin(self, client, state, browser):
        make_account(state)
        browser.login()
        assert client.get("/admin").status_code == 404
        assert (
            client.get("/connexion/double-authentification", follow_redirects=False).status_code
            == 303
        )

    def test_csrf_is_required(self, client, state, world):
        add_staff(state, world, "director_a")
        _login(client, "director.a", PASSWORD)
        response = client.post("/connexion/double-authentification", data={"code": "123456"})
        assert response.status_code == 403
