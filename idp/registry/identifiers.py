"""Validation and normalisation of registry identifiers and contact details.

- UAI (ex-RNE): 7 digits and a check letter, ``"ABCDEFGHJKLMNPRSTUVWXYZ"[int(digits) % 23]``.
  Test data from the ministry and third parties often carries wrong keys, hence ``lenient``.
- INE: 11 characters in one of three formats (RNIE, BEA, apprenticeship); no public key
  algorithm exists, so only the format is checked.
- Mobile numbers: E.164 through ``phonenumbers`` (default region FR); only mobiles pass.
- E-mail addresses: ``email-validator`` syntax check (no DNS).
- Names: one folding used by every comparison (imports, self-registration, grouping).

Every validator returns the normalised value or raises ``ValueError`` with a French sentence
fit for an import report.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType

from idp.i18n import _

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI = re.compile(r"^(\d{7})([A-Z])$")
_INE_FORMATS = (
    re.compile(r"^\d{9}[A-Z]{2}$"),  # INE-RNIE (since 2018)
    re.compile(r"^\d{10}[A-Z]$"),  # INE-BEA (base élèves académique)
    re.compile(r"^\d{4}A\d{5}[A-Z]$"),  # apprenticeship
)


_FRENCH_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(value: str) -> date:
    """``JJ/MM/AAAA`` (exports) or ``AAAA-MM-JJ``; ``ValueError`` otherwise."""
    text = value.strip()
    if match := _FRENCH_DATE.match(text):
        day, month, year = match.groups()
    elif match := _ISO_DATE.match(text):
        year, month, day = match.groups()
    else:
        raise ValueError(_("date « %(value)s » illisible (JJ/MM/AAAA attendu)") % {"value": text})
    return date(int(year), int(month), int(day))


def uai_check_letter(digits: str) -> str:
    return UAI_LETTERS[int(digits) % 23]


def validate_uai(value: str, *, lenient: bool = False) -> str:
    """The upper-case UAI; ``lenient`` accepts a wrong check letter (never a wrong shape)."""
    uai = value.strip().upper()
    match = _UAI.match(uai)
    if not match:
        message = _("UAI « %(value)s » invalide : 7 chiffres et une lettre attendus")
        raise ValueError(message % {"value": value.strip()})
    digits, letter = match.groups()
    expected = uai_check_letter(digits)
    if letter != expected and not lenient:
        message = _(
            "UAI « %(value)s » invalide : la lettre de contrôle devrait être %(letter)s "
            "(option --lenient-uai pour des données de test)"
        )
        raise ValueError(message % {"value": uai, "letter": expected})
    return uai


def validate_ine(value: str) -> str:
    ine = value.strip().upper().replace(" ", "")
    if not any(fmt.match(ine) for fmt in _INE_FORMATS):
        message = _(
            "INE « %(value)s » invalide : 9 chiffres + 2 lettres, 10 chiffres + 1 lettre "
            "ou 4 chiffres + A + 5 chiffres + 1 lettre attendus"
        )
        raise ValueError(message % {"value": value.strip()})
    return ine


# French mobiles are by far the most common value: recognise them with the library's own
# pattern without a full parse (an import validates hundreds of thousands of numbers).
_FR_MOBILE = re.compile(
    phonenumbers.PhoneMetadata.metadata_for_region("FR").mobile.national_number_pattern
)
_PHONE_NOISE = re.compile(r"[\s.\-/()]")
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalize_mobile(value: str, region: str = "FR") -> str:
    """E.164 form of a mobile number; landlines and unparseable values raise."""
    raw = value.strip()
    compact = _PHONE_NOISE.sub("", raw)
    national = None
    if region == "FR":
        if len(compact) == 10 and compact[0] == "0":
            national = compact[1:]
        elif compact.startswith("+33") and len(compact) == 12:
            national = compact[3:]
        elif compact.startswith("0033") and len(compact) == 13:
            national = compact[4:]
    if national is not None and national.isdigit():
        if _FR_MOBILE.fullmatch(national):
            return "+33" + national
        raise ValueError(_not_mobile(raw))
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        message = _("numéro de téléphone « %(value)s » illisible")
        raise ValueError(message % {"value": raw}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("numéro de téléphone « %(value)s » invalide") % {"value": raw})
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValueError(_not_mobile(raw))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _not_mobile(raw: str) -> str:
    return _("le numéro « %(value)s » n'est pas un numéro de mobile") % {"value": raw}


# A plain ASCII address is checked with a strict subset of the RFC 5322 syntax; anything
# else goes through email-validator. Both give the same normalised form for these addresses.
_SIMPLE_EMAIL = re.compile(
    r"^([A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*)@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}))$"
)
_SPECIAL_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test"}


def normalize_email(value: str) -> str:
    raw = value.strip()
    match = _SIMPLE_EMAIL.match(raw)
    if (
        match
        and len(match.group(1)) <= 64
        and len(raw) <= 254
        and match.group(3).lower() not in _SPECIAL_TLDS
    ):
        return f"{match.group(1)}@{match.group(2).lower()}"
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        message = _("adresse électronique « %(value)s » invalide (%(reason)s)")
        raise ValueError(message % {"value": raw, "reason": exc}) from None


_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "’": "'", "ʼ": "'"})


@lru_cache(maxsize=65536)
def normalize_name(value: str) -> str:
    """Fold a name for comparison: no accents, case-folded, hyphens and runs of spaces as one
    space. ``"Jean-Édouard  D’Arc"`` and ``"JEAN EDOUARD d'arc"`` fold to the same string."""
    text = unicodedata.normalize("NFKD", value.translate(_LIGATURES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _SEPARATORS.sub(" ", text).strip()


def names_match(a: str, b: str) -> bool:
    return normalize_name(a) == normalize_name(b)


def ascii_letters(value: str) -> str:
    """Lower-case ASCII letters of a name, everything else dropped (for login identifiers)."""
    return "".join(ch for ch in normalize_name(value) if "a" <= ch <= "z")


def username_base(given_name: str, family_name: str) -> str:
    """``j.martin`` for Jeanne Martin: first initial, a dot, the family name's letters."""
    initial = ascii_letters(given_name)[:1] or "x"
    family = ascii_letters(family_name) or "compte"
    return f"{initial}.{family}"[:56]  # room left for a disambiguating number
