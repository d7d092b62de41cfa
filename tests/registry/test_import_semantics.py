"""Import semantics shared by both formats: idempotence, deltas, departures, link removal."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from idp.registry.models import Guardian, Guardianship, ImportRun, Pupil, PupilStatus
from idp.registry.runs import ImportJob, import_many
from tests.registry.conftest import rewrite, siecle_args

ENC = "iso-8859-15"


def drop(path: Path, pattern: str) -> None:
    text = path.read_text(encoding=ENC)
    new, count = re.subn(pattern, "", text, flags=re.S)
    assert count == 1, pattern
    path.write_text(new, encoding=ENC)


def pupil(db, source_id: str) -> Pupil:
    return db.scalar(select(Pupil).where(Pupil.source_id == source_id))


def links_of(db, source_id: str) -> set[str]:
    query = (
        select(Guardian.source_id)
        .join(Guardianship, Guardianship.guardian_id == Guardian.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.source_id == source_id)
    )
    return set(db.scalars(query))


class TestIdempotence:
    def test_same_siecle_pair_twice_changes_nothing(self, cli, files, db):
        cli.json(*siecle_args(files))
        before = db.scalars(select(Pupil.updated_at).order_by(Pupil.id)).all()
        db.rollback()

        again = cli.json(*siecle_args(files))

        for kind, total in (("schools", 1), ("pupils", 4), ("guardians", 5), ("links", 6)):
            counts = again[kind]
            assert counts["unchanged"] == total, (kind, counts)
            assert (
                counts["created"]
                == counts["updated"]
                == counts["departed"]
                == counts["removed"]
                == 0
            )
        assert db.scalars(select(Pupil.updated_at).order_by(Pupil.id)).all() == before
        assert db.scalar(select(func.count()).select_from(ImportRun)) == 2

    def test_same_onde_file_twice_changes_nothing(self, cli, files):
        cli.json("import", "onde", str(files / "onde.csv"))
        again = cli.json("import", "onde", str(files / "onde.csv"))
        assert again["pupils"]["unchanged"] == 4 and again["guardians"]["unchanged"] == 6
        assert again["links"]["unchanged"] == 5 and again["schools"]["unchanged"] == 2
        assert (
            sum(again[kind]["created"] + again[kind]["updated"] for kind in ("pupils", "links"))
            == 0
        )


class TestDeltas:
    def test_changes_departures_and_removed_links(self, cli, files, db):
        cli.json(*siecle_args(files))
        eleves, responsables = (
            files / "ElevesSansAdresses.xml",
            files / "ResponsablesAvecAdresses.xml",
        )
        rewrite(
            eleves, "<CODE_STRUCTURE>5A</CODE_STRUCTURE>", "<CODE_STRUCTURE>5B</CODE_STRUCTURE>"
        )
        drop(eleves, r'<ELEVE ELEVE_ID="1002".*?</ELEVE>')  # Léa has left
        rewrite(responsables, "06 22 33 44 55", "07 81 00 00 01")
        rewrite(
            responsables, "<MEL>camille.martin@example.fr</MEL>", "<MEL>c.martin@example.fr</MEL>"
        )
        drop(
            responsables,
            r"<RESPONSABLE_ELEVE>\s*<ELEVE_ID>1001</ELEVE_ID>\s*<PERSONNE_ID>2002</PERSONNE_ID>.*?</RESPONSABLE_ELEVE>",
        )
        db.rollback()

        summary = cli.json(*siecle_args(files))

        assert summary["pupils"]["updated"] == 1 and summary["pupils"]["departed"] == 1
        assert summary["pupils"]["unchanged"] == 2
        assert summary["guardians"]["updated"] == 2
        assert summary["links"]["removed"] == 1
        lucas, lea = pupil(db, "1001"), pupil(db, "1002")
        assert lucas.class_name == "5B" and lucas.status == PupilStatus.enrolled
        assert lea.status == PupilStatus.departed and lea.departed_at is not None
        assert links_of(db, "1001") == {"2001"}
        assert links_of(db, "1002") == {"2003", "2005"}  # a departed pupil keeps its links
        sophie = db.scalar(select(Guardian).where(Guardian.source_id == "2001"))
        assert sophie.mobile == "+33781000001"

    def test_a_departed_pupil_who_reappears_is_enrolled_again(self, cli, files, db):
        cli.json(*siecle_args(files))
        original = (files / "ElevesSansAdresses.xml").read_bytes()
        drop(files / "ElevesSansAdresses.xml", r'<ELEVE ELEVE_ID="1002".*?</ELEVE>')
        assert cli.json(*siecle_args(files))["pupils"]["departed"] == 1
        (files / "ElevesSansAdresses.xml").write_bytes(original)

        summary = cli.json(*siecle_args(files))

        assert summary["pupils"]["updated"] == 1 and summary["pupils"]["departed"] == 0
        lea = pupil(db, "1002")
        assert lea.status == PupilStatus.enrolled and lea.departed_at is None

    def test_a_rejected_row_neither_departs_nor_loses_links(self, cli, files, db):
        cli.json(*siecle_args(files))
        rewrite(files / "ElevesSansAdresses.xml", "<DATE_NAISS>11/03/2012</DATE_NAISS>", "")
        db.rollback()

        summary = cli.json(*siecle_args(files))

        assert summary["pupils"]["rejected"] == 3 and summary["pupils"]["departed"] == 0
        assert pupil(db, "1001").status == PupilStatus.enrolled
        assert links_of(db, "1001") == {"2001", "2002"}

    def test_a_pupil_moving_to_another_ecole_keeps_its_record(self, cli, files, db):
        cli.json("import", "onde", str(files / "onde.csv"))
        noe = pupil(db, "E4").id
        path = files / "onde.csv"
        text = path.read_text(encoding="utf-8")
        line = next(row for row in text.splitlines() if ";E4;" in row)
        moved = line.replace(
            "0211002A;École maternelle Les Tilleuls", "0211001Z;École élémentaire Jean Jaurès"
        )
        path.write_text(text.replace(line, moved), encoding="utf-8")
        db.rollback()

        summary = cli.json("import", "onde", str(path))

        assert summary["pupils"]["updated"] == 1 and summary["pupils"]["departed"] == 0
        moved_pupil = pupil(db, "E4")
        assert moved_pupil.id == noe and moved_pupil.school_uai == "0211001Z"
        assert moved_pupil.status == PupilStatus.enrolled

    def test_an_ecole_missing_from_the_file_is_left_alone(self, cli, files, db, tmp_path):
        cli.json("import", "onde", str(files / "onde.csv"))
        only_one = tmp_path / "only-jaures.csv"
        lines = (files / "onde.csv").read_text(encoding="utf-8").splitlines()
        only_one.write_text(
            "\n".join(row for row in lines if "0211002A" not in row) + "\n", encoding="utf-8"
        )
        db.rollback()

        summary = cli.json("import", "onde", str(only_one))

        assert summary["pupils"]["departed"] == 0 and summary["schools_uai"] == ["0211001Z"]
        assert pupil(db, "E4").status == PupilStatus.enrolled

    def test_guardian_links_added_and_ranks_changed(self, cli, files, db):
        cli.json("import", "onde", str(files / "onde.csv"))
        path = files / "onde.csv"
        text = path.read_text(encoding="utf-8")
        text = text.replace("PÈRE;OUI;2", "PÈRE;OUI;1").replace(
            "MERE;OUI;1;06 22", "MERE;OUI;2;06 22"
        )
        text += (
            "0211002A;École maternelle Les Tilleuls;E4;;MOREAU;Noé;12/12/2020;M;MS;MS 1;;"
            "R1;MME;DURAND;Sophie;TUTRICE;OUI;1;06 22 33 44 55;;;;;;\n"
        )
        path.write_text(text, encoding="utf-8")
        db.rollback()

        summary = cli.json("import", "onde", str(path))

        assert summary["links"]["created"] == 1 and summary["links"]["updated"] == 2
        assert links_of(db, "E4") == {"R1"}
        tutor = db.scalar(
            select(Guardianship)
            .join(Pupil, Pupil.id == Guardianship.pupil_id)
            .where(Pupil.source_id == "E4")
        )
        assert (tutor.relationship_code, tutor.legal_guardian_rank) == ("50", 1)


class TestImportMany:
    def test_reads_ahead_in_a_worker_and_keeps_each_file_separate(self, sessions, files, db):
        jobs = [
            ImportJob.siecle(
                files / "ElevesSansAdresses.xml", files / "ResponsablesAvecAdresses.xml"
            ),
            ImportJob.siecle(files / "broken.xml", files / "ResponsablesAvecAdresses.xml"),
            ImportJob.onde(files / "onde.csv"),
        ]

        results = list(import_many(sessions, jobs))

        assert [r.status for r in results] == ["succeeded", "rejected", "succeeded"]
        assert results[1].issues[0].line == 9
        assert [r.counts["pupils"]["created"] for r in results] == [4, 0, 4]
        assert db.scalar(select(func.count()).select_from(Pupil)) == 8
        assert db.scalar(select(func.count()).select_from(ImportRun)) == 3
