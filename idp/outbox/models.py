"""One row per external effect, from the transaction that caused it to its delivery.

A row is ``pending`` until a worker hands it over (``sent``) or gives up (``failed``, with the
reason in ``last_error``). While a worker delivers it, ``lease`` names that claim and
``next_attempt_at`` is the lease's end: a worker killed mid-delivery leaves a row that simply
falls due again. ``id`` is the stable message id every attempt carries (e-mail ``Message-ID``,
the SMS provider's ``id`` / ``Idempotency-Key``, the back-channel ``Idempotency-Key``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class Channel(enum.StrEnum):
    sms = "sms"
    email = "email"
    backchannel = "backchannel"


class Delivery(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(12))
    #: A mobile number (E.164), an e-mail address or a back-channel logout URI.
    recipient: Mapped[str] = mapped_column(String(500), index=True)
    #: The e-mail's subject; for a back-channel logout, the client it goes to.
    subject: Mapped[str | None] = mapped_column(String(300))
    #: The rendered text; erased once a real gateway took it or it failed for good (codes and
    #: links must not stay readable). Kept when "delivered" to the development mailbox.
    body: Mapped[str | None] = mapped_column(Text)
    #: What the message is (``otp``, ``activation_email``, ``backchannel_logout``...), so people
    #: and tests find a message by what it is rather than by parsing its text.
    template: Mapped[str | None] = mapped_column(String(60))
    #: What a sender needs beyond the text (back-channel: client, subject, sid, algorithm).
    payload: Mapped[dict | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default=Delivery.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: Where a sent message went: ``smtp``, ``http``, ``dev-outbox``, ``backchannel``.
    sent_via: Mapped[str | None] = mapped_column(String(20))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
