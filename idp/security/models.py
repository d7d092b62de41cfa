"""Audit events and the database-backed stores (throttle counters, SSO sessions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(60), index=True)
    actor_account_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[str | None] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64), index=True)
    school_uai: Mapped[str | None] = mapped_column(String(8), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict | None] = mapped_column(JSON)


class ThrottleCounter(Base):
    """A fixed-window counter; ``hits`` grows atomically with one UPDATE ... RETURNING."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column(index=True)


class SsoSession(Base):
    """An SSO session (database store). The cookie holds a random token; only its hash is kept."""

    __tablename__ = "sso_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    auth_time: Mapped[int] = mapped_column(Integer)
    acr: Mapped[str | None] = mapped_column(String(40))
    amr: Mapped[list[str]] = mapped_column(JSON)
    clients: Mapped[list[str]] = mapped_column(JSON)
    #: Upstream context, e.g. the FranceConnect id_token needed for its logout.
    upstream: Mapped[dict | None] = mapped_column(JSON)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
