"""Finding the registry guardian behind a FranceConnect identity (DESIGN.md §4.4).

FranceConnect vouches for a civil identity; the registry knows guardians by the names the schools
typed. Names are therefore the key, compared without case or accents (``normalize_name``):

* family name: FC's birth name, or its ``preferred_username`` (nom d'usage), which is what many
  schools record for married parents;
* given names: FC's ``given_name`` holds every first name ("Camille Marie"), the registry usually
  the first one only, so the registry's names must be the leading names of FC's.

Homonyms are common, so names only make *candidates*: the person then gives the birth dates of
their children, and the candidates whose enrolled children are exactly those dates are kept.
FC's own birth date is not used: the registry has none for guardians.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from federation.connector import FranceConnectIdentity
from idp.registry.identifiers import normalize_name
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus

#: Letters a school may have typed with an accent (or as a ligature), and separators: the SQL
#: pre-filter lets any one character stand there (LIKE ``_``). The exact comparison happens
#: afterwards in Python (``normalize_name``), which the database cannot run.
_LOOSE = frozenset("aeiouycn'- %")


def _like_pattern(name: str) -> str:
    return "".join("_" if ch in _LOOSE else ch for ch in normalize_name(name))


def family_names(identity: FranceConnectIdentity) -> set[str]:
    names = {identity.family_name or "", identity.preferred_username or ""}
    return {normalize_name(n) for n in names if normalize_name(n)}


def given_names_match(registry_given: str, fc_given: str) -> bool:
    registry = normalize_name(registry_given).split()
    upstream = normalize_name(fc_given).split()
    return bool(registry) and upstream[: len(registry)] == registry


def matches(guardian: Guardian, identity: FranceConnectIdentity) -> bool:
    return normalize_name(guardian.family_name) in family_names(identity) and given_names_match(
        guardian.given_name, identity.given_name or ""
    )


def find_candidates(db: Session, identity: FranceConnectIdentity) -> list[Guardian]:
    """Registry guardians with the identity's names, legal guardians of an enrolled child."""
    if not identity.given_name or not family_names(identity):
        return []
    # A pre-filter the database can run; a stored, indexed name key would make it cheaper.
    patterns = [Guardian.family_name.ilike(_like_pattern(n)) for n in family_names(identity)]
    rows = db.scalars(select(Guardian).where(or_(*patterns)))
    found = [g for g in rows if matches(g, identity)]
    children = children_birthdates(db, [g.id for g in found])
    return [g for g in found if children.get(g.id)]


def children_birthdates(db: Session, guardian_ids: Iterable[str]) -> dict[str, set[date]]:
    """Birth dates of the enrolled children each guardian is a legal guardian of (accounts are
    for "responsables légaux", as in self-registration; a mere contact gets none)."""
    ids = list(guardian_ids)
    result: dict[str, set[date]] = defaultdict(set)
    if not ids:
        return result
    rows = db.execute(
        select(Guardianship.guardian_id, Pupil.birthdate)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(
            Guardianship.guardian_id.in_(ids),
            Guardianship.legal_guardian_rank.is_not(None),
            Pupil.status == PupilStatus.enrolled,
        )
    )
    for guardian_id, birthdate in rows:
        result[guardian_id].add(birthdate)
    return result


def select_by_birthdates(children: dict[str, set[date]], entered: set[date]) -> list[str]:
    """Candidates whose children were all given, provided every date given is one of theirs.

    A person with records in two schools gives every child and keeps both records; a homonym's
    record, whose children were not given, drops out. Extra dates fail the whole check, so a
    list of guessed dates cannot sweep records in.
    """
    kept = [gid for gid, dates in children.items() if dates and dates <= entered]
    covered = set().union(*(children[gid] for gid in kept)) if kept else set()
    return sorted(kept) if kept and covered == entered else []


def choose_mobile(guardians: list[Guardian]) -> tuple[str, list[Guardian]] | None:
    """The registry mobile to send the code to, and the records that carry it.

    Records of one person usually share a number; when schools hold different ones, the number
    most of them hold wins (the other records can be grouped later).
    """
    counts = Counter(g.mobile for g in guardians if g.mobile)
    if not counts:
        return None
    mobile = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]
    return mobile, [g for g in guardians if g.mobile == mobile]
