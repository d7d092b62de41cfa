"""Write registry exports: a SIECLE file pair and ONDE CSV files, as the source systems would.

Used to build the demo data set and the benchmark academy, so that both go through the real
readers. The SIECLE files are ISO-8859-15, like real exports.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from idp.registry.onde import OPTIONAL, REQUIRED

_ONDE_LINKS = {"10": "MERE", "20": "PERE", "39": "AUTRE MEMBRE DE LA FAMILLE", "50": "TUTEUR"}


@dataclass
class ExportPupil:
    source_id: str
    family_name: str
    given_name: str
    birthdate: date
    sex: str  # M | F
    ine: str | None = None
    level: str | None = None
    mef_code: str | None = None
    class_name: str | None = None


@dataclass
class ExportGuardian:
    source_id: str
    civility: str
    family_name: str
    given_name: str
    mobile: str | None = None
    email: str | None = None
    address_lines: list[str] = field(default_factory=list)
    postal_code: str | None = None
    city: str | None = None


@dataclass
class ExportLink:
    pupil_source_id: str
    guardian_source_id: str
    rank: int | None  # 1, 2, or None for a contact
    relationship_code: str = "90"


@dataclass
class ExportSchool:
    uai: str
    name: str
    pupils: list[ExportPupil] = field(default_factory=list)
    guardians: list[ExportGuardian] = field(default_factory=list)
    links: list[ExportLink] = field(default_factory=list)


def _leaf(tag: str, value: str | None) -> str:
    return f"<{tag}>{escape(value or '')}</{tag}>"


def _params(school: ExportSchool, year: int) -> str:
    return (
        f"<PARAMETRES>{_leaf('UAJ', school.uai)}{_leaf('ANNEE_SCOLAIRE', str(year))}"
        f"{_leaf('DENOM_PRINC', school.name)}{_leaf('DATE_EXPORT', f'01/09/{year}')}</PARAMETRES>"
    )


def write_siecle(
    school: ExportSchool, directory: Path, *, year: int = 2025, encoding: str = "ISO-8859-15"
) -> tuple[Path, Path]:
    """Write ``ElevesSansAdresses_<UAI>.xml`` and ``ResponsablesAvecAdresses_<UAI>.xml``."""
    directory.mkdir(parents=True, exist_ok=True)
    eleves = directory / f"ElevesSansAdresses_{school.uai}.xml"
    responsables = directory / f"ResponsablesAvecAdresses_{school.uai}.xml"
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n'

    parts = [head, '<BEE_ELEVES VERSION="3.1">\n', _params(school, year), "\n<DONNEES>\n<ELEVES>\n"]
    for p in school.pupils:
        parts.append(
            f'<ELEVE ELEVE_ID="{p.source_id}" ELENOET="{p.source_id}">\n'
            f"{_leaf('ID_NATIONAL', p.ine)}\n{_leaf('NOM_DE_FAMILLE', p.family_name)}\n"
            f"{_leaf('PRENOM', p.given_name)}\n"
            f"{_leaf('DATE_NAISS', p.birthdate.strftime('%d/%m/%Y'))}\n"
            f"{_leaf('CODE_SEXE', '1' if p.sex == 'M' else '2')}\n{_leaf('CODE_MEF', p.mef_code)}\n"
            "</ELEVE>\n"
        )
    parts.append("</ELEVES>\n<STRUCTURES>\n")
    for p in school.pupils:
        if p.class_name:
            parts.append(
                f'<STRUCTURES_ELEVE ELEVE_ID="{p.source_id}"><STRUCTURE>'
                f"{_leaf('CODE_STRUCTURE', p.class_name)}{_leaf('TYPE_STRUCTURE', 'D')}"
                "</STRUCTURE></STRUCTURES_ELEVE>\n"
            )
    parts.append("</STRUCTURES>\n</DONNEES>\n<NOMENCLATURES>\n<MEFS>\n")
    mefs = {p.mef_code: p.level for p in school.pupils if p.mef_code and p.level}
    for code, label in sorted(mefs.items()):
        parts.append(f"<MEF CODE_MEF={quoteattr(code)}>{_leaf('FORMATION', label)}</MEF>\n")
    parts.append("</MEFS>\n</NOMENCLATURES>\n</BEE_ELEVES>\n")
    eleves.write_text("".join(parts), encoding=encoding, errors="xmlcharrefreplace")

    parts = [
        head,
        '<BEE_RESPONSABLES VERSION="1.7">\n',
        _params(school, year),
        "\n<DONNEES>\n<PERSONNES>\n",
    ]
    for g in school.guardians:
        address = f"\n{_leaf('ADRESSE_ID', 'A' + g.source_id)}" if g.address_lines else ""
        parts.append(
            f'<PERSONNE PERSONNE_ID="{g.source_id}">\n{_leaf("NOM_DE_FAMILLE", g.family_name)}\n'
            f"{_leaf('PRENOM', g.given_name)}\n{_leaf('LC_CIVILITE', g.civility)}\n"
            f"{_leaf('TEL_PORTABLE', g.mobile)}\n{_leaf('MEL', g.email)}{address}\n</PERSONNE>\n"
        )
    parts.append("</PERSONNES>\n<RESPONSABLES>\n")
    for link in school.links:
        parts.append(
            f"<RESPONSABLE_ELEVE>{_leaf('ELEVE_ID', link.pupil_source_id)}"
            f"{_leaf('PERSONNE_ID', link.guardian_source_id)}"
            f"{_leaf('RESP_LEGAL', str(link.rank or 0))}"
            f"{_leaf('CODE_PARENTE', link.relationship_code)}"
            f"{_leaf('RESP_FINANCIER', '1' if link.rank == 1 else '0')}"
            f"{_leaf('PERS_CONTACT', '1')}</RESPONSABLE_ELEVE>\n"
        )
    parts.append("</RESPONSABLES>\n<ADRESSES>\n")
    for g in school.guardians:
        if g.address_lines:
            lines = "".join(
                _leaf(f"LIGNE{i}_ADRESSE", text) for i, text in enumerate(g.address_lines, 1)
            )
            parts.append(
                f'<ADRESSE ADRESSE_ID="A{g.source_id}">{lines}{_leaf("CODE_POSTAL", g.postal_code)}'
                f"{_leaf('LIBELLE_POSTAL', g.city)}{_leaf('LL_PAYS', 'FRANCE')}</ADRESSE>\n"
            )
    parts.append("</ADRESSES>\n</DONNEES>\n</BEE_RESPONSABLES>\n")
    responsables.write_text("".join(parts), encoding=encoding, errors="xmlcharrefreplace")
    return eleves, responsables


def write_onde(schools: list[ExportSchool], path: Path) -> Path:
    """One ``;``-separated UTF-8 file, one row per pupil–guardian link, for several écoles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [
        *REQUIRED[:1],
        "nom_ecole",
        *REQUIRED[1:],
        *(c for c in OPTIONAL if c != "nom_ecole"),
    ]
    with path.open("w", encoding="utf-8", newline="") as stream:
        out = csv.writer(stream, delimiter=";", lineterminator="\n")
        out.writerow(columns)
        for school in schools:
            guardians = {g.source_id: g for g in school.guardians}
            links: dict[str, list[ExportLink]] = {}
            for link in school.links:
                links.setdefault(link.pupil_source_id, []).append(link)
            for p in school.pupils:
                pupil = {
                    "uai_ecole": school.uai,
                    "nom_ecole": school.name,
                    "identifiant_eleve": p.source_id,
                    "ine": p.ine or "",
                    "nom_eleve": p.family_name,
                    "prenom_eleve": p.given_name,
                    "date_naissance": p.birthdate.strftime("%d/%m/%Y"),
                    "sexe": p.sex,
                    "niveau": p.level or "",
                    "classe": p.class_name or "",
                }
                for link in links.get(p.source_id) or [None]:
                    row = dict(pupil)
                    if link is not None:
                        row.update(_onde_guardian(guardians[link.guardian_source_id], link))
                    out.writerow([row.get(c, "") for c in columns])
    return path


def _onde_guardian(g: ExportGuardian, link: ExportLink) -> dict[str, str]:
    lines = {f"adresse_ligne{i}": text for i, text in enumerate(g.address_lines[:4], 1)}
    return {
        "identifiant_responsable": g.source_id,
        "civilite": g.civility,
        "nom_responsable": g.family_name,
        "prenom_responsable": g.given_name,
        "lien_parente": _ONDE_LINKS.get(link.relationship_code, "AUTRE LIEN"),
        "autorite_parentale": "OUI" if link.rank else "NON",
        "rang": str(link.rank or ""),
        "telephone_portable": g.mobile or "",
        "courriel": g.email or "",
        **lines,
        "code_postal": g.postal_code or "",
        "commune": g.city or "",
        "pays": "FRANCE" if g.address_lines else "",
    }
