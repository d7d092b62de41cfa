"""Rows behind the account journeys: one-time codes, e-mailed links, wrong-link reports."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class OtpChallenge(Base):
    """A one-time code sent by SMS or e-mail (see ``idp.accounts.journeys.otp``). Only an HMAC
    of the code is kept; ``attempts`` grows atomically, ``consumed_at`` is set once."""

    __tablename__ = "otp_challenges"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(30))
    #: What the code proves control of, e.g. ``+33612345678`` or ``account:<id>``.
    subject: Mapped[str] = mapped_column(String(200), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    consumed_at: Mapped[datetime | None]


class EmailLink(Base):
    """A single-use link sent by e-mail (address confirmation, password reset). The URL holds a
    random token; only its SHA-256 is stored. ``payload`` carries what completes on use."""

    __tablename__ = "email_links"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LinkReportStatus(enum.StrEnum):
    open = "open"  # waiting for the school
    confirmed = "confirmed"  # the school removed the wrong link
    dismissed = "dismissed"  # the school checked: the link is right


class LinkReport(Base):
    """ "Je ne suis pas le représentant légal de cet élève": a wrong guardian ↔ pupil link
    reported during activation, for the school's director to check in the registry source."""

    __tablename__ = "link_reports"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardians.id"), index=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_uai: Mapped[str] = mapped_column(String(8), index=True)
    created_at: Mapped[datetime]
    status: Mapped[LinkReportStatus] = mapped_column(
        Enum(LinkReportStatus, name="link_report_status", native_enum=False, length=20),
        default=LinkReportStatus.open,
    )
    resolved_at: Mapped[datetime | None]
