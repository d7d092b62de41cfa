"""``educonnect accounts notify``: accounts for a school's pupils and legal guardians."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.accounts.passwords import Passwords
from idp.clock import Clock
from idp.registry.models import Guardian, Pupil
from tests.registry.conftest import COLLEGE, siecle_args


class TestNotify:
    def test_issues_accounts_for_enrolled_pupils_and_legal_guardians(
        self, cli, files, db, settings
    ):
        cli.json(*siecle_args(files))

        issued = cli.json("accounts", "notify", "--school", COLLEGE)

        by_name = {(c["kind"], c["given_name"]): c for c in issued}
        # Pupils 1001, 1002, 1006 (1004 departed); guardians 2001, 2002, 2003 (rank 1/2 of an
        # enrolled pupil). Karim (contact of 1002, guardian of departed 1004) and Camille
        # (guardian of 1006 with an unknown rank) get none.
        assert sorted(by_name) == [
            ("guardian", "Hélène"),
            ("guardian", "Marc"),
            ("guardian", "Sophie"),
            ("pupil", "Lucas"),
            ("pupil", "Léa"),
            ("pupil", "Théo"),
        ]
        sophie = by_name[("guardian", "Sophie")]
        assert sophie["username"] == "s.durand" and sophie["class"] == "5A"
        assert by_name[("guardian", "Marc")]["username"] == "m.durand"
        assert by_name[("pupil", "Lucas")]["username"] == "l.durand"
        assert by_name[("pupil", "Léa")]["username"] == "l.lefevrecoeur"
        assert set(by_name[("pupil", "Léa")]) == {
            "kind",
            "username",
            "password",
            "given_name",
            "family_name",
            "class",
        }

        account = db.scalar(select(Account).where(Account.username == "s.durand"))
        assert account.kind == AccountKind.guardian and account.state == AccountState.notified
        assert account.notification_expires_at - account.notified_at == timedelta(days=92)
        assert Passwords(settings).verify(account.password_hash, sophie["password"])
        linked = db.scalar(
            select(Guardian.source_id)
            .join(AccountGuardian)
            .where(AccountGuardian.account_id == account.id)
        )
        assert linked == "2001"
        lucas = db.scalar(select(Account).where(Account.username == "l.durand"))
        assert lucas.kind == AccountKind.pupil
        assert db.get(Pupil, lucas.pupil_id).source_id == "1001"
        assert (lucas.given_name, lucas.family_name) == ("Lucas", "DURAND")

    def test_second_run_issues_nothing(self, cli, files):
        cli.json(*siecle_args(files))
        cli.json("accounts", "notify", "--school", COLLEGE)

        assert cli.json("accounts", "notify", "--school", COLLEGE) == []
        result = cli("accounts", "notify", "--school", COLLEGE)
        assert result.exit_code == 0 and "Aucun compte" in result.stdout

    def test_identifiers_are_disambiguated_with_digits(self, cli, files, db, settings):
        cli.json(*siecle_args(files))
        db.add_all(
            Account(
                kind=AccountKind.guardian,
                username=name,
                state=AccountState.active,
                created_at=now,
                updated_at=now,
            )
            for name, now in (("s.durand", _now()), ("s.durand2", _now()), ("l.durand12", _now()))
        )
        db.commit()

        issued = cli.json("accounts", "notify", "--school", COLLEGE)

        names = {c["given_name"]: c["username"] for c in issued}
        assert names["Sophie"] == "s.durand3"
        assert names["Lucas"] == "l.durand"

    def test_guardians_already_linked_are_skipped(self, cli, files, db):
        cli.json(*siecle_args(files))
        sophie = db.scalar(select(Guardian).where(Guardian.source_id == "2001"))
        account = Account(
            kind=AccountKind.guardian,
            username="sophie",
            state=AccountState.active,
            created_at=_now(),
            updated_at=_now(),
        )
        db.add(account)
        db.flush()
        db.add(AccountGuardian(account_id=account.id, guardian_id=sophie.id, linked_at=_now()))
        db.commit()

        issued = cli.json("accounts", "notify", "--school", COLLEGE)

        assert "Sophie" not in {c["given_name"] for c in issued if c["kind"] == "guardian"}

    def test_table_output(self, cli, files):
        cli.json(*siecle_args(files))
        result = cli("accounts", "notify", "--school", COLLEGE.lower())
        assert result.exit_code == 0
        assert "s.durand" in result.stdout and "3 mois" in result.stdout

    def test_unknown_school(self, cli):
        result = cli("accounts", "notify", "--school", "0211234C")
        assert result.exit_code == 2 and "inconnu" in result.stderr


def _now():
    return Clock().now()
