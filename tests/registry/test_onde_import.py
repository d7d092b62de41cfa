"""``educonnect import onde``: the documented CSV, several écoles in one file, and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.registry.models import Guardian, Guardianship, ImportRun, Pupil, PupilStatus, School
from idp.registry.onde import OndeReader
from idp.registry.records import ImportRejected
from tests.conftest import FIXTURES


class TestSoundFile:
    def test_imports_two_ecoles(self, cli, files, db):
        summary = cli.json("import", "onde", str(files / "onde.csv"))

        assert summary["status"] == "succeeded"
        assert summary["schools_uai"] == ["0211001Z", "0211002A"]
        assert summary["schools"]["created"] == 2
        # E3 has no birth date; E6's row is short (both rejected, not departed).
        assert summary["pupils"]["created"] == 4 and summary["pupils"]["rejected"] == 1
        assert summary["guardians"]["created"] == 6
        assert summary["links"]["created"] == 5 and summary["links"]["rejected"] == 2

        schools = {s.uai: s for s in db.scalars(select(School))}
        assert schools["0211001Z"].name == "École élémentaire Jean Jaurès"
        assert schools["0211001Z"].degree == 1
        pupils = {p.source_id: p for p in db.scalars(select(Pupil))}
        jade = pupils["E1"]
        assert (jade.family_name, jade.given_name, jade.birthdate.isoformat()) == (
            "DURAND",
            "Jade",
            "2016-10-02",
        )
        assert (jade.ine, jade.sex, jade.level, jade.class_name) == (
            "1234567890A",
            "F",
            "CM1",
            "CM1 A",
        )
        assert pupils["E2"].birthdate.isoformat() == "2017-09-03" and pupils["E2"].ine is None
        assert pupils["E4"].level == "MS" and pupils["E5"].status == PupilStatus.departed

        guardians = {g.source_id: g for g in db.scalars(select(Guardian))}
        sophie = guardians["R1"]
        assert (sophie.civility, sophie.mobile, sophie.email) == (
            "MME",
            "+33622334455",
            "sophie.durand@example.fr",
        )
        assert sophie.address == {
            "lines": ["12 rue de la Liberté"],
            "postal_code": "21000",
            "city": "DIJON",
            "country": "FRANCE",
        }
        assert guardians["R2"].mobile is None  # a landline
        assert guardians["R3"].email is None  # no top-level domain
        assert guardians["R5"].mobile == "+33611223344"  # kept although the pupil is rejected

        links = {
            (link.guardian_id, link.pupil_id): link for link in db.scalars(select(Guardianship))
        }
        father = links[(guardians["R2"].id, jade.id)]
        assert (father.legal_guardian_rank, father.relationship_code) == (2, "20")
        neighbour = links[(guardians["R4"].id, pupils["E2"].id)]
        assert (neighbour.legal_guardian_rank, neighbour.relationship_code, neighbour.contact) == (
            None,
            None,
            True,
        )
        camille = links[(guardians["R3"].id, pupils["E2"].id)]
        assert camille.legal_guardian_rank == 1  # "OUI" without a rank: the first free one

    def test_reports_values_and_rows_with_their_line(self, cli, files):
        errors = cli.json("import", "onde", str(files / "onde.csv"))["errors"]
        found = {(e["line"], e["field"], e["level"]) for e in errors}

        assert (3, "telephone_portable", "value") in found
        assert (4, "ine", "value") in found
        assert (4, "courriel", "value") in found
        assert (5, "lien_parente", "value") in found
        assert (6, "date_naissance", "row") in found
        assert (9, None, "row") in found  # short row
        assert all(e["file"] == "onde.csv" for e in errors)

    def test_header_spelling_is_free_but_columns_are_fixed(self, cli, tmp_path, db):
        path = tmp_path / "plain.csv"
        path.write_text(
            "uai_ecole;identifiant_eleve;nom_eleve;prenom_eleve;date_naissance;"
            "identifiant_responsable;nom_responsable;prenom_responsable;colonne_inconnue\n"
            "0211001Z;E9;ROUX;Léo;01/02/2018;R9;ROUX;Anne;ignorée\n",
            encoding="utf-8",
        )
        summary = cli.json("import", "onde", str(path))
        assert summary["pupils"]["created"] == 1 and summary["links"]["created"] == 1
        assert db.get(School, "0211001Z").name == "Établissement 0211001Z"


class TestRejectedFiles:
    def assert_rejected(self, cli, db, path, line, words):
        summary = cli.json("import", "onde", str(path), code=2)
        [error] = summary["errors"]
        assert (error["file"], error["line"], error["level"]) == (path.name, line, "file")
        assert words in error["message"]
        assert db.scalars(select(Pupil)).all() == []
        assert db.scalar(select(ImportRun.status)) == "rejected"

    def test_missing_required_column(self, cli, db):
        path = FIXTURES / "registry" / "onde-missing-column.csv"
        self.assert_rejected(cli, db, path, 1, "date_naissance")

    def test_wrong_separator(self, cli, db):
        self.assert_rejected(cli, db, FIXTURES / "registry" / "onde-comma.csv", 1, "« ; »")

    def test_invalid_uai_on_any_row(self, cli, db):
        path = FIXTURES / "registry" / "onde-bad-uai.csv"
        self.assert_rejected(cli, db, path, 3, "lettre de contrôle devrait être Z")

    def test_not_utf8(self, cli, db):
        self.assert_rejected(cli, db, FIXTURES / "registry" / "onde-latin1.csv", 3, "UTF-8")

    def test_header_only(self, cli, db, tmp_path):
        path = tmp_path / "empty.csv"
        path.write_text(
            (FIXTURES / "registry" / "onde-bad-uai.csv").read_text().splitlines()[0] + "\n"
        )
        self.assert_rejected(cli, db, path, None, "aucun élève")

    def test_lenient_uai(self, cli, db):
        path = FIXTURES / "registry" / "onde-bad-uai.csv"
        summary = cli.json("import", "onde", str(path), "--lenient-uai")
        assert summary["schools"]["created"] == 2


class TestMessages:
    """Import errors read as French sentences (from the catalogue), with their line."""

    def read(self, tmp_path, text: str):
        path = tmp_path / "onde.csv"
        path.write_text(text, encoding="utf-8")
        return OndeReader(path)

    def test_one_or_several_missing_columns(self, tmp_path):
        header = (FIXTURES / "registry" / "onde-missing-column.csv").read_text().splitlines()[0]
        with pytest.raises(ImportRejected) as one:
            self.read(tmp_path, header + "\n").read()
        assert one.value.issues[0].message == "colonne obligatoire absente : date_naissance"
        with pytest.raises(ImportRejected) as two:
            self.read(tmp_path, header.replace(";nom_eleve", "") + "\n").read()
        assert two.value.issues[0].message == (
            "colonnes obligatoires absentes : nom_eleve, date_naissance"
        )
        assert str(two.value.issues[0]).startswith("onde.csv:1: ")

    def test_short_rows_name_their_line_and_width(self, files):
        path = files / "onde.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([*lines, "E99"]) + "\n", encoding="utf-8")
        issues = {i.line: i.message for i in OndeReader(path).read().issues}
        assert issues[9] == "10 colonnes au lieu de 25 : ligne ignorée"
        assert issues[len(lines) + 1] == "1 colonne au lieu de 25 : ligne ignorée"
