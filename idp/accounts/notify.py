"""Issue accounts from the registry ("notification"): credentials for a school's families.

For every enrolled pupil of the school and every legal guardian (rank 1 or 2) of one, without
an account yet, create an Account in state ``notified`` with a unique identifier
(``j.martin``, ``j.martin2``…) and a temporary password, valid three months. The caller
prints or mails the credentials; only their hash is stored. Used by ``educonnect accounts
notify`` and, later, by the director's tool. Only flushes: the caller commits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from idp.accounts.identifiers import Usernames
from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.accounts.passwords import Passwords
from idp.accounts.service import NewAccount, create_account
from idp.registry.identifiers import username_base
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus, School


class UnknownSchool(LookupError):
    pass


@dataclass(frozen=True)
class IssuedCredential:
    kind: str  # guardian | pupil
    username: str
    password: str
    given_name: str
    family_name: str
    #: The pupil's class, or for a guardian the classes of their children in this school.
    class_: str | None
    account_id: str

    def as_json(self) -> dict:
        data = asdict(self)
        data["class"] = data.pop("class_")
        data.pop("account_id")
        return data


def notify_school(
    db: Session, uai: str, *, passwords: Passwords, now: datetime
) -> list[IssuedCredential]:
    """Create the school's missing accounts; return their credentials (in clear, once)."""
    if db.get(School, uai) is None:
        raise UnknownSchool(uai)
    usernames = Usernames(db)
    issued: list[IssuedCredential] = []

    pupils = db.execute(
        select(Pupil.id, Pupil.given_name, Pupil.family_name, Pupil.class_name)
        .where(Pupil.school_uai == uai, Pupil.status == PupilStatus.enrolled)
        .where(~exists().where(Account.pupil_id == Pupil.id))
        .order_by(Pupil.class_name, Pupil.family_name, Pupil.given_name)
    ).all()
    for pupil in pupils:
        account, password = _account(db, usernames, passwords, now, AccountKind.pupil, pupil)
        account.pupil_id = pupil.id
        issued.append(_credential(account, password, pupil.class_name))

    rows = db.execute(
        select(Guardian.id, Guardian.given_name, Guardian.family_name, Pupil.class_name)
        .join(Guardianship, Guardianship.guardian_id == Guardian.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.school_uai == uai, Pupil.status == PupilStatus.enrolled)
        .where(Guardianship.legal_guardian_rank.in_((1, 2)))
        .where(~exists().where(AccountGuardian.guardian_id == Guardian.id))
        .order_by(Guardian.family_name, Guardian.given_name, Guardian.id)
    ).all()
    classes: dict[str, set[str]] = {}
    guardians = {}
    for row in rows:
        guardians.setdefault(row.id, row)
        if row.class_name:
            classes.setdefault(row.id, set()).add(row.class_name)
    for guardian_id, guardian in guardians.items():
        account, password = _account(db, usernames, passwords, now, AccountKind.guardian, guardian)
        db.add(AccountGuardian(account=account, guardian_id=guardian_id, linked_at=now))
        names = ", ".join(sorted(classes.get(guardian_id, ())))
        issued.append(_credential(account, password, names or None))
    db.flush()
    return issued


def _account(
    db: Session,
    usernames: Usernames,
    passwords: Passwords,
    now: datetime,
    kind: AccountKind,
    person,
) -> tuple[Account, str]:
    password = Passwords.temporary()
    account = create_account(
        db,
        now,
        NewAccount(
            kind=kind,
            state=AccountState.notified,
            username=usernames.next(username_base(person.given_name, person.family_name)),
            password_hash=passwords.hash(password),
            given_name=person.given_name,
            family_name=person.family_name,
        ),
    )
    return account, password


def _credential(account: Account, password: str, class_name: str | None) -> IssuedCredential:
    return IssuedCredential(
        kind=account.kind.value,
        username=account.username,
        password=password,
        given_name=account.given_name,
        family_name=account.family_name,
        class_=class_name,
        account_id=account.id,
    )
