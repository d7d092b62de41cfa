"""``educonnect import siecle``: every element read, every error class reported where it is."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from idp.registry.models import Guardian, Guardianship, ImportRun, Pupil, PupilStatus, School
from tests.registry.conftest import COLLEGE, rewrite, siecle_args


class TestSoundFiles:
    def test_imports_the_iso_8859_15_pair(self, cli, files, db):
        summary = cli.json(*siecle_args(files))

        assert summary["status"] == "succeeded"
        assert summary["schools"]["created"] == 1
        # 1003 (no birth date) and 1005 (31/02) are rejected rows; 1004 left in June.
        assert summary["pupils"] == {
            "created": 4, "updated": 0, "unchanged": 0, "departed": 0, "removed": 0, "rejected": 2
        }  # fmt: skip
        assert summary["guardians"]["created"] == 5 and summary["guardians"]["rejected"] == 1
        assert summary["links"]["created"] == 6 and summary["links"]["rejected"] == 2

        school = db.get(School, COLLEGE)
        assert (school.name, school.degree) == (f"Établissement {COLLEGE}", 2)
        pupils = {p.source_id: p for p in db.scalars(select(Pupil))}
        lucas = pupils["1001"]
        assert (lucas.family_name, lucas.given_name, lucas.birthdate) == (
            "DURAND",
            "Lucas",
            date(2012, 3, 11),
        )
        assert (lucas.ine, lucas.sex, lucas.mef_code) == ("123456789AB", "M", "10110001110")
        assert (lucas.level, lucas.class_name) == ("5EME", "5A")  # the division, not the group
        lea = pupils["1002"]
        assert (lea.family_name, lea.given_name) == ("LEFÈVRE-CŒUR", "Léa")  # ISO-8859-15 Œ
        assert lea.ine is None and lea.level == "4EME" and lea.class_name == "4B"
        assert pupils["1004"].status == PupilStatus.departed and pupils["1004"].ine == "1234A56789B"
        assert pupils["1006"].level == "3EME"  # unknown MEF: from the division "3C"

        guardians = {g.source_id: g for g in db.scalars(select(Guardian))}
        sophie = guardians["2001"]
        assert (sophie.civility, sophie.mobile, sophie.email) == (
            "MME",
            "+33622334455",
            "Sophie.Durand@example.fr",
        )
        assert sophie.address == {
            "lines": ["12 RUE DE LA LIBERTÉ", "BÂTIMENT B"],
            "postal_code": "21000",
            "city": "DIJON",
            "country": "FRANCE",
        }
        assert guardians["2002"].mobile is None and guardians["2002"].email is None
        assert guardians["2003"].mobile == "+33612345678"

        links = {
            (link.guardian_id, link.pupil_id): link for link in db.scalars(select(Guardianship))
        }
        mother = links[(sophie.id, lucas.id)]
        assert (
            mother.legal_guardian_rank,
            mother.relationship_code,
            mother.financial,
            mother.contact,
        ) == (1, "10", True, True)
        contact = links[(guardians["2005"].id, lea.id)]
        assert contact.legal_guardian_rank is None and contact.relationship_code == "39"
        unknown_rank = links[(guardians["2006"].id, pupils["1006"].id)]
        assert unknown_rank.legal_guardian_rank is None

    def test_reports_bad_values_and_rows_with_their_line(self, cli, files):
        errors = cli.json(*siecle_args(files))["errors"]
        where = {(e["file"], e["line"], e["level"]) for e in errors}

        assert ("ElevesSansAdresses.xml", 53, "value") in where  # INE « 12345 »
        assert ("ElevesSansAdresses.xml", 60, "row") in where  # ELEVE 1003 without DATE_NAISS
        assert ("ElevesSansAdresses.xml", 79, "row") in where  # DATE_NAISS 31/02/2012
        assert ("ResponsablesAvecAdresses.xml", 25, "value") in where  # landline as mobile
        assert ("ResponsablesAvecAdresses.xml", 25, "value") in where  # invalid e-mail
        assert ("ResponsablesAvecAdresses.xml", 36, "row") in where  # PERSONNE without a name
        by_field = {e["field"]: e for e in errors}
        assert "mobile" in by_field["PERSONNE[2002]/TEL_PORTABLE"]["message"]
        assert by_field["RESPONSABLE_ELEVE[1006/2999]/PERSONNE_ID"]["level"] == "row"
        assert by_field["RESPONSABLE_ELEVE[1006/2006]/RESP_LEGAL"]["level"] == "value"

    def test_prints_a_table_without_json(self, cli, files):
        result = cli(*siecle_args(files))

        assert result.exit_code == 0
        assert "pupils" in result.stdout and COLLEGE in result.stdout
        assert "ElevesSansAdresses.xml:53:" in result.stderr

    def test_school_name_option_and_export_name(self, cli, files, db):
        cli.json(*siecle_args(files), "--school-name", "Collège Gustave Eiffel")
        assert db.get(School, COLLEGE).name == "Collège Gustave Eiffel"

        db.rollback()
        for name in ("ElevesSansAdresses.xml", "ResponsablesAvecAdresses.xml"):
            rewrite(
                files / name,
                "<UAJ>0219999E</UAJ>",
                "<UAJ>0219999E</UAJ><DENOM_PRINC>COLLEGE</DENOM_PRINC>"
                "<DENOM_COMPL>LES LILAS</DENOM_COMPL>",
            )
        assert cli.json(*siecle_args(files))["schools"]["updated"] == 1
        assert db.get(School, COLLEGE).name == "COLLEGE LES LILAS"

    def test_records_the_run(self, cli, files, db):
        summary = cli.json(*siecle_args(files))

        run = db.get(ImportRun, summary["import_run"])
        assert run.status == "succeeded" and run.school_uai == COLLEGE
        assert run.files == ["ElevesSansAdresses.xml", "ResponsablesAvecAdresses.xml"]
        assert run.counts["pupils"]["created"] == 4 and len(run.errors) == len(summary["errors"])
        assert run.duration_ms is not None and run.finished_at >= run.started_at


class TestRejectedFiles:
    def assert_rejected(self, cli, db, args, file, line, words):
        summary = cli.json(*args, code=2)
        assert summary["status"] == "rejected"
        [error] = summary["errors"]
        assert (error["file"], error["line"], error["level"]) == (file, line, "file")
        assert words in error["message"]
        assert db.scalars(select(Pupil)).all() == [] and db.scalars(select(School)).all() == []
        assert db.scalar(select(ImportRun.status)) == "rejected"

    def test_broken_xml(self, cli, files, db):
        args = siecle_args(files, eleves="broken.xml")
        self.assert_rejected(cli, db, args, "broken.xml", 9, "mal formé")

    def test_wrong_root_element(self, cli, files, db):
        args = siecle_args(files, eleves="wrong-root.xml")
        self.assert_rejected(cli, db, args, "wrong-root.xml", 2, "BEE_ELEVES attendu")

    def test_responsables_given_as_eleves(self, cli, files, db):
        args = siecle_args(files, eleves="ResponsablesAvecAdresses.xml")
        self.assert_rejected(
            cli, db, args, "ResponsablesAvecAdresses.xml", 2, "BEE_RESPONSABLES trouvé"
        )

    def test_entity_declarations_are_refused(self, cli, files, db):
        args = siecle_args(files, eleves="entities.xml")
        self.assert_rejected(cli, db, args, "entities.xml", 2, "DOCTYPE")

    def test_school_mismatch_between_the_two_files(self, cli, files, db):
        args = siecle_args(files, responsables="ResponsablesAutreEtablissement.xml")
        self.assert_rejected(
            cli, db, args, "ResponsablesAutreEtablissement.xml", 4, "0211234C différent"
        )

    def test_invalid_uai(self, cli, files, db):
        for name in ("ElevesSansAdresses.xml", "ResponsablesAvecAdresses.xml"):
            rewrite(files / name, "0219999E", "0219999A")
        args = siecle_args(files)
        self.assert_rejected(
            cli, db, args, "ElevesSansAdresses.xml", 4, "lettre de contrôle devrait être E"
        )

    def test_lenient_uai_accepts_a_wrong_check_letter(self, cli, files, db):
        for name in ("ElevesSansAdresses.xml", "ResponsablesAvecAdresses.xml"):
            rewrite(files / name, "0219999E", "0219999A")
        assert cli.json(*siecle_args(files), "--lenient-uai")["schools"]["created"] == 1

    def test_missing_uaj(self, cli, files, db):
        rewrite(files / "ElevesSansAdresses.xml", "<UAJ>0219999E</UAJ>", "")
        self.assert_rejected(cli, db, siecle_args(files), "ElevesSansAdresses.xml", 3, "UAJ absent")

    def test_missing_pupils_section(self, cli, files, db):
        path = files / "ElevesSansAdresses.xml"
        text = path.read_text(encoding="iso-8859-15")
        start, end = text.index("<ELEVES>"), text.index("</ELEVES>") + len("</ELEVES>")
        path.write_text(text[:start] + text[end:], encoding="iso-8859-15")
        self.assert_rejected(
            cli, db, siecle_args(files), "ElevesSansAdresses.xml", None, "aucun élève"
        )

    def test_missing_persons_section(self, cli, files, db):
        path = files / "ResponsablesAvecAdresses.xml"
        text = path.read_text(encoding="iso-8859-15")
        start, end = text.index("<PERSONNES>"), text.index("</PERSONNES>") + len("</PERSONNES>")
        path.write_text(text[:start] + text[end:], encoding="iso-8859-15")
        args = siecle_args(files)
        self.assert_rejected(
            cli, db, args, "ResponsablesAvecAdresses.xml", None, "PERSONNES absente"
        )

    def test_missing_file_is_a_usage_error(self, cli, files):
        result = cli(*siecle_args(files, eleves="nope.xml"))
        assert result.exit_code == 2 and "nope.xml" in result.stderr

    def test_rejection_message_without_json(self, cli, files):
        result = cli(*siecle_args(files, eleves="broken.xml"))
        assert result.exit_code == 2
        assert "Fichier refusé" in result.stderr and "broken.xml:9:" in result.stderr
