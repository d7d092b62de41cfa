"""Assistance tickets sent by families through the contact form, and the desk's replies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class TicketStatus(enum.StrEnum):
    new = "new"
    in_progress = "in_progress"
    closed = "closed"


class SupportTicket(Base):
    """A request for help. Kept ``support_ticket_retention_days`` after its last activity, then
    purged by the janitor (the notice at ``/donnees-personnelles`` says so)."""

    __tablename__ = "support_tickets"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    #: Short reference given to the family (``AS-7KQ3-9XPT``).
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[TicketStatus] = mapped_column(
        Enum(TicketStatus, name="ticket_status", native_enum=False, length=20),
        default=TicketStatus.new,
        index=True,
    )
    category: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))
    #: As typed by the family (a UAI or a name); ``school_uai`` when it names a known school.
    school_text: Mapped[str] = mapped_column(String(200))
    school_uai: Mapped[str | None] = mapped_column(String(8), index=True)
    academy: Mapped[str | None] = mapped_column(String(60), index=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]


class TicketReply(Base):
    """A message of the desk on a ticket (sent to the family by e-mail), or an internal note."""

    __tablename__ = "support_ticket_replies"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True
    )
    author_account_id: Mapped[str | None] = mapped_column(String(32))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: False for a note kept for the desk only.
    sent: Mapped[bool]
    created_at: Mapped[datetime]
