"""One emitter for lifecycle and security events: it feeds the audit trail and the log.

Events are written in the caller's transaction, so an action and its audit entry commit (or
roll back) together. A refused attempt (a wrong password, a wrong code) is an answer, not an
error: its handler returns a page, so its transaction, and the event, commit.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.security.models import AuditEvent

log = logging.getLogger("educonnect.audit")


class Audit:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def record(self, db: Session, event: str, **fields: Any) -> None:
        """Record within the caller's transaction."""
        detail = fields.pop("detail", None)
        log.info("%s %s", event, {k: v for k, v in fields.items() if v is not None})
        db.add(AuditEvent(event=event, at=self._clock.now(), detail=detail, **fields))
