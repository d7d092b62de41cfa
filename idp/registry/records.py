"""Normalised import records: what the ONDE and SIECLE readers produce and the importer applies.

Readers turn a file into a :class:`Batch` (schools, pupils, guardians, links, and the issues
found on the way) or raise :class:`ImportRejected` when the file as a whole cannot be trusted.
The importer never sees a file format, only these records.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from idp.registry.models import Source

#: Called with the number of bytes just read (drives a progress bar).
Progress = Callable[[int], None]

KINDS = ("schools", "pupils", "guardians", "links")
COUNTS = ("created", "updated", "unchanged", "departed", "removed", "rejected")


class Level(enum.StrEnum):
    """How much of the input an issue discards."""

    file = "file"  # the whole file is rejected, nothing is written
    row = "row"  # one record (pupil, guardian or link) is left out
    value = "value"  # one value is dropped, the record is kept without it


@dataclass(frozen=True, slots=True)
class Issue:
    level: Level
    file: str
    line: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict:
        return {
            "level": self.level.value,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f" [{self.field}]" if self.field else ""
        return f"{where}:{what} {self.message}"


class ImportRejected(Exception):
    """The file cannot be trusted: nothing of it is applied."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(issue) for issue in issues))
        self.issues = issues


@dataclass(slots=True)
class SchoolIn:
    uai: str
    degree: int
    name: str | None = None


@dataclass(slots=True)
class PupilIn:
    source_id: str
    school_uai: str
    family_name: str
    given_name: str
    birthdate: date
    ine: str | None = None
    sex: str | None = None
    level: str | None = None
    mef_code: str | None = None
    class_name: str | None = None
    departed: bool = False


@dataclass(slots=True)
class GuardianIn:
    source_id: str
    family_name: str
    given_name: str
    civility: str | None = None
    mobile: str | None = None
    email: str | None = None
    address: dict | None = None


@dataclass(slots=True)
class LinkIn:
    pupil_source_id: str
    guardian_source_id: str
    relationship_code: str | None = None
    legal_guardian_rank: int | None = None
    financial: bool = False
    contact: bool = False


@dataclass
class Batch:
    """Everything one import applies. A school listed here is *fully* exported: its pupils
    missing from ``pupils`` (and from ``rejected_pupils``) depart."""

    source: Source
    files: list[str]
    schools: dict[str, SchoolIn] = field(default_factory=dict)
    pupils: dict[str, PupilIn] = field(default_factory=dict)
    guardians: dict[str, GuardianIn] = field(default_factory=dict)
    links: dict[tuple[str, str], LinkIn] = field(default_factory=dict)
    #: Pupils present in the file whose row was rejected: neither updated nor departed.
    rejected_pupils: set[str] = field(default_factory=set)
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    issues: list[Issue] = field(default_factory=list)

    def reject(self, kind: str, issue: Issue) -> None:
        self.rejected[kind] += 1
        self.issues.append(issue)


def empty_counts() -> dict[str, dict[str, int]]:
    return {kind: dict.fromkeys(COUNTS, 0) for kind in KINDS}
