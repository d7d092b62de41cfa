"""What staff do to one person's account, or to a school: the services behind the pages and
the API. Each one checks the scope first (``NotFound`` outside it), changes the account in the
caller's transaction and writes an audit event with what was before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from idp.accounts.journeys.common import end_sessions
from idp.accounts.login import authentication
from idp.accounts.models import Account, AccountKind, AccountState
from idp.admin.audit import StaffAudit
from idp.admin.people import records as people
from idp.admin.roles import Action, Staff
from idp.admin.schools import issuing
from idp.admin.schools.issuing import Issued, IssueError
from idp.i18n import _
from idp.registry.models import Guardian, Pupil, PupilStatus, School
from idp.state import AppState


class NotFound(HTTPException):
    """Unknown, or outside the staff member's schools: both answer 404 (pages and API)."""

    def __init__(self) -> None:
        super().__init__(404)


class ActionError(ValueError):
    """The action does not apply to this account; a French sentence for the person."""


@dataclass
class Target:
    kind: AccountKind
    person: Pupil | Guardian
    school: School
    account: Account | None

    @property
    def person_id(self) -> str:
        return self.person.id


def target(db: Session, staff: Staff, kind: AccountKind, person_id: str, action: Action) -> Target:
    if kind == AccountKind.pupil:
        pupil = people.pupil_in_scope(db, staff, person_id, action)
        if pupil is None:
            raise NotFound
        return Target(
            kind, pupil, db.get(School, pupil.school_uai), people.pupil_account(db, pupil.id)
        )
    guardian = people.guardian_in_scope(db, staff, person_id, action)
    if guardian is None:
        raise NotFound
    child = people.children_of(db, staff, [guardian.id], action)[guardian.id][0]
    return Target(
        kind, guardian, db.get(School, child.school_uai), people.guardian_account(db, guardian.id)
    )


#: A service on one person: ``(state, db, staff, target, ip) → result``.
Service = Callable[[AppState, Session, Staff, Target, str | None], Any]


def act(
    state: AppState,
    db: Session,
    staff: Staff,
    kind: AccountKind,
    person_id: str,
    action: Action,
    service: Service,
    ip: str | None,
) -> tuple[Target, Any]:
    """Find the person (in scope for ``action``) and apply ``service`` (pages and API).

    The service runs in a savepoint: when it refuses (``ActionError``) nothing it did stays,
    and the caller may still answer from the same transaction."""
    t = target(db, staff, kind, person_id, action)
    with db.begin_nested():
        return t, service(state, db, staff, t, ip)


class Audit(StaffAudit):
    def __call__(self, event: str, t: Target, **detail) -> None:
        """An event about one person: their account, or the person while they have none."""
        if t.account is not None:
            person = f"{t.kind.value}:{t.person_id}"
            self.record(event, "account", t.account.id, t.school.uai, person=person, **detail)
        else:
            self.record(event, t.kind.value, t.person_id, t.school.uai, **detail)


def _snapshot(account: Account | None) -> dict | None:
    if account is None:
        return None
    return {
        "state": account.state.value,
        "locked_until": account.locked_until.isoformat() if account.locked_until else None,
        "notification_expires_at": account.notification_expires_at.isoformat()
        if account.notification_expires_at
        else None,
        "force_password_change": account.force_password_change,
    }


def _cut_access(state: AppState, db: Session, account: Account, reason: str) -> None:
    """Tokens revoked and sessions ended: after a reset or a disabling nobody stays signed in."""
    state.tokens.revoke_account(db, account.id, reason)
    end_sessions(state, db, account.id)


# -- one person ------------------------------------------------------------------------------
def notify(state: AppState, db: Session, staff: Staff, t: Target, ip: str | None) -> Issued:
    audit = Audit(state, db, staff, ip)
    try:
        if t.account is None:
            issuing.lock_school(db, t.school.uai)
            if t.kind == AccountKind.pupil:
                issued = issuing.issue_pupil(state, db, t.school, t.person)  # type: ignore[arg-type]
            else:
                issued = issuing.issue_guardian(state, db, t.school, t.person)  # type: ignore[arg-type]
            t.account = db.get(Account, issued.account_id)
            audit("admin.account.notified", t, before=None, after=_snapshot(t.account))
            return issued
        before = _snapshot(t.account)
        issued = issuing.reissue(state, db, t.school, t.account, t.person_id)
    except IssueError as exc:
        raise ActionError(str(exc)) from exc
    audit("admin.account.renotified", t, before=before, after=_snapshot(t.account))
    return issued


