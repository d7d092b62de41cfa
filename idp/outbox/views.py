"""What the outbox shows to people: operators (``educonnect outbox``), developers
(``/dev/outbox``) and the assistance desk (a family's messages, never their text)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.outbox.models import Channel, OutboxMessage
from idp.settings import Settings


def latest(
    db: Session,
    limit: int = 20,
    *,
    channels: Iterable[str] | None = None,
    state: str | None = None,
) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
    if channels is not None:
        query = query.where(OutboxMessage.channel.in_(list(channels)))
    if state:
        query = query.where(OutboxMessage.state == state)
    return list(db.scalars(query.limit(limit)))


def dev_channels(settings: Settings) -> set[str]:
    """The channels whose messages go to the development mailbox (never in production)."""
    if settings.env == "production":
        return set()
    found = {Channel.sms.value} if settings.sms_backend == "outbox" else set()
    return found | ({Channel.email.value} if settings.mail_backend == "outbox" else set())


def as_json(message: OutboxMessage, *, with_body: bool) -> dict:
    """One message for ``educonnect outbox --json`` (DESIGN.md §5). The body (codes, links)
    only for the development mailbox: operators see what happened, not what it said."""
    return {
        "id": message.id,
        "channel": message.channel,
        "to": message.recipient,
        "subject": message.subject,
        "template": message.template,
        "state": message.state,
        "attempts": message.attempts,
        # A worker holds it now (or died holding it: then it is retried when the lease ends).
        "in_flight": message.lease is not None,
        "last_error": message.last_error,
        "next_attempt_at": message.next_attempt_at.isoformat()
        if message.state == "pending"
        else None,
        "sent_via": message.sent_via,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "created_at": message.created_at.isoformat(),
        "body": message.body if with_body else None,
    }


def counts(db: Session) -> dict[str, int]:
    """How many messages are in each state."""
    rows = db.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
    return {state: n for state, n in rows}


@dataclass(frozen=True)
class Delivery:
    """A message as the assistance desk sees it: what, where, how it went — not its text."""

    channel: str
    recipient: str
    template: str | None
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def for_addresses(db: Session, addresses: Iterable[str | None], limit: int = 20) -> list[Delivery]:
    """The latest SMS and e-mails sent to any of a family's numbers and addresses."""
    given = [a for a in addresses if a]
    # As stored and in lower case, so the recipient index serves the lookup.
    wanted = sorted(set(given) | {a.lower() for a in given})
    if not wanted:
        return []
    rows = db.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.recipient.in_(wanted),
            OutboxMessage.channel.in_([Channel.sms.value, Channel.email.value]),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
        .limit(limit)
    )
    return [
        Delivery(
            channel=m.channel,
            recipient=m.recipient,
            template=m.template,
            state=m.state,
            attempts=m.attempts,
            last_error=m.last_error,
            created_at=m.created_at,
            sent_at=m.sent_at,
        )
        for m in rows
    ]
