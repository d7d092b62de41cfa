"""Code tables shared by the readers and the claims: relationships, sexes, levels.

Relationship codes follow SIECLE's ``LIEN_PARENTE`` nomenclature (``CODE_PARENTE``); ONDE's
spelled-out links are mapped onto the same codes so that claims read one vocabulary.
"""

from __future__ import annotations

import re

from idp.registry.identifiers import normalize_name

#: SIECLE ``CODE_PARENTE`` → the ``relationship`` value released in claims.
RELATIONSHIPS = {
    "10": "mother",
    "20": "father",
    "30": "family",
    "37": "family",
    "38": "family",
    "39": "family",
    "41": "educator",
    "42": "foster_carer",
    "50": "tutor",
    "51": "child_welfare",
    "70": "pupil",
    "90": "other",
}

#: ONDE ``lien_parente`` (folded) → SIECLE code.
_ONDE_RELATIONSHIPS = {
    "mere": "10",
    "pere": "20",
    "autre membre de la famille": "39",
    "famille": "39",
    "grand mere": "38",
    "grand pere": "38",
    "educateur": "41",
    "assistant familial": "42",
    "assistante familiale": "42",
    "tuteur": "50",
    "tutrice": "50",
    "aide sociale a l'enfance": "51",
    "ase": "51",
    "autre lien": "90",
    "autre": "90",
}


def relationship_name(code: str | None) -> str | None:
    if code is None:
        return None
    return RELATIONSHIPS.get(code, "other")


def onde_relationship_code(value: str) -> str | None:
    """A code for ONDE's text, or ``None`` when unknown (reported as a bad value)."""
    folded = normalize_name(value)
    if folded in RELATIONSHIPS:  # already a code
        return folded
    return _ONDE_RELATIONSHIPS.get(folded)


def sex_from_siecle(code: str) -> str | None:
    return {"1": "M", "2": "F"}.get(code.strip())


def sex_from_onde(value: str) -> str | None:
    folded = normalize_name(value)
    return {"m": "M", "f": "F", "masculin": "M", "feminin": "F", "1": "M", "2": "F"}.get(folded)


# The first three digits of a MEF code (the "dispositif de formation") name the year for the
# common collège and lycée courses. Used when the export carries no MEF nomenclature.
_MEF_DISPOSITIFS = {
    "100": "6EME",
    "101": "5EME",
    "102": "4EME",
    "103": "3EME",
    "200": "2NDE",
    "201": "1ERE",
    "202": "TLE",
}
_DIVISION_YEAR = re.compile(r"^([3-6])(?:E|EME)?\b|^([3-6])[A-Z0-9]", re.IGNORECASE)


def level_from_mef(
    mef_code: str | None, nomenclature: dict[str, str], division: str | None
) -> str | None:
    """A readable level: the export's MEF label, else the MEF's course, else the division."""
    if mef_code:
        if mef_code in nomenclature:
            return nomenclature[mef_code]
        if mef_code[:3] in _MEF_DISPOSITIFS:
            return _MEF_DISPOSITIFS[mef_code[:3]]
    if division:
        match = _DIVISION_YEAR.match(division.strip())
        if match:
            return f"{match.group(1) or match.group(2)}EME"
    return None
