"""Write a synthetic academy as real exports: SIECLE file pairs and ONDE CSV files.

    .venv/bin/python bench/registry_generate.py var/bench/academy [--scale 1.0]

Defaults: 400 schools (100 collèges/lycées exported from SIECLE, 300 écoles in 30 ONDE files
of 10), 100,000 pupils, about 180,000 guardians; a few bad mobiles and e-mail addresses, as in
real data. Deterministic (seeded), so two runs write identical files.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idp.registry.identifiers import ascii_letters, uai_check_letter
from idp.registry.writers import (
    ExportGuardian,
    ExportLink,
    ExportPupil,
    ExportSchool,
    write_onde,
    write_siecle,
)

FAMILY = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
    "LAURENT", "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
    "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT",
    "MÜLLER", "LEFEBVRE", "FAURE", "ANDRÉ", "MERCIER", "BLANC", "GUÉRIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLÉMENT",
    "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "N'DIAYE", "DA SILVA", "BEN SALAH",
    "NGUYEN", "LE GALL", "SAINT-MARTIN",
)  # fmt: skip
GIVEN_F = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Zoé", "Lina", "Emma",
    "Sarah", "Anaïs", "Nadia", "Hélène", "Sophie", "Maëlle", "Marie-Claire",
)  # fmt: skip
GIVEN_M = (
    "Lucas", "Hugo", "Gabriel", "Louis", "Jules", "Adam", "Raphaël", "Noé", "Yanis", "Karim",
    "Luc", "Éric", "Théo", "Mathis", "Léo", "Marc", "Jean-Baptiste",
)  # fmt: skip
SIECLE_LEVELS = [
    ("6EME", "10010012110"),
    ("5EME", "10110001110"),
    ("4EME", "10210001110"),
    ("3EME", "10310019110"),
]
MOBILE_PREFIXES = ["061", "062", "064", "065", "066", "067", "068", "075", "076", "077", "078"]
ONDE_LEVELS = ["CP", "CE1", "CE2", "CM1", "CM2"]


def uai(number: int) -> str:
    digits = f"{number:07d}"
    return digits + uai_check_letter(digits)


class Academy:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.next_pupil = 100000
        self.next_person = 500000

    def _person(self, family: str, sex: str, onde: bool) -> ExportGuardian:
        rnd = self.rnd
        self.next_person += 1
        sid = f"R{self.next_person}" if onde else str(self.next_person)
        given = rnd.choice(GIVEN_F if sex == "F" else GIVEN_M)
        mobile = email = None
        if rnd.random() < 0.85:
            mobile = f"{rnd.choice(MOBILE_PREFIXES)}{rnd.randrange(10**7):07d}"
            if rnd.random() < 0.005:
                mobile = "03 80 " + mobile[4:6] + " 00 00"  # a landline, reported and dropped
        if rnd.random() < 0.7:
            # Addresses are ASCII in practice; the validator's slow path covers the others.
            email = (
                f"{ascii_letters(given)}.{ascii_letters(family)}{rnd.randrange(1000)}@example.fr"
            )
            if rnd.random() < 0.003:
                email = email.replace("@", " at ")
        return ExportGuardian(
            sid,
            "MME" if sex == "F" else "M.",
            family,
            given,
            mobile,
            email,
            [f"{rnd.randrange(1, 120)} rue {rnd.choice(FAMILY).title()}"],
            f"21{rnd.randrange(1000):03d}",
            "DIJON",
        )

    def school(self, number: int, pupils: int, onde: bool) -> ExportSchool:
        rnd = self.rnd
        code = uai(211000 + number)
        kind = "École élémentaire" if onde else "Collège"
        school = ExportSchool(code, f"{kind} n° {number}")
        family: list[ExportGuardian] = []
        for _ in range(pupils):
            if not family or rnd.random() >= 0.06:  # else a sibling: same guardians
                name = rnd.choice(FAMILY)
                family = [self._person(name, "F", onde)]
                if rnd.random() < 0.88:
                    family.append(self._person(name, "M", onde))
                school.guardians.extend(family)
            self.next_pupil += 1
            sid = f"E{self.next_pupil}" if onde else str(self.next_pupil)
            sex = rnd.choice("MF")
            if onde:
                year = rnd.randrange(5)
                level, mef = ONDE_LEVELS[year], None
                born = date(2019 - year, 1, 1)
                division = f"{level} {'AB'[rnd.randrange(2)]}"
            else:
                year = rnd.randrange(4)
                level, mef = SIECLE_LEVELS[year]
                born = date(2014 - year, 1, 1)
                division = f"{6 - year}{'ABCDEF'[rnd.randrange(6)]}"
            born += timedelta(days=rnd.randrange(365))
            ine = f"{rnd.randrange(10**9):09d}{rnd.choice('ABCDEFGHJK')}{rnd.choice('ABCDEFGHJK')}"
            given = rnd.choice(GIVEN_F if sex == "F" else GIVEN_M)
            school.pupils.append(
                ExportPupil(sid, family[0].family_name, given, born, sex, ine, level, mef, division)
            )
            for rank, guardian in enumerate(family, start=1):
                code_parente = "10" if guardian.civility == "MME" else "20"
                school.links.append(ExportLink(sid, guardian.source_id, rank, code_parente))
            if rnd.random() < 0.03:  # a contact who is not a legal guardian
                contact = self._person(rnd.choice(FAMILY), rnd.choice("MF"), onde)
                school.guardians.append(contact)
                school.links.append(ExportLink(sid, contact.source_id, None, "39"))
        return school


def generate(directory: Path, scale: float = 1.0, seed: int = 2026) -> dict[str, int]:
    academy = Academy(seed)
    totals = {"schools": 0, "pupils": 0, "guardians": 0}
    siecle_dir, onde_dir = directory / "siecle", directory / "onde"
    for number in range(1, int(100 * scale) + 1):
        school = academy.school(number, 640, onde=False)
        write_siecle(school, siecle_dir)
        _count(totals, school)
    batch: list[ExportSchool] = []
    for number in range(1, int(300 * scale) + 1):
        school = academy.school(5000 + number, 120, onde=True)
        batch.append(school)
        _count(totals, school)
        if len(batch) == 10:
            write_onde(batch, onde_dir / f"onde_circonscription_{number // 10:02d}.csv")
            batch = []
    if batch:
        write_onde(batch, onde_dir / "onde_circonscription_last.csv")
    return totals


def _count(totals: dict[str, int], school: ExportSchool) -> None:
    totals["schools"] += 1
    totals["pupils"] += len(school.pupils)
    totals["guardians"] += len(school.guardians)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    started = time.perf_counter()
    totals = generate(args.directory, args.scale)
    elapsed = time.perf_counter() - started
    print(f"{totals} written to {args.directory} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
