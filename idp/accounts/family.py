"""Registry-derived claims (DESIGN.md §5): ``children``, ``school`` and ``fredu``.

Read fresh from the database on every call — no cache — so that an import shows in the next
token. A guardian's children come from one query (account_guardians → guardianships → pupils →
schools → guardians); a pupil's school from one query too.

``fredu`` reproduces the attributes that services migrating from EduConnect read:
``FrEduCtPersonAffiliation`` (``resp1d``/``resp2d``/``eleve1d``/``eleve2d``), ``FrEduCtEleveUAI``,
``FrEduCtEleveNiveau`` and ``FrEduVecteur`` — ``profil|nom|prenom|eleveid|UAI`` with profil
1 = guardian of a 1st-degree pupil, 2 = of a 2nd-degree pupil, 3 = 1st-degree pupil,
4 = 2nd-degree pupil; ``nom|prenom`` are the holder's (the guardian's registry names for a
guardian, the pupil's own for a pupil) and ``eleveid`` the pupil's source id (SIECLE
``ELEVE_ID``, ONDE pupil id), as in the ATEN vectors.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountKind
from idp.registry.codes import relationship_name
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus, School

GUARDIAN_SCOPES = {"children", "fredu"}
PUPIL_SCOPES = {"school", "fredu"}


def _children_query(account_id: str):
    return (
        select(
            Pupil.id,
            Pupil.given_name,
            Pupil.family_name,
            Pupil.birthdate,
            Pupil.level,
            Pupil.class_name,
            Pupil.source_id,
            School.uai,
            School.name,
            School.degree,
            Guardianship.relationship_code,
            Guardianship.legal_guardian_rank,
            Guardian.given_name.label("guardian_given_name"),
            Guardian.family_name.label("guardian_family_name"),
        )
        .select_from(AccountGuardian)
        .join(Guardian, Guardian.id == AccountGuardian.guardian_id)
        .join(Guardianship, Guardianship.guardian_id == AccountGuardian.guardian_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(School, School.uai == Pupil.school_uai)
        .where(AccountGuardian.account_id == account_id, Pupil.status == PupilStatus.enrolled)
        .order_by(Pupil.birthdate, Pupil.id)
    )


def registry_claims(
    db: Session,
    account: Account,
    scopes: set[str],
    child_subject: Callable[[str], str],
    allow_ine: bool,
) -> dict:
    if account.kind == AccountKind.guardian and scopes & GUARDIAN_SCOPES:
        return _guardian_claims(db, account, scopes, child_subject)
    if account.kind == AccountKind.pupil and scopes & PUPIL_SCOPES and account.pupil_id:
        return _pupil_claims(db, account.pupil_id, scopes, allow_ine)
    return {}


def _guardian_claims(
    db: Session, account: Account, scopes: set[str], child_subject: Callable[[str], str]
) -> dict:
    children: dict[str, dict] = {}
    vectors: dict[str, str] = {}
    degrees: set[int] = set()
    for row in db.execute(_children_query(account.id)):
        entry = children.get(row.id)
        rank = row.legal_guardian_rank
        # Several linked records may reach the same child (grouped accounts): keep the
        # strongest link — a legal guardian's, and rank 1 before rank 2.
        if entry is not None:
            current = entry["legal_guardian"]
            if rank is None or (current is not None and current <= rank):
                continue
        children[row.id] = {
            "sub": child_subject(row.id),
            "given_name": row.given_name,
            "family_name": row.family_name,
            "birthdate": row.birthdate.isoformat(),
            "school": {"uai": row.uai, "name": row.name},
            "level": row.level,
            "class": row.class_name,
            "relationship": relationship_name(row.relationship_code),
            "legal_guardian": rank,
        }
        degrees.add(row.degree)
        profile = 1 if row.degree == 1 else 2
        names = f"{row.guardian_family_name}|{row.guardian_given_name}"
        vectors[row.id] = f"{profile}|{names}|{row.source_id}|{row.uai}"
    claims: dict = {}
    if "children" in scopes:
        claims["children"] = list(children.values())
    if "fredu" in scopes:
        entries = list(children.values())
        claims["FrEduCtPersonAffiliation"] = [f"resp{d}d" for d in sorted(degrees)]
        claims["FrEduCtEleveUAI"] = _unique(child["school"]["uai"] for child in entries)
        claims["FrEduCtEleveNiveau"] = _unique(
            child["level"] for child in entries if child["level"]
        )
        claims["FrEduVecteur"] = list(vectors.values())
    return claims


def _pupil_claims(db: Session, pupil_id: str, scopes: set[str], allow_ine: bool) -> dict:
    row = db.execute(
        select(
            Pupil.given_name,
            Pupil.family_name,
            Pupil.ine,
            Pupil.level,
            Pupil.class_name,
            Pupil.source_id,
            School.uai,
            School.name,
            School.degree,
        )
        .join(School, School.uai == Pupil.school_uai)
        .where(Pupil.id == pupil_id, Pupil.status == PupilStatus.enrolled)
    ).first()
    if row is None:  # departed: the registry no longer vouches for a school
        return {}
    claims: dict = {}
    if "school" in scopes:
        claims.update(school={"uai": row.uai, "name": row.name}, level=row.level)
        claims["class"] = row.class_name
        if allow_ine and row.ine:
            claims["ine"] = row.ine
    if "fredu" in scopes:
        profile = 3 if row.degree == 1 else 4
        claims["FrEduCtPersonAffiliation"] = [f"eleve{row.degree}d"]
        claims["FrEduCtEleveUAI"] = [row.uai]
        claims["FrEduCtEleveNiveau"] = [row.level] if row.level else []
        vector = f"{profile}|{row.family_name}|{row.given_name}|{row.source_id}|{row.uai}"
        claims["FrEduVecteur"] = [vector]
    return claims


def _unique(values) -> list:
    return list(dict.fromkeys(values))
