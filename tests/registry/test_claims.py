"""Registry claims (DESIGN.md §5): children across schools, school, fredu; one query each."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from idp.accounts.family import registry_claims
from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.clock import Clock
from idp.registry.models import Guardian, Pupil
from tests.registry.conftest import COLLEGE, rewrite, siecle_args


def sub(pupil_id: str) -> str:
    return f"child-{pupil_id}"


@pytest.fixture
def registry(cli, files):
    cli.json(*siecle_args(files))
    cli.json("import", "onde", str(files / "onde.csv"))
    return files


def guardian_account(db, *records: str) -> Account:
    now = Clock().now()
    account = Account(
        kind=AccountKind.guardian, username="g." + "-".join(records), state=AccountState.active,
        given_name="Sophie", family_name="DURAND", created_at=now, updated_at=now,
    )  # fmt: skip
    db.add(account)
    db.flush()
    for source_id in records:
        guardian_id = db.scalar(select(Guardian.id).where(Guardian.source_id == source_id))
        db.add(AccountGuardian(account_id=account.id, guardian_id=guardian_id, linked_at=now))
    db.commit()
    return account


def pupil_account(db, source_id: str) -> Account:
    now = Clock().now()
    pupil = db.scalar(select(Pupil).where(Pupil.source_id == source_id))
    account = Account(
        kind=AccountKind.pupil, username=f"p.{source_id}", state=AccountState.active,
        pupil_id=pupil.id, given_name=pupil.given_name, family_name=pupil.family_name,
        created_at=now, updated_at=now,
    )  # fmt: skip
    db.add(account)
    db.commit()
    return account


def count_queries(engine):
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


class TestGuardianClaims:
    def test_children_from_two_schools(self, registry, db):
        account = guardian_account(db, "2001", "R1")
        lucas = db.scalar(select(Pupil).where(Pupil.source_id == "1001"))

        claims = registry_claims(db, account, {"openid", "children"}, sub, allow_ine=False)

        assert list(claims) == ["children"]
        lucas_entry, jade = claims["children"]  # oldest first
        assert lucas_entry == {
            "sub": f"child-{lucas.id}",
            "given_name": "Lucas",
            "family_name": "DURAND",
            "birthdate": "2012-03-11",
            "school": {"uai": COLLEGE, "name": f"Établissement {COLLEGE}"},
            "level": "5EME",
            "class": "5A",
            "relationship": "mother",
            "legal_guardian": 1,
        }
        assert jade["given_name"] == "Jade" and jade["birthdate"] == "2016-10-02"
        assert jade["school"] == {"uai": "0211001Z", "name": "École élémentaire Jean Jaurès"}
        assert (jade["level"], jade["class"]) == ("CM1", "CM1 A")

    def test_fredu_values(self, registry, db):
        account = guardian_account(db, "2001", "R1")

        claims = registry_claims(db, account, {"fredu"}, sub, allow_ine=False)

        assert claims == {
            "FrEduCtPersonAffiliation": ["resp1d", "resp2d"],
            "FrEduCtEleveUAI": [COLLEGE, "0211001Z"],
            "FrEduCtEleveNiveau": ["5EME", "CM1"],
            "FrEduVecteur": [f"2|DURAND|Sophie|1001|{COLLEGE}", "1|DURAND|Sophie|E1|0211001Z"],
        }

    def test_departed_children_are_excluded_and_contacts_have_no_rank(self, registry, db):
        karim = guardian_account(db, "2005")  # contact of Léa, guardian of Yanis (departed)

        claims = registry_claims(db, karim, {"children", "fredu"}, sub, allow_ine=False)

        [lea] = claims["children"]
        assert lea["given_name"] == "Léa" and lea["legal_guardian"] is None
        assert lea["relationship"] == "family"
        assert claims["FrEduCtPersonAffiliation"] == ["resp2d"]

    def test_a_child_reached_twice_is_listed_once_with_the_strongest_link(self, registry, db):
        account = guardian_account(db, "2002", "2001")  # father (rank 2) and mother (rank 1)

        [lucas] = registry_claims(db, account, {"children"}, sub, allow_ine=False)["children"]

        assert lucas["legal_guardian"] == 1 and lucas["relationship"] == "mother"

    def test_one_query_and_always_fresh(self, registry, db, engine, cli, files):
        account = guardian_account(db, "2001", "R1")
        statements = count_queries(engine)

        registry_claims(db, account, {"children", "fredu"}, sub, allow_ine=False)
        assert len([s for s in statements if s.startswith("SELECT")]) == 1

        db.commit()
        rewrite(
            files / "ElevesSansAdresses.xml",
            "<CODE_STRUCTURE>5A</CODE_STRUCTURE>",
            "<CODE_STRUCTURE>5D</CODE_STRUCTURE>",
        )
        cli.json(*siecle_args(files))
        claims = registry_claims(db, account, {"children"}, sub, allow_ine=False)
        assert [c["class"] for c in claims["children"]] == ["5D", "CM1 A"]

    def test_scopes_without_registry_claims(self, registry, db):
        account = guardian_account(db, "2001")
        assert (
            registry_claims(db, account, {"openid", "profile", "school"}, sub, allow_ine=True) == {}
        )


class TestPupilClaims:
    def test_school_claims_and_ine_only_when_allowed(self, registry, db):
        account = pupil_account(db, "1001")

        without = registry_claims(db, account, {"school"}, sub, allow_ine=False)
        with_ine = registry_claims(db, account, {"school"}, sub, allow_ine=True)

        assert without == {
            "school": {"uai": COLLEGE, "name": f"Établissement {COLLEGE}"},
            "level": "5EME",
            "class": "5A",
        }
        assert with_ine == {**without, "ine": "123456789AB"}

    def test_fredu_for_pupils_of_both_degrees(self, registry, db):
        lucas, jade = pupil_account(db, "1001"), pupil_account(db, "E1")

        assert registry_claims(db, lucas, {"fredu"}, sub, allow_ine=False) == {
            "FrEduCtPersonAffiliation": ["eleve2d"],
            "FrEduCtEleveUAI": [COLLEGE],
            "FrEduCtEleveNiveau": ["5EME"],
            "FrEduVecteur": [f"4|DURAND|Lucas|1001|{COLLEGE}"],
        }
        jade_claims = registry_claims(db, jade, {"fredu", "children"}, sub, allow_ine=False)
        assert jade_claims["FrEduVecteur"] == ["3|DURAND|Jade|E1|0211001Z"]
        assert "children" not in jade_claims

    def test_a_departed_pupil_has_no_school(self, registry, db):
        yanis = pupil_account(db, "1004")
        assert registry_claims(db, yanis, {"school", "fredu"}, sub, allow_ine=True) == {}
