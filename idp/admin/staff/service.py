"""Creating staff accounts (``educonnect staff create`` and the "Personnels" page).

A staff account starts ``active`` with a temporary password and ``force_password_change``: the
first login asks for a new password, then enrols the authenticator app (TOTP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.journeys.common import end_sessions
from idp.accounts.login import totp
from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import NewAccount, create_account
from idp.admin.audit import StaffAudit
from idp.admin.roles import Role, Staff
from idp.i18n import _
from idp.registry.identifiers import validate_uai
from idp.registry.models import School
from idp.state import AppState

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class StaffError(ValueError):
    """Invalid request; ``field`` names the form field, the message is French."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class StaffSpec:
    username: str
    given_name: str
    family_name: str
    role: Role
    schools: list[str] = field(default_factory=list)
    academy: str = ""
    email: str | None = None


def _scope(db: Session, spec: StaffSpec) -> tuple[list[str], dict[str, str | None]]:
    if spec.role in (Role.director, Role.delegate):
        if not spec.schools:
            raise StaffError("schools", _("Indiquez au moins une école ou un établissement (UAI)."))
        uais = []
        for raw in spec.schools:
            try:
                uais.append(validate_uai(raw, lenient=True))
            except ValueError as exc:
                raise StaffError("schools", str(exc)) from None
        academies = dict(
            db.execute(select(School.uai, School.academy).where(School.uai.in_(uais))).all()
        )
        unknown = [u for u in uais if u not in academies]
        if unknown:
            message = _("École ou établissement inconnu : %(uais)s.")
            raise StaffError("schools", message % {"uais": ", ".join(unknown)})
        return list(dict.fromkeys(uais)), academies
    if spec.role == Role.academy:
        if not spec.academy.strip():
            raise StaffError("academy", _("Indiquez l'académie."))
        return [spec.academy.strip()], {}
    return [], {}


def create_staff(
    state: AppState, db: Session, spec: StaffSpec, by: Staff | None = None, ip: str | None = None
) -> tuple[Account, str]:
    """Create the account; return it with its temporary password (shown once).
    ``by``: the staff member creating it from the pages (``None``: the command line)."""
    username = spec.username.strip().lower()
    if not USERNAME.match(username):
        raise StaffError(
            "username",
            _(
                "Identifiant invalide : 3 à 64 caractères, lettres minuscules, chiffres, "
                "« . », « _ » ou « - »."
            ),
        )
    if not spec.given_name.strip() or not spec.family_name.strip():
        raise StaffError("name", _("Indiquez le prénom et le nom."))
    if db.scalar(select(Account.id).where(Account.username == username)):
        raise StaffError("username", _("Cet identifiant est déjà utilisé."))
    scope, academies = _scope(db, spec)
    if by is not None and not by.may_create(spec.role, scope, academies):
        raise StaffError("role", _("Vous ne pouvez pas attribuer ce rôle sur ce périmètre."))
    password = state.passwords.temporary()
    new = NewAccount(
        kind=AccountKind.staff,
        state=AccountState.active,
        username=username,
        password_hash=state.passwords.hash(password),
        given_name=spec.given_name.strip(),
        family_name=spec.family_name.strip(),
        email=spec.email,
        force_password_change=True,
        roles=[{"role": spec.role.value, "scope": scope}],
    )
    account = create_account(db, state.clock.now(), new)
    account.password_changed_at = None  # a temporary password is not one the person chose
    db.flush()
    StaffAudit(state, db, by, ip).record(
        "admin.staff.created",
        "account",
        account.id,
        scope[0] if spec.role in (Role.director, Role.delegate) else None,
        after={"username": username, "roles": account.roles},
    )
    return account, password


def staff_in_scope(db: Session, viewer: Staff) -> list[tuple[Account, Staff]]:
    """Staff accounts the viewer may manage: every assignment within what the viewer could give.
    Staff accounts are few (thousands at most): filtered here rather than in JSON SQL."""
    found = []
    rows = db.scalars(
        select(Account)
        .where(Account.kind == AccountKind.staff)
        .order_by(Account.family_name, Account.given_name)
    )
    school_academy = None
    for account in rows:
        other = Staff.of(account)
        if other is None or account.id == viewer.account_id:
            continue
        if school_academy is None:
            school_academy = dict(db.execute(select(School.uai, School.academy)).all())
        if all(viewer.may_create(a.role, list(a.scope), school_academy) for a in other.assignments):
            found.append((account, other))
    return found


def reset_second_factor(
    state: AppState, db: Session, viewer: Staff | None, account: Account, ip: str | None = None
) -> bool:
    """A lost phone: the next login enrols a new authenticator app. Sessions end."""
    done = totp.reset(db, account.id)
    end_sessions(state, db, account.id)
    StaffAudit(state, db, viewer, ip).record("admin.staff.totp_reset", "account", account.id)
    return done
