"""One emitter for lifecycle and security events: it feeds the audit trail and the log.

Events are written in the caller's unit of work, so an action and its audit entry commit (or
roll back) together. Events that must survive a failed request (a refused login) are written
with ``record_now`` in their own transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.db import unit_of_work
from idp.observability import metrics
from idp.security.models import AuditEvent

log = logging.getLogger("educonnect.audit")


class Audit:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def _event(self, event: str, fields: dict[str, Any]) -> AuditEvent:
        detail = fields.pop("detail", None)
        metrics.audit_event(event)
        log.info("%s %s", event, {k: v for k, v in fields.items() if v is not None})
        return AuditEvent(event=event, at=self._clock.now(), detail=detail, **fields)

    def record(self, db: Session, event: str, **fields: Any) -> None:
        """Record within the caller's transaction."""
        db.add(self._event(event, fields))

    def record_now(self, event: str, **fields: Any) -> None:
        """Record in a transaction of its own (kept even if the request fails)."""
        with unit_of_work(self._sessions) as db:
            db.add(self._event(event, fields))
