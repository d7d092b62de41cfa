"""Notification letters as CSV, for a school that prints or mails them itself."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from idp.admin.schools.letters import Letter

CSV_COLUMNS = (
    "uai",
    "ecole",
    "type",
    "nom",
    "prenom",
    "classe",
    "enfants",
    "identifiant",
    "mot_de_passe_provisoire",
    "valable_jusqu_au",
)


def render_csv(letters: Iterable[Letter]) -> str:
    """``;``-separated UTF-8 with a BOM, as spreadsheet software in France expects."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for x in letters:
        kind = "responsable" if x.kind == "guardian" else "eleve"
        writer.writerow(
            [
                x.school_uai,
                x.school_name,
                kind,
                x.family_name,
                x.given_name,
                x.class_name or "",
                " | ".join(x.children),
                x.username,
                x.password,
                x.valid_until.isoformat(),
            ]
        )
    return out.getvalue()
