"""The audit fields every staff action carries: who acted, in which role, from where."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp.admin.roles import Staff
from idp.state import AppState


class StaffAudit:
    """Records events by ``staff`` (``None``: the command line) in the caller's transaction."""

    def __init__(self, state: AppState, db: Session, staff: Staff | None, ip: str | None) -> None:
        self.state, self.db, self.staff, self.ip = state, db, staff, ip

    def record(
        self,
        event: str,
        target_type: str,
        target_id: str | None,
        school_uai: str | None = None,
        **detail,
    ) -> None:
        self.state.audit.record(
            self.db,
            event,
            actor_account_id=self.staff.account_id if self.staff else None,
            actor_role=self.staff.role.value if self.staff else "cli",
            target_type=target_type,
            target_id=target_id,
            school_uai=school_uai,
            ip=self.ip,
            detail=detail or None,
        )
