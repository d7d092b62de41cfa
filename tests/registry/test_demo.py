"""The demo registry: built through the real importers, idempotent, with the promised people."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.accounts.family import registry_claims
from idp.accounts.models import Account, AccountGuardian, AccountState
from idp.accounts.passwords import Passwords
from idp.demo.registry import COLLEGE_UAI, ECOLE_UAI, seed_demo_registry
from idp.registry.identifiers import validate_uai
from idp.registry.models import Guardian, Guardianship, ImportRun, Pupil


def test_demo_registry(sessions, settings, db, tmp_path):
    logins = seed_demo_registry(sessions, settings, directory=tmp_path)

    assert validate_uai(COLLEGE_UAI) and validate_uai(ECOLE_UAI)
    assert {p.name for p in tmp_path.iterdir()} == {
        f"ElevesSansAdresses_{COLLEGE_UAI}.xml",
        f"ResponsablesAvecAdresses_{COLLEGE_UAI}.xml",
        "onde-demo.csv",
    }
    assert [(x["kind"], x["username"], x["state"]) for x in logins] == [
        ("guardian", "s.durand", "active"),
        ("guardian", "l.moreau", "notified"),
        ("pupil", "e.moreau", "notified"),
        ("pupil", "l.durand", "active"),
    ]
    passwords = Passwords(settings)
    for login in logins:
        account = db.scalar(select(Account).where(Account.username == login["username"]))
        assert passwords.verify(account.password_hash, login["password"]), login
        assert login["note"]

    sophie = db.scalar(select(Account).where(Account.username == "s.durand"))
    assert sophie.email == "sophie.durand@example.fr" and sophie.email_verified
    assert sophie.state == AccountState.active
    children = registry_claims(db, sophie, {"children"}, lambda pid: pid, allow_ine=False)[
        "children"
    ]
    assert {c["school"]["uai"] for c in children} == {COLLEGE_UAI, ECOLE_UAI}
    # Temporary passwords use the alphabet of Passwords.temporary().
    assert set(logins[1]["password"].replace("-", "")) <= set("abcdefghjkmnpqrstuvwxyz23456789")

    # FranceConnect identities and the SMS self-registration guardian have no account.
    for given, mobile, births in (
        ("Camille", "+33612345678", {"2012-05-14", "2017-09-03"}),
        ("Karim", "+33698765432", {"2011-01-20"}),
        ("Nadia", "+33611223344", {"2018-02-17"}),
    ):
        records = db.scalars(select(Guardian).where(Guardian.given_name == given)).all()
        assert records and {g.mobile for g in records} == {mobile}
        ids = [g.id for g in records]
        assert not db.scalars(
            select(AccountGuardian).where(AccountGuardian.guardian_id.in_(ids))
        ).all()
        query = select(Pupil.birthdate).join(Guardianship).where(Guardianship.guardian_id.in_(ids))
        assert {b.isoformat() for b in db.scalars(query)} == births

    emma = db.scalar(select(Account).where(Account.username == "e.moreau"))
    assert db.get(Pupil, emma.pupil_id).given_name == "Emma"

    def census():
        return [
            db.scalar(select(func.count()).select_from(table))
            for table in (Account, AccountGuardian, Pupil, Guardian, Guardianship)
        ]

    before = census()
    db.rollback()
    again = seed_demo_registry(sessions, settings, directory=tmp_path)

    assert again == logins
    assert census() == before
    runs = db.scalars(select(ImportRun).order_by(ImportRun.started_at)).all()
    assert [r.counts["pupils"]["unchanged"] for r in runs[2:]] == [5, 3]
