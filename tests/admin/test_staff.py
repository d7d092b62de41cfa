"""Creating staff: ``educonnect staff create`` and the "Personnels" page, within one's role."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from idp.accounts.models import Account
from idp.admin.cli import staff_group
from idp.admin.models import StaffTotp
from idp.db import transaction
from idp.security.models import AuditEvent
from tests.admin.helpers import A, B, C, add_staff, staff_login, text_of
from tests.support.oidc import csrf_of


def _run(settings, *args):
    return CliRunner().invoke(staff_group, list(args), obj=settings)


class TestCommand:
    def test_create_a_director(self, state, world, settings):
        result = _run(
            settings,
            "create",
            "--username",
            "C.Fontaine",
            "--given-name",
            "Claire",
            "--family-name",
            "Fontaine",
            "--role",
            "director",
            "--school",
            A,
            "--school",
            B,
            "--json",
        )
        assert result.exit_code == 0, result.output
        body = json.loads(result.output)
        assert body["username"] == "c.fontaine" and len(body["password"]) == 14
        assert body["roles"] == [{"role": "director", "scope": [A, B]}]
        with transaction(state.sessions) as db:
            account = db.scalar(select(Account).where(Account.username == "c.fontaine"))
            assert account.force_password_change and state.passwords.verify(
                account.password_hash, body["password"]
            )
            assert (
                db.scalar(
                    select(AuditEvent).where(AuditEvent.event == "admin.staff.created")
                ).actor_role
                == "cli"
            )

    def test_academy_and_national(self, state, settings):
        assert (
            _run(
                settings,
                "create",
                "--username",
                "m.lambert",
                "--given-name",
                "Marc",
                "--family-name",
                "Lambert",
                "--role",
                "academy",
                "--academy",
                "Dijon",
            ).exit_code
            == 0
        )
        assert (
            _run(
                settings,
                "create",
                "--username",
                "n.admin",
                "--given-name",
                "N",
                "--family-name",
                "A",
                "--role",
                "national",
            ).exit_code
            == 0
        )

    def test_refusals(self, state, world, settings):
        unknown = _run(
            settings,
            "create",
            "--username",
            "x.y",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--role",
            "director",
            "--school",
            "0999999T",
        )
        assert unknown.exit_code == 2 and "inconnu" in unknown.output
        no_school = _run(
            settings,
            "create",
            "--username",
            "x.y",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--role",
            "delegate",
        )
        assert no_school.exit_code == 2
        add_staff(state, world, "director_a")
        taken = _run(
            settings,
            "create",
            "--username",
            "director.a",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--role",
            "national",
        )
        assert taken.exit_code == 2 and "déjà utilisé" in taken.output

    def test_reset_totp(self, state, world, settings):
        add_staff(state, world, "director_a")
        assert _run(settings, "reset-totp", "--username", "director.a").exit_code == 0
        with transaction(state.sessions) as db:
            assert db.scalar(select(StaffTotp)) is None


class TestPage:
    def _create(self, client, **fields):
        page = client.get("/admin/personnels")
        data = {
            "csrf_token": csrf_of(page.text),
            "given_name": "Paul",
            "family_name": "Roux",
            "username": "p.roux",
            **fields,
        }
        return client.post("/admin/personnels", data=data)

    def test_a_director_names_a_delegate_of_their_school(self, client, state, world, clock):
        add_staff(state, world, "director_a")
        staff_login(client, world, "director_a", clock)
        refused = self._create(client, role="delegate", ecoles=B)
        assert refused.status_code == 400 and "pas attribuer ce rôle" in text_of(refused.text)
        refused = self._create(client, role="director", ecoles=A)
        assert refused.status_code == 400
        created = self._create(client, role="delegate", ecoles=A)
        assert created.status_code == 200 and 'id="temporary-password"' in created.text
        assert "p.roux" in client.get("/admin/personnels").text

    def test_assistance_names_directors_of_its_academy_and_resets_totp(
        self, client, state, world, clock
    ):
        add_staff(state, world, "academy_paris")
        add_staff(state, world, "director_a")
        staff_login(client, world, "academy_paris", clock)
        assert self._create(client, role="director", uai=B).status_code == 200
        assert (
            self._create(client, role="director", uai=C, username="p.roux2").status_code == 400
        )  # Dijon
        page = client.get("/admin/personnels")
        director = world.accounts["staff:director_a"]
        response = client.post(
            f"/admin/personnels/{director}/double-authentification",
            data={"csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        with transaction(state.sessions) as db:
            assert db.get(StaffTotp, director) is None

    def test_delegates_have_no_staff_page(self, client, state, world, clock):
        add_staff(state, world, "delegate_a")
        staff_login(client, world, "delegate_a", clock)
        assert client.get("/admin/personnels").status_code == 404
