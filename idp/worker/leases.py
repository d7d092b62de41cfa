"""Row leases for periodic jobs: whichever worker takes a job's lease runs it, the others skip.

One row per job in ``worker_jobs``. ``acquire`` is a single conditional ``UPDATE`` (the lease is
free or expired, and the job's period has passed since it last started), atomic on PostgreSQL
(row lock, re-checked after a concurrent update) and on SQLite (``BEGIN IMMEDIATE``): of two
workers racing, exactly one gets ``rowcount == 1``. The period is counted across all workers,
so the janitor runs every five minutes, not every five minutes per worker. A worker that dies
holding a lease loses it when ``ttl`` runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from idp.db import Base


class JobLease(Base):
    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


def _ensure(db: Session, name: str) -> None:
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.execute(insert(JobLease).values(name=name).on_conflict_do_nothing())


def acquire(
    db: Session, name: str, holder: str, now: datetime, every: timedelta, ttl: timedelta
) -> bool:
    """Take the job's lease if it is free and the job is due; True when this holder runs it."""
    _ensure(db, name)
    taken = db.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            or_(JobLease.lease_until.is_(None), JobLease.lease_until < now),
            or_(JobLease.last_started_at.is_(None), JobLease.last_started_at <= now - every),
        )
        .values(holder=holder, lease_until=now + ttl, last_started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def release(db: Session, name: str, holder: str, now: datetime, error: str | None) -> None:
    db.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(holder=None, lease_until=None, last_finished_at=now, last_error=error)
        .execution_options(synchronize_session=False)
    )
