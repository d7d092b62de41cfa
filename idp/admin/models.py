"""Administration rows: the staff second factor (RFC 6238) and letters waiting to be printed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class StaffTotp(Base):
    """The authenticator-app secret of a staff account, encrypted at rest (AES-GCM).

    ``confirmed_at`` is set once a first code proved the app holds the secret; until then the
    enrolment can be restarted. ``last_step`` is the highest time step accepted, so a code
    cannot be used twice (RFC 6238 §5.2).
    """

    __tablename__ = "staff_totp"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[datetime | None]


class LetterBatch(Base):
    """Credentials just issued, kept sealed for a short while so the letters (PDF, CSV) can be
    downloaded after the page that announced them. Only the staff member who issued them may
    download them; the janitor deletes the batch once ``expires_at`` has passed."""

    __tablename__ = "letter_batches"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    school_uai: Mapped[str] = mapped_column(String(8))
    count: Mapped[int] = mapped_column(Integer)
    #: The letters as JSON, compressed and sealed (AES-GCM, bound to the batch id).
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class StatsSnapshot(Base):
    """Activation statistics of every school, computed by GROUP BY queries every few minutes
    (``idp.admin.stats.snapshot``), so that an académie's dashboard reads a few thousand rows
    instead of joining hundreds of thousands of people on each view.

    ``metric`` is ``state`` (key: account state), ``route`` (active accounts; key: activation
    route) or ``week`` (activations; key: the Monday of the week, ``YYYY-MM-DD``)."""

    __tablename__ = "admin_stats_snapshot"

    school_uai: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    metric: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime]
