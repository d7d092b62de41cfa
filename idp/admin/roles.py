"""Staff roles, what each may do, and over which schools.

A staff account carries role assignments (``Account.roles``)::

    [{"role": "director", "scope": ["0750001A", "0750002B"]},   # school UAIs
     {"role": "delegate", "scope": ["0750001A"]},               # pupils of these schools only
     {"role": "academy", "scope": ["Dijon"]},                   # every school of the académie
     {"role": "national", "scope": []}]                         # every school

Every query for people goes through ``Staff.schools_condition(action, …)`` and every action on
one person through ``Staff.allows(action, …)``: there is no other way to reach a person, so a
director never sees or touches another school's people (the endpoints then answer 404).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, select, true

from idp.accounts.models import Account, AccountKind
from idp.i18n import _
from idp.registry.models import School


class Role(enum.StrEnum):
    director = "director"
    delegate = "delegate"
    academy = "academy"
    national = "national"


class Action(enum.StrEnum):
    read = "read"  # search people, see an account and its history, statistics
    reveal = "reveal"  # show an identifier to help a family
    notify = "notify"  # issue or re-issue credentials, print letters
    reset = "reset"  # new temporary password
    unlock = "unlock"
    disable = "disable"  # disable and enable
    reports = "reports"  # "not my child" reports
    tickets = "tickets"  # the assistance desk
    audit = "audit"  # the audit log of the scope
    staff = "staff"  # create staff accounts below one's own role


#: French names, for pages and letters.
ROLE_LABELS = {
    Role.director: _("Directeur ou chef d'établissement"),
    Role.delegate: _("Délégué (comptes élèves)"),
    Role.academy: _("Assistance académique"),
    Role.national: _("Administrateur national"),
}

_ALL = frozenset(Action)
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.director: frozenset(
        {Action.read, Action.reveal, Action.notify, Action.reset, Action.unlock, Action.disable}
        | {Action.reports, Action.staff}
    ),
    Role.delegate: frozenset(
        {Action.read, Action.reveal, Action.notify, Action.reset, Action.unlock}
    ),
    # Assistance helps families (identifier, unlock) and reads; acting on accounts stays
    # with the schools, which know the families.
    Role.academy: frozenset(
        {Action.read, Action.reveal, Action.unlock, Action.tickets, Action.audit, Action.staff}
    ),
    Role.national: _ALL - {Action.notify, Action.reset, Action.disable, Action.reports},
}

#: Which roles a role may hand out (``educonnect staff create`` has no such limit).
CREATABLE: dict[Role, tuple[Role, ...]] = {
    Role.director: (Role.delegate,),
    Role.delegate: (),
    Role.academy: (Role.director, Role.delegate),
    Role.national: (Role.director, Role.delegate, Role.academy, Role.national),
}


@dataclass(frozen=True)
class Assignment:
    role: Role
    scope: tuple[str, ...] = ()

    @property
    def kinds(self) -> frozenset[AccountKind]:
        """Which people the assignment covers (delegates: pupils only)."""
        if self.role == Role.delegate:
            return frozenset({AccountKind.pupil})
        return frozenset({AccountKind.pupil, AccountKind.guardian})

    def covers_school(self, uai: str, academy: str | None) -> bool:
        if self.role == Role.national:
            return True
        if self.role == Role.academy:
            return academy is not None and academy in self.scope
        return uai in self.scope

    def school_condition(self, uai_column) -> ColumnElement[bool]:
        if self.role == Role.national:
            return true()
        if self.role == Role.academy:
            return uai_column.in_(select(School.uai).where(School.academy.in_(self.scope)))
        return uai_column.in_(self.scope)


def parse_assignments(raw: list[dict] | None) -> list[Assignment]:
    found = []
    for item in raw or []:
        try:
            role = Role(item.get("role"))
        except ValueError:
            continue  # an unknown role grants nothing
        found.append(Assignment(role, tuple(str(s) for s in item.get("scope") or ())))
    return found


@dataclass
class Staff:
    """The signed-in staff member, as every admin page and API call sees them."""

    account_id: str
    username: str
    name: str
    assignments: list[Assignment] = field(default_factory=list)

    @classmethod
    def of(cls, account: Account) -> Staff | None:
        if account.kind != AccountKind.staff:
            return None
        assignments = parse_assignments(account.roles)
        if not assignments:
            return None
        name = f"{account.given_name} {account.family_name}".strip()
        return cls(account.id, account.username, name, assignments)

    @property
    def roles(self) -> list[Role]:
        return list(dict.fromkeys(a.role for a in self.assignments))

    @property
    def role(self) -> Role:
        """The widest role, recorded as ``actor_role`` in the audit log."""
        order = [Role.national, Role.academy, Role.director, Role.delegate]
        return next(r for r in order if r in self.roles)

    def can(self, action: Action) -> bool:
        return any(action in PERMISSIONS[a.role] for a in self.assignments)

    def _granting(self, action: Action, kind: AccountKind | None = None) -> list[Assignment]:
        return [
            a
            for a in self.assignments
            if action in PERMISSIONS[a.role] and (kind is None or kind in a.kinds)
        ]

    def allows_kind(self, action: Action, kind: AccountKind) -> bool:
        """Whether ``action`` is allowed on some people of this kind (delegates: pupils only)."""
        return bool(self._granting(action, kind))

    def allows(
        self, action: Action, uai: str, academy: str | None, kind: AccountKind | None = None
    ) -> bool:
        return any(a.covers_school(uai, academy) for a in self._granting(action, kind))

    def schools_condition(
        self, action: Action, uai_column, kind: AccountKind | None = None
    ) -> ColumnElement[bool]:
        """A SQL condition on ``uai_column``: the schools where ``action`` is allowed."""
        conditions = [a.school_condition(uai_column) for a in self._granting(action, kind)]
        return or_(*conditions) if conditions else false()

    def may_create(self, role: Role, scope: list[str], academies: dict[str, str | None]) -> bool:
        """Whether this person may give ``role`` over ``scope`` (``academies``: UAI → académie)."""
        for assignment in self.assignments:
            if role not in CREATABLE[assignment.role]:
                continue
            if role in (Role.academy, Role.national):
                if assignment.role == Role.national:
                    return True
                continue
            if all(
                uai in academies and assignment.covers_school(uai, academies[uai]) for uai in scope
            ):
                return True
        return False
