"""Import runs: read a file (pair), apply it in one transaction, record an ImportRun.

``import_siecle`` and ``import_onde`` are what the CLI, the demo seeder and the benchmark call.
A rejected file writes nothing but a ``rejected`` ImportRun (in its own transaction), so a
director can see why last night's export did not go through.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.db import unit_of_work
from idp.registry.importer import Counts, apply_batch
from idp.registry.models import ImportRun, Source
from idp.registry.onde import OndeReader
from idp.registry.records import KINDS, Batch, ImportRejected, Issue, Progress, empty_counts
from idp.registry.siecle import SiecleReader

#: Issues kept on the ImportRun row; the command prints them all.
STORED_ISSUES = 1000


@dataclass
class ImportResult:
    run_id: str
    status: str  # succeeded | rejected
    source: Source
    files: list[str]
    school_uais: list[str]
    counts: Counts
    issues: list[Issue] = field(default_factory=list)
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def as_json(self) -> dict:
        """The ``--json`` summary: counts per kind, then the issues."""
        summary: dict = {kind: self.counts[kind] for kind in KINDS}
        summary["errors"] = [issue.as_dict() for issue in self.issues]
        summary.update(
            status=self.status,
            import_run=self.run_id,
            source=self.source.value,
            files=self.files,
            schools_uai=self.school_uais,
            duration_ms=self.duration_ms,
        )
        return summary


@dataclass(frozen=True)
class Started:
    """When a run started: the clock's time for the record, a monotonic one for the duration."""

    at: datetime
    perf: float

    @classmethod
    def now(cls, clock: Clock) -> Started:
        return cls(clock.now(), time.perf_counter())


def run_batch(db: Session, batch: Batch, *, clock: Clock, started: Started) -> ImportResult:
    """Apply a read batch and record the run; only flushes (the caller commits)."""
    counts = apply_batch(db, batch, clock.now())
    uais = sorted(batch.schools)
    return _record(
        db, batch.source, batch.files, uais, "succeeded", counts, batch.issues, clock, started
    )


def record_rejection(
    db: Session,
    source: Source,
    files: list[str],
    issues: list[Issue],
    *,
    clock: Clock,
    started: Started,
) -> ImportResult:
    return _record(db, source, files, [], "rejected", empty_counts(), issues, clock, started)


def _record(
    db: Session,
    source: Source,
    files: list[str],
    uais: list[str],
    status: str,
    counts: Counts,
    issues: list[Issue],
    clock: Clock,
    started: Started,
) -> ImportResult:
    duration = int((time.perf_counter() - started.perf) * 1000)
    run = ImportRun(
        source=source,
        files=files,
        school_uai=uais[0] if len(uais) == 1 else None,
        started_at=started.at,
        finished_at=clock.now(),
        status=status,
        counts=counts,
        errors=[issue.as_dict() for issue in issues[:STORED_ISSUES]],
        duration_ms=duration,
    )
    db.add(run)
    db.flush()
    return ImportResult(run.id, status, source, files, uais, counts, issues, duration)


def _import(
    sessions: sessionmaker[Session],
    source: Source,
    files: list[str],
    read: Callable[[], Batch],
    clock: Clock,
) -> ImportResult:
    started = Started.now(clock)
    try:
        batch = read()
    except ImportRejected as rejected:
        with unit_of_work(sessions) as db:
            return record_rejection(
                db, source, files, rejected.issues, clock=clock, started=started
            )
    with unit_of_work(sessions) as db:
        return run_batch(db, batch, clock=clock, started=started)


def import_siecle(
    sessions: sessionmaker[Session],
    eleves: Path,
    responsables: Path,
    *,
    lenient_uai: bool = False,
    school_name: str | None = None,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    clock = clock or Clock()
    reader = SiecleReader(
        eleves,
        responsables,
        lenient_uai=lenient_uai,
        school_name=school_name,
        today=clock.now().date(),
        progress=progress,
    )
    return _import(sessions, Source.siecle, [eleves.name, responsables.name], reader.read, clock)


def import_onde(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    lenient_uai: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    clock = clock or Clock()
    reader = OndeReader(path, lenient_uai=lenient_uai, today=clock.now().date(), progress=progress)
    return _import(sessions, Source.onde, [path.name], reader.read, clock)
