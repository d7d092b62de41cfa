"""Issuing credentials to a school's people: accounts in state ``notified`` with a temporary
password and a letter valid three months (DESIGN.md §2, "Account states").

``idp.accounts.notify`` does the same for a whole school from the command line; the director's
tool needs more (one person, one class, a new letter, a password reset, pupils only for
delegates), so it issues here, with the same selection rules and the same validity
(``NOTIFICATION_VALIDITY``), and accounts from ``idp.accounts.service.create_account``.

- Pupils get accounts only in secondary schools (``School.degree == 2``): EduConnect serves
  pupils of the second degree and the guardians of every degree.
- Guardians are the legal guardians (rank 1 or 2) of the school's enrolled pupils.
- Temporary passwords are 12 random characters (about 59 bits) valid three months, and are
  replaced at first login: they are hashed with argon2id at a lower cost than chosen passwords,
  so that a school's 2,000 letters take seconds, not minutes. The hash carries its parameters,
  so login verifies it as any other, then rehashes the chosen password at full cost.
- A batch (a class, the whole school) runs in the caller's transaction and takes the school's
  row lock first, so two directors notifying the same school at once are serialised, and any
  failure leaves nothing behind (all-or-nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.accounts.service import NOTIFICATION_VALIDITY, NewAccount, create_account
from idp.admin.schools.letters import Letter
from idp.i18n import _
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus, School
from idp.state import AppState

_TEMPORARY_HASHER = PasswordHasher(time_cost=1, memory_cost=2 * 1024, parallelism=1)


class IssueError(ValueError):
    """Credentials cannot be issued; the message is a French sentence for the page."""


@dataclass
class Issued:
    account_id: str
    kind: AccountKind
    person_id: str
    letter: Letter


def lock_school(db: Session, uai: str) -> School:
    school = db.scalar(select(School).where(School.uai == uai).with_for_update())
    if school is None:
        raise IssueError(_("École ou établissement inconnu."))
    return school


def _letter(
    school: School, account: Account, password: str, until: date | None = None, **extra
) -> Letter:
    """The letter of ``account`` (valid until its notification expires, or ``until``)."""
    if until is None:
        assert account.notification_expires_at is not None
        until = account.notification_expires_at.date()
    return Letter(
        school_uai=school.uai,
        school_name=school.name,
        kind=account.kind.value,
        given_name=account.given_name,
        family_name=account.family_name,
        username=account.username,
        password=password,
        valid_until=until,
        **extra,
    )


def _details(db: Session, school: School, account: Account) -> dict:
    """What a letter says of the person: a guardian's children, a pupil's class."""
    if account.kind == AccountKind.guardian:
        guardian_ids = [link.guardian_id for link in account.guardian_links]
        return {"children": _children_labels(db, guardian_ids, school.uai)}
    pupil = db.get(Pupil, account.pupil_id)
    return {"class_name": pupil.class_name if pupil else None}


def _children_labels(db: Session, guardian_ids: list[str], uai: str) -> list[str]:
    rows = db.execute(
        select(Pupil.given_name, Pupil.family_name, Pupil.class_name)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(
            Guardianship.guardian_id.in_(guardian_ids),
            Pupil.school_uai == uai,
            Pupil.status == PupilStatus.enrolled,
        )
        .order_by(Pupil.given_name)
    ).all()
    return list(dict.fromkeys(f"{g} {f}" + (f" ({c})" if c else "") for g, f, c in rows))


def _stamp(state: AppState, account: Account, password: str) -> None:
    now = state.clock.now()
    account.password_hash = _TEMPORARY_HASHER.hash(password)
    account.state = AccountState.notified
    account.notified_at = account.updated_at = now
    account.notification_expires_at = now + NOTIFICATION_VALIDITY
    account.failed_logins = 0
    account.locked_until = None


def _new_account(
    state: AppState, db: Session, person: Pupil | Guardian, password: str, **links
) -> Account:
    """A ``notified`` account for ``person`` with a free identifier made from the names."""
    new = NewAccount(
        kind=AccountKind.pupil if isinstance(person, Pupil) else AccountKind.guardian,
        state=AccountState.notified,
        given_name=person.given_name,
        family_name=person.family_name,
        password_hash=_TEMPORARY_HASHER.hash(password),
        **links,
    )
    return create_account(db, state.clock.now(), new)


def issue_pupil(state: AppState, db: Session, school: School, pupil: Pupil) -> Issued:
    if school.degree != 2:
        raise IssueError(
            _(
                "Les élèves du premier degré n'ont pas de compte ÉduConnect : seuls leurs "
                "représentants légaux en ont un."
            )
        )
    if db.scalar(
        select(Account.id).where(
            Account.pupil_id == pupil.id, Account.state != AccountState.retired
        )
    ):
        raise IssueError(_("Cet élève a déjà un compte : utilisez « Renvoyer un courrier »."))
    password = state.passwords.temporary()
    account = _new_account(state, db, pupil, password, pupil_id=pupil.id)
    letter = _letter(school, account, password, class_name=pupil.class_name)
    return Issued(account.id, AccountKind.pupil, pupil.id, letter)


def issue_guardian(state: AppState, db: Session, school: School, guardian: Guardian) -> Issued:
    if db.scalar(
        select(AccountGuardian.account_id).where(AccountGuardian.guardian_id == guardian.id)
    ):
        raise IssueError(
            _("Ce représentant légal a déjà un compte : utilisez « Renvoyer un courrier ».")
        )
    password = state.passwords.temporary()
    account = _new_account(state, db, guardian, password, guardian_ids=[guardian.id])
    db.flush()
    children = _children_labels(db, [guardian.id], school.uai)
    letter = _letter(school, account, password, children=children)
    return Issued(account.id, AccountKind.guardian, guardian.id, letter)


def reissue(
    state: AppState, db: Session, school: School, account: Account, person_id: str
) -> Issued:
    """A new temporary password and a new three-month letter (state back to ``notified``).
    For an account that was never activated, or whose letter expired."""
    if account.state not in (AccountState.notified, AccountState.expired):
        raise IssueError(
            _("Ce compte a déjà été activé : utilisez « Réinitialiser le mot de passe ».")
        )
    password = state.passwords.temporary()
    _stamp(state, account, password)
    letter = _letter(school, account, password, **_details(db, school, account))
    return Issued(account.id, account.kind, person_id, letter)


def reset_password(
    state: AppState, db: Session, school: School, account: Account, person_id: str
) -> Issued:
    """An active (or locked) account gets a temporary password to replace at next login."""
    if account.state in (AccountState.notified, AccountState.expired):
        return reissue(state, db, school, account, person_id)
    if account.state not in (AccountState.active, AccountState.locked):
        raise IssueError(_("Ce compte est désactivé : réactivez-le d'abord."))
    password = state.passwords.temporary()
    now = state.clock.now()
    account.password_hash = _TEMPORARY_HASHER.hash(password)
    account.force_password_change = True
    account.updated_at = now
    account.failed_logins = 0
    account.locked_until = None
    if account.state == AccountState.locked:
        account.state = AccountState.active
    until = (now + NOTIFICATION_VALIDITY).date()
    letter = _letter(school, account, password, until, **_details(db, school, account))
    return Issued(account.id, account.kind, person_id, letter)


def school_without_accounts(
    db: Session, school: School, class_name: str | None = None
) -> tuple[list[Pupil], list[Guardian]]:
    """The enrolled pupils (secondary schools only) and legal guardians of the school, or of
    one class, who have no account yet."""
    pupils_q = select(Pupil).where(
        Pupil.school_uai == school.uai, Pupil.status == PupilStatus.enrolled
    )
    if class_name:
        pupils_q = pupils_q.where(Pupil.class_name == class_name)
    pupils: list[Pupil] = []
    if school.degree == 2:
        pupils = list(
            db.scalars(
                pupils_q.where(
                    ~exists().where(
                        Account.pupil_id == Pupil.id, Account.state != AccountState.retired
                    )
                ).order_by(Pupil.class_name, Pupil.family_name, Pupil.given_name)
            )
        )
    in_scope = pupils_q.with_only_columns(Pupil.id)
    guardians = list(
        db.scalars(
            select(Guardian)
            .where(
                exists().where(
                    Guardianship.guardian_id == Guardian.id,
                    Guardianship.legal_guardian_rank.is_not(None),
                    Guardianship.pupil_id.in_(in_scope),
                ),
                ~exists().where(AccountGuardian.guardian_id == Guardian.id),
            )
            .order_by(Guardian.family_name, Guardian.given_name, Guardian.id)
        )
    )
    return pupils, guardians
