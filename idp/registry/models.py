"""Registry rows: imported from ONDE/SIECLE, never edited by users. Separate from accounts."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.db import ID, Base, new_id


class Source(enum.StrEnum):
    onde = "onde"
    siecle = "siecle"


class PupilStatus(enum.StrEnum):
    enrolled = "enrolled"
    departed = "departed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class School(Base):
    __tablename__ = "schools"

    uai: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: 1 (primary: ONDE) or 2 (secondary: SIECLE).
    degree: Mapped[int] = mapped_column(SmallInteger)
    academy: Mapped[str | None] = mapped_column(String(60), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Pupil(Base):
    __tablename__ = "pupils"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_pupils_source"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    ine: Mapped[str | None] = mapped_column(String(11), index=True)
    family_name: Mapped[str] = mapped_column(String(200))
    given_name: Mapped[str] = mapped_column(String(200))
    birthdate: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    school_uai: Mapped[str] = mapped_column(ForeignKey("schools.uai"), index=True)
    level: Mapped[str | None] = mapped_column(String(40))
    #: SIECLE ``CODE_MEF`` (module élémentaire de formation), kept as exported.
    mef_code: Mapped[str | None] = mapped_column(String(11))
    class_name: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[PupilStatus] = mapped_column(_enum(PupilStatus, "pupil_status"))
    source: Mapped[Source] = mapped_column(_enum(Source, "registry_source"))
    source_id: Mapped[str] = mapped_column(String(64))
    departed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    school: Mapped[School] = relationship(lazy="joined")


class Guardian(Base):
    __tablename__ = "guardians"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_guardians_source"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    civility: Mapped[str | None] = mapped_column(String(10))
    family_name: Mapped[str] = mapped_column(String(200))
    given_name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    address: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[Source] = mapped_column(_enum(Source, "registry_source"))
    source_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Guardianship(Base):
    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("guardian_id", "pupil_id", name="uq_guardianships_pair"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardians.id"), index=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), index=True)
    #: SIECLE ``CODE_PARENTE`` / ONDE link code (e.g. 10 mother, 20 father).
    relationship_code: Mapped[str | None] = mapped_column(String(10))
    #: 1 or 2 for legal guardians, ``None`` for a contact who is not a legal guardian.
    legal_guardian_rank: Mapped[int | None] = mapped_column(SmallInteger)
    financial: Mapped[bool] = mapped_column(Boolean, default=False)
    contact: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    pupil: Mapped[Pupil] = relationship(lazy="joined")


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    source: Mapped[Source] = mapped_column(_enum(Source, "registry_source"))
    files: Mapped[list[str]] = mapped_column(JSON)
    school_uai: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))  # succeeded | rejected
    counts: Mapped[dict] = mapped_column(JSON)
    errors: Mapped[list[dict]] = mapped_column(JSON)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
