"""The children of a guardian, and the birth dates typed to prove it (activation and
self-registration ask for each child's birth date as the school knows it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import AccountGuardian
from idp.i18n import _
from idp.registry.models import Guardianship, Pupil, PupilStatus


@dataclass(frozen=True)
class Child:
    pupil_id: str
    guardian_id: str
    given_name: str
    family_name: str
    birthdate: date
    school_uai: str
    school_name: str

    @property
    def field(self) -> str:
        """The name of the form field of this child's birth date."""
        return f"birthdate_{self.pupil_id}"


def children_of_guardians(db: Session, guardian_ids: list[str]) -> list[Child]:
    """Enrolled pupils of these registry guardians, one entry per pupil."""
    if not guardian_ids:
        return []
    rows = db.execute(
        select(Guardianship.guardian_id, Pupil)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Guardianship.guardian_id.in_(guardian_ids), Pupil.status == PupilStatus.enrolled)
        .order_by(Pupil.birthdate, Pupil.given_name, Pupil.id)
    ).all()
    seen: dict[str, Child] = {}
    for guardian_id, pupil in rows:
        seen.setdefault(
            pupil.id,
            Child(
                pupil.id,
                guardian_id,
                pupil.given_name,
                pupil.family_name,
                pupil.birthdate,
                pupil.school_uai,
                pupil.school.name,
            ),
        )
    return list(seen.values())


def guardian_ids_of(db: Session, account_id: str) -> list[str]:
    return list(
        db.scalars(
            select(AccountGuardian.guardian_id).where(AccountGuardian.account_id == account_id)
        )
    )


_DATE_FR = re.compile(r"^\s*(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})\s*$")


def parse_date(raw: str) -> date | None:
    """``2014-03-12`` (date fields) or ``12/03/2014`` (typed by hand)."""
    raw = raw.strip()
    try:
        if match := _DATE_FR.match(raw):
            day, month, year = (int(x) for x in match.groups())
            return date(year, month, day)
        return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return None


def typed_birthdates(form: dict[str, str], children: list[Child]) -> dict[str, str]:
    """The birth dates as typed, by field name, to show the form again."""
    return {child.field: form.get(child.field, "") for child in children}


def check_birthdates(form: dict[str, str], children: list[Child]) -> tuple[dict[str, str], bool]:
    """The errors of the birth-date fields of ``children`` (empty, not a date), and whether a
    well-formed date differs from the school's."""
    errors: dict[str, str] = {}
    mismatch = False
    for child in children:
        raw = form.get(child.field, "")
        given = parse_date(raw)
        if not raw.strip():
            errors[child.field] = _("Saisissez la date de naissance de %(name)s.") % {
                "name": child.given_name
            }
        elif given is None:
            errors[child.field] = _("Date incorrecte. Format attendu : JJ/MM/AAAA.")
        elif given != child.birthdate:
            mismatch = True
    return errors, mismatch
