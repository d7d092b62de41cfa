"""The development outbox: messages stored instead of sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: The message template (``otp``, ``activation_email``...), so developers and tests can
    #: find a message by what it is rather than by parsing its text.
    template: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(index=True)
