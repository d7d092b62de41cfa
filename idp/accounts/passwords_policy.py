"""What a new password must be (ANSSI / CNIL recommendations, NIST SP 800-63B §5.1.1.2).

- At least 12 characters, or a passphrase of at least 4 words (of 3 letters or more);
  at most 128 (argon2 has no limit, but nobody types more and it bounds the work).
- Not guessable: a small estimate in the spirit of zxcvbn (no dependency) removes what an
  attacker tries first (common passwords and words, keyboard rows, sequences, repeats, dates)
  and requires about 50 bits of what is left.
- Not built on the identifier or the person's or children's names.
- Different from the current (temporary) password.

``problems(...)`` returns French sentences for the form, an empty list when the password is fine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from idp.i18n import _
from idp.registry.identifiers import normalize_name

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_WORDS = 4
MIN_BITS = 50

# Tried first by every attacker (French and English lists, school context). Checked as
# substrings of the folded password, longest first.
_COMMON = sorted(
    {
        "password",
        "motdepasse",
        "azerty",
        "qwerty",
        "qwertz",
        "soleil",
        "bonjour",
        "doudou",
        "chouchou",
        "loulou",
        "marseille",
        "paris",
        "france",
        "football",
        "educonnect",
        "education",
        "ecole",
        "college",
        "lycee",
        "eleve",
        "parent",
        "enfant",
        "famille",
        "maman",
        "papa",
        "admin",
        "secret",
        "iloveyou",
        "jetaime",
        "coucou",
        "princesse",
        "nicolas",
        "thomas",
        "camille",
        "julien",
        "pokemon",
        "dragon",
        "monkey",
        "welcome",
        "bienvenue",
        "letmein",
        "master",
        "superman",
        "batman",
        "chocolat",
        "vacances",
        "janvier",
        "fevrier",
        "mars",
        "avril",
        "juin",
        "juillet",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "decembre",
        "passw0rd",
        "abc",
        "toto",
        "test",
    },
    key=len,
    reverse=True,
)
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
)
_YEAR = re.compile(r"(19|20)\d\d")
_DATE = re.compile(r"\d{1,2}[/.-]?\d{1,2}[/.-]?(19|20)?\d\d")
_WORD = re.compile(r"[^\W\d_]{3,}")

TOO_SHORT = _(
    "Choisissez un mot de passe d'au moins %(length)s caractères, "
    "ou une phrase de passe d'au moins %(words)s mots."
) % {"length": MIN_LENGTH, "words": MIN_WORDS}
TOO_LONG = _("Le mot de passe ne peut pas dépasser %(length)s caractères.") % {"length": MAX_LENGTH}
TOO_WEAK = _(
    "Ce mot de passe est trop facile à deviner : évitez les mots courants, les suites "
    "(1234, azerty), les répétitions et les dates. Une phrase de plusieurs mots est plus sûre."
)
PERSONAL = _(
    "Le mot de passe ne doit contenir ni votre identifiant, ni votre nom, ni celui de vos enfants."
)
SAME = _("Choisissez un mot de passe différent de votre mot de passe actuel.")
MISMATCH = _("Les deux mots de passe saisis ne sont pas identiques.")
EMPTY = _("Saisissez un mot de passe.")


def _fold(value: str) -> str:
    return normalize_name(value).replace(" ", "")


def _is_passphrase(password: str) -> bool:
    return len(_WORD.findall(password)) >= MIN_WORDS


def _strip_patterns(folded: str) -> str:
    """Remove what guessing tools try first; what is left carries the real entropy."""
    rest = folded
    for word in _COMMON:
        rest = rest.replace(word, "\x00")
    rest = _DATE.sub("\x00", rest)
    rest = _YEAR.sub("\x00", rest)
    for seq in _SEQUENCES:
        for forwards in (seq, seq[::-1]):
            for size in range(len(forwards), 2, -1):
                for start in range(len(forwards) - size + 1):
                    rest = rest.replace(forwards[start : start + size], "\x00")
    rest = re.sub(r"(.)\1{2,}", "\x00", rest)  # aaa, 1111
    rest = re.sub(r"(..+?)\1+", r"\1", rest)  # abcabc: the repeat adds nothing
    return rest


# Look-alike substitutions (p@ssw0rd) fool no guessing tool.
_UNLEET = str.maketrans(
    {
        "@": "a",
        "4": "a",
        "0": "o",
        "1": "i",
        "!": "i",
        "3": "e",
        "$": "s",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
    }
)


def estimate_bits(password: str) -> float:
    """A rough lower estimate of the password's entropy, in bits."""
    folded = password.lower()
    return min(_bits(password, folded), _bits(password, folded.translate(_UNLEET)))


def _bits(password: str, folded: str) -> float:
    rest = _strip_patterns(folded)
    pool = 0
    if re.search(r"[a-z]", password):
        pool += 26
    if re.search(r"[A-Z]", password):
        pool += 26
    if re.search(r"\d", password):
        pool += 10
    if re.search(r"[^A-Za-z0-9]", password):
        pool += 33
    distinct = len(set(rest.replace("\x00", "")))
    letters = len(rest.replace("\x00", ""))
    # Each removed pattern still costs the attacker a guess among a few thousand.
    patterns = rest.count("\x00") * 11
    effective = min(letters, distinct * 2)
    bits = effective * math.log2(max(pool, 10)) + patterns
    if _is_passphrase(password):
        # Diceware-like: each distinct uncommon word from a vocabulary of a few thousand.
        words = {w for w in _WORD.findall(folded) if w not in _COMMON}
        bits = max(bits, len(words) * 12.5)
    return bits


def problems(
    password: str,
    confirmation: str | None = None,
    *,
    personal: Iterable[str] = (),
    current_hash: str | None = None,
    passwords=None,
) -> list[str]:
    """Why ``password`` cannot be chosen (French sentences); ``[]`` when it can.

    ``personal``: identifier, names of the person and of the children. ``current_hash`` and
    ``passwords`` (the app's ``Passwords``): refuse the password in use (the temporary one)."""
    if not password:
        return [EMPTY]
    found: list[str] = []
    if len(password) > MAX_LENGTH:
        return [TOO_LONG]
    if len(password) < MIN_LENGTH and not _is_passphrase(password):
        found.append(TOO_SHORT)
    folded = _fold(password)
    tokens = {
        _fold(part)
        for value in personal
        if value
        for part in [*re.split(r"[\s.\-_']+", value), value]
    }
    if any(len(token) >= 3 and token in folded for token in tokens):
        found.append(PERSONAL)
    elif not found and estimate_bits(password) < MIN_BITS:
        found.append(TOO_WEAK)
    if confirmation is not None and confirmation != password:
        found.append(MISMATCH)
    if (
        not found
        and current_hash
        and passwords is not None
        and passwords.verify(current_hash, password)
    ):
        found.append(SAME)
    return found
