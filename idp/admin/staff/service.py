"""Creating staff accounts (``educonnect staff create`` and the "Personnels" page).

A staff account starts ``active`` with a temporary password and ``force_password_change``: the
first login asks for a new password, then enrols the authenticator app (TOTP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.login import totp
from idp.accounts.models import Account, AccountKind, AccountState
from idp.admin.roles import Role, Staff
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
            raise StaffError("schools", "Indiquez au moins une école ou un établissement (UAI).")
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
            raise StaffError(
                "schools", "École ou établissement inconnu : " + ", ".join(unknown) + "."
            )
        return list(dict.fromkeys(uais)), academies
    if spec.role == Role.academy:
        if not spec.academy.strip():
            raise StaffError("academy", "Indiquez l'académie.")
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
            "Identifiant invalide : 3 à 64 caractères, lettres minuscules, chiffres, "
            "« . », « _ » ou « - ».",
        )
    if not spec.given_name.strip() or not spec.family_name.strip():
        raise StaffError("name", "Indiquez le prénom et le nom.")
    if db.scalar(select(Account.id).where(Account.username == username)):
        raise StaffError("username", "Cet identifiant est déjà utilisé.")
    scope, academies = _scope(db, spec)
    if by is not None and not by.may_create(spec.role, scope, academies):
        raise StaffError("role", "Vous ne pouvez pas attribuer ce rôle sur ce périmètre.")
    now = state.clock.now()
    password = state.passwords.temporary()
    account = Account(
        kind=AccountKind.staff,
        username=username,
        password_hash=state.passwords.hash(password),
        state=AccountState.active,
        given_name=spec.given_name.strip(),
        family_name=spec.family_name.strip(),
        email=spec.email,
        force_password_change=True,
        roles=[{"role": spec.role.value, "scope": scope}],
        created_at=now,
        updated_at=now,
        activated_at=now,
    )
    db.add(account)
    db.flush()
    state.audit.record(
        db,
        "admin.staff.created",
        actor_account_id=by.account_id if by else None,
        actor_role=by.role.value if by else "cli",
        target_type="account",
        target_id=account.id,
        school_uai=scope[0] if spec.role in (Role.director, Role.delegate) else None,
        ip=ip,
        detail={"after": {"username": username, "roles": account.roles}},
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
    from idp.accounts.journeys.common import end_sessions

    done = totp.reset(db, account.id)
    end_sessions(state, db, account.id)
    state.audit.record(
        db,
        "admin.staff.totp_reset",
        actor_account_id=viewer.account_id if viewer else None,
        actor_role=viewer.role.value if viewer else "cli",
        target_type="account",
        target_id=account.id,
        ip=ip,
    )
    return done