def reset_password(state: AppState, db: Session, staff: Staff, t: Target, ip: str | None) -> Issued:
    account = _account(t)
    before = _snapshot(account)
    try:
        issued = issuing.reset_password(state, db, t.school, account, t.person_id)
    except IssueError as exc:
        raise ActionError(str(exc)) from exc
    authentication.unlock(state, db, account.username)
    _cut_access(state, db, account, "password_reset")
    Audit(state, db, staff, ip)("admin.password.reset", t, before=before, after=_snapshot(account))
    return issued


def unlock(state: AppState, db: Session, staff: Staff, t: Target, ip: str | None) -> None:
    account = _account(t)
    before = _snapshot(account)
    if account.state == AccountState.locked:
        account.state = AccountState.active
    account.locked_until = None
    account.failed_logins = 0
    account.updated_at = state.clock.now()
    authentication.unlock(state, db, account.username)
    Audit(state, db, staff, ip)(
        "admin.account.unlocked", t, before=before, after=_snapshot(account)
    )


def disable(state: AppState, db: Session, staff: Staff, t: Target, ip: str | None) -> None:
    account = _account(t)
    if account.state == AccountState.disabled:
        raise ActionError(_("Ce compte est déjà désactivé."))
    before = _snapshot(account)
    account.state = AccountState.disabled
    account.updated_at = state.clock.now()
    _cut_access(state, db, account, "account_disabled")
    Audit(state, db, staff, ip)(
        "admin.account.disabled", t, before=before, after=_snapshot(account)
    )


def enable(state: AppState, db: Session, staff: Staff, t: Target, ip: str | None) -> None:
    account = _account(t)
    if account.state != AccountState.disabled:
        raise ActionError(_("Ce compte n'est pas désactivé."))
    before = _snapshot(account)
    now = state.clock.now()
    if account.activated_at is not None:
        account.state = AccountState.active
    elif account.notification_expires_at and account.notification_expires_at > now:
        account.state = AccountState.notified
    else:
        account.state = AccountState.expired
    account.updated_at = now
    Audit(state, db, staff, ip)("admin.account.enabled", t, before=before, after=_snapshot(account))


def reveal(state: AppState, db: Session, staff: Staff, t: Target, ip: str | None) -> str:
    """The identifier, to read out to a family on the phone (recorded: it is personal data)."""
    account = _account(t)
    Audit(state, db, staff, ip)("admin.identifier.shown", t)
    return account.username


def _account(t: Target) -> Account:
    if t.account is None:
        raise ActionError(_("Cette personne n'a pas encore de compte : notifiez-la d'abord."))
    return t.account


# -- a school --------------------------------------------------------------------------------
def notify_school(
    state: AppState, db: Session, staff: Staff, uai: str, class_name: str | None, ip: str | None
) -> list[Issued]:
    """Everyone of the school (or class) without an account; all or nothing."""
    school = db.get(School, uai)
    if school is None or not staff.allows(Action.notify, school.uai, school.academy):
        raise NotFound
    if class_name and not db.scalar(
        select(Pupil.id)
        .where(
            Pupil.school_uai == uai,
            Pupil.class_name == class_name,
            Pupil.status == PupilStatus.enrolled,
        )
        .limit(1)
    ):
        raise ActionError(_("Cette classe n'existe pas dans l'école."))
    school = issuing.lock_school(db, uai)
    pupils, guardians = issuing.school_without_accounts(db, school, class_name)
    if not staff.allows(Action.notify, uai, school.academy, AccountKind.guardian):
        guardians = []  # delegates issue pupil accounts only
    audit = Audit(state, db, staff, ip)
    issued = [issuing.issue_pupil(state, db, school, p) for p in pupils]
    issued += [issuing.issue_guardian(state, db, school, g) for g in guardians]
    for item in issued:
        person = f"{item.kind.value}:{item.person_id}"
        after = {"state": "notified"}
        audit.record(
            "admin.account.notified",
            "account",
            item.account_id,
            uai,
            person=person,
            before=None,
            after=after,
        )
    audit.record(
        "admin.school.notified",
        "school",
        uai,
        uai,
        class_name=class_name,
        pupils=len(pupils),
        guardians=len(guardians),
    )
    return issued
