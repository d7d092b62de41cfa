"""Enqueue, claim and settle outbox messages.

``enqueue`` only adds a row to the caller's transaction. ``claim`` takes one due message in a
short transaction of its own and leases it: on PostgreSQL the due row is picked with
``FOR UPDATE SKIP LOCKED`` (concurrent workers pick different rows without waiting); on SQLite
the same conditional ``UPDATE … RETURNING`` runs under ``BEGIN IMMEDIATE``, which holds the
database's single write lock, so it is atomic across processes too. ``settle`` records the
outcome only if the lease is still the caller's: a worker whose lease ran out (it was presumed
dead and the message reclaimed) cannot overwrite the newer attempt's result.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.db import transaction
from idp.outbox.models import Channel, Delivery, OutboxMessage

#: How long a claim lasts; longer than any gateway's timeout, so a live worker never loses it.
LEASE = timedelta(seconds=60)
#: Attempts before a message is failed for good (about an hour of retries in all).
MAX_ATTEMPTS = 8
#: First retry after 30 s, then doubling: 30 s, 1 min, 2 min … capped at an hour.
BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0


def backoff(attempts: int) -> timedelta:
    """The pause after the ``attempts``-th failed attempt."""
    return timedelta(seconds=min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP))


def enqueue(
    db: Session,
    now: datetime,
    channel: Channel,
    recipient: str,
    *,
    body: str | None = None,
    subject: str | None = None,
    template: str | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Add a message to ``db``'s transaction: it exists exactly when the transaction commits."""
    message = OutboxMessage(
        channel=channel.value,
        recipient=recipient,
        subject=subject,
        body=body,
        template=template,
        payload=payload,
        state=Delivery.pending.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.add(message)
    db.flush()
    return message


@dataclass(frozen=True)
class Claim:
    """A leased message, detached from any session: the delivery runs with no connection."""

    id: str
    lease: str
    channel: str
    recipient: str
    subject: str | None
    body: str | None
    template: str | None
    payload: dict[str, Any] | None
    attempts: int  # including this one


def claim(sessions: sessionmaker[Session], clock: Clock) -> Claim | None:
    """Lease the oldest due message (counting the attempt now, so a crash still counts)."""
    now = clock.now()
    lease = secrets.token_hex(16)
    with transaction(sessions) as db:
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == Delivery.pending.value,
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == due, OutboxMessage.state == Delivery.pending.value)
            .values(
                lease=lease,
                next_attempt_at=now + LEASE,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(
                OutboxMessage.id,
                OutboxMessage.channel,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.template,
                OutboxMessage.payload,
                OutboxMessage.attempts,
            )
            .execution_options(synchronize_session=False)
        ).one_or_none()
    if row is None:
        return None
    return Claim(
        id=row.id,
        lease=lease,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        template=row.template,
        payload=row.payload,
        attempts=row.attempts,
    )


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: ``error`` is None when the message was handed over."""

    error: str | None = None
    permanent: bool = False  # the receiver refused this message: retrying will not help
    via: str | None = None
    keep_body: bool = False  # the development mailbox is where people read it


def settle(db: Session, clock: Clock, claim: Claim, outcome: Outcome) -> str | None:
    """Record the attempt; return the message's new state (None if the lease was lost)."""
    now = clock.now()
    values: dict[str, Any] = {"lease": None}
    if outcome.error is None:
        values.update(state=Delivery.sent.value, sent_at=now, sent_via=outcome.via)
        values.update(last_error=None, next_attempt_at=now)
    elif outcome.permanent or claim.attempts >= MAX_ATTEMPTS:
        reason = outcome.error if outcome.permanent else f"gave up: {outcome.error}"
        values.update(state=Delivery.failed.value, last_error=reason[:500], next_attempt_at=now)
    else:
        values.update(last_error=outcome.error[:500], next_attempt_at=now + backoff(claim.attempts))
    if values.get("state") and not outcome.keep_body:
        values["body"] = None
    done = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == claim.id, OutboxMessage.lease == claim.lease)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return values.get("state", Delivery.pending.value) if done else None
