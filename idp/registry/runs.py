"""Import runs: read a file (pair), apply it in one transaction, record an ImportRun.

``import_siecle`` and ``import_onde`` are what the CLI, the demo seeder and the benchmark call.
A rejected file writes nothing but a ``rejected`` ImportRun (in its own transaction), so a
director can see why last night's export did not go through.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.db import transaction
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


def run_job(sessions: sessionmaker[Session], job: ImportJob, *, clock: Clock) -> ImportResult:
    """Read, then apply in one transaction (or record the rejection)."""
    started = Started.now(clock)
    try:
        batch = job.read()
    except ImportRejected as rejected:
        with transaction(sessions) as db:
            return record_rejection(
                db, job.source, job.files, rejected.issues, clock=clock, started=started
            )
    with transaction(sessions) as db, _large_cache(db):
        return run_batch(db, batch, clock=clock, started=started)


@contextmanager
def _large_cache(db: Session) -> Iterator[None]:
    """On SQLite, a 64 MiB page cache while an import writes (the default 2 MiB makes index
    inserts at random places — UUID keys — read pages again and again)."""
    if db.get_bind().dialect.name != "sqlite":
        yield
        return
    db.execute(text("PRAGMA cache_size = -65536"))
    yield
    db.execute(text("PRAGMA cache_size = -2000"))


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
    job = ImportJob.siecle(
        eleves,
        responsables,
        lenient_uai=lenient_uai,
        school_name=school_name,
        today=clock.now().date(),
        progress=progress,
    )
    return run_job(sessions, job, clock=clock)


def import_onde(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    lenient_uai: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    clock = clock or Clock()
    job = ImportJob.onde(path, lenient_uai=lenient_uai, today=clock.now().date(), progress=progress)
    return run_job(sessions, job, clock=clock)


@dataclass(frozen=True)
class ImportJob:
    """One file (pair) to import: what ``import_many`` reads in its worker process."""

    source: Source
    files: list[str]
    read: Callable[[], Batch]  # picklable: a reader's bound ``read`` without progress callback

    @classmethod
    def siecle(cls, eleves: Path, responsables: Path, **options) -> ImportJob:
        reader = SiecleReader(eleves, responsables, **options)
        return cls(Source.siecle, [eleves.name, responsables.name], reader.read)

    @classmethod
    def onde(cls, path: Path, **options) -> ImportJob:
        return cls(Source.onde, [path.name], OndeReader(path, **options).read)


def _read_in_worker(read: Callable[[], Batch]) -> tuple[Batch | None, list[Issue]]:
    """Runs in the worker process; the exception itself would not survive pickling."""
    try:
        return read(), []
    except ImportRejected as rejected:
        return None, rejected.issues


def import_many(
    sessions: sessionmaker[Session], jobs: Iterable[ImportJob], *, clock: Clock | None = None
) -> Iterator[ImportResult]:
    """Import many files (an academy's nightly exports), in order, one transaction each.

    The next file is read in a worker process while the current one is written, so that on two
    cores the parsing (CPU-bound Python) and the database work overlap. A run's duration counts
    from when its reading started.
    """
    clock = clock or Clock()
    pending = iter(jobs)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:

        def submit(job: ImportJob | None):
            if job is None:
                return None
            return job, Started.now(clock), pool.submit(_read_in_worker, job.read)

        ahead = submit(next(pending, None))
        while ahead is not None:
            job, started, future = ahead
            batch, issues = future.result()
            ahead = submit(next(pending, None))
            with transaction(sessions) as db:
                if batch is None:
                    result = record_rejection(
                        db, job.source, job.files, issues, clock=clock, started=started
                    )
                else:
                    with _large_cache(db):
                        result = run_batch(db, batch, clock=clock, started=started)
            yield result
