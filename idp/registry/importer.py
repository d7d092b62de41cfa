"""The import engine shared by ONDE and SIECLE: diff a Batch against the registry and write it.

Semantics (documented in ``docs/registry-import.md``):

- records are matched on ``(source, source_id)``; unchanged records are not written;
- a school in the batch is fully exported: its enrolled pupils that are absent (and not merely
  rejected) become ``departed`` — never deleted — and come back as ``enrolled`` if they reappear;
- a pupil found under another school of the same source has moved: the row follows it;
- the batch is authoritative for the links of every pupil it contains: links it lacks are removed.

Bulk-friendly: the school's pupils are read with one query, guardians and links by key in chunks
of 500 (index lookups on both databases), the diff runs in memory, and writes are executemany
statements. It only flushes; the caller's unit of work makes the whole batch one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from idp.db import new_id
from idp.i18n import _
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus, School
from idp.registry.records import Batch, empty_counts

CHUNK = 500
Counts = dict[str, dict[str, int]]

_schools: Table = School.__table__  # type: ignore[assignment]
_pupils: Table = Pupil.__table__  # type: ignore[assignment]
_guardians: Table = Guardian.__table__  # type: ignore[assignment]
_links: Table = Guardianship.__table__  # type: ignore[assignment]

PUPIL_FIELDS = (
    "ine",
    "family_name",
    "given_name",
    "birthdate",
    "sex",
    "school_uai",
    "level",
    "mef_code",
    "class_name",
    "status",
)
GUARDIAN_FIELDS = ("civility", "family_name", "given_name", "mobile", "email", "address")
LINK_FIELDS = ("relationship_code", "legal_guardian_rank", "financial", "contact")


def chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_batch(db: Session, batch: Batch, now: datetime) -> Counts:
    counts = empty_counts()
    for kind, rejected in batch.rejected.items():
        counts[kind]["rejected"] = rejected
    _apply_schools(db, batch, now, counts["schools"])
    pupil_ids = _apply_pupils(db, batch, now, counts["pupils"])
    guardian_ids = _apply_guardians(db, batch, now, counts["guardians"])
    _apply_links(db, batch, pupil_ids, guardian_ids, now, counts["links"])
    _refresh_statistics(db, counts)
    return counts


def _refresh_statistics(db: Session, counts: Counts) -> None:
    """ANALYZE a PostgreSQL table that this import grew by a fifth or more.

    Autovacuum analyses a table a minute or so after it changed; until then, during the first
    imports of an academy, the planner believes the registry is nearly empty and picks
    sequential scans for the source-id lookups, which makes each import slower than the last.
    """
    if db.get_bind().dialect.name != "postgresql":
        return
    grown = {"pupils": "pupils", "guardians": "guardians", "guardianships": "links"}
    created = {table: counts[kind]["created"] for table, kind in grown.items()}
    if max(created.values()) < 200:
        return
    query = text("SELECT relname, reltuples FROM pg_class WHERE relname IN :names").bindparams(
        bindparam("names", expanding=True)
    )
    for name, tuples in db.execute(query, {"names": list(created)}):
        if created[name] >= 0.2 * max(tuples, 0):
            db.execute(text(f"ANALYZE {name}"))  # a fixed table name, never user input


def _apply_schools(db: Session, batch: Batch, now: datetime, counts: dict[str, int]) -> None:
    t = _schools
    query = select(t.c.uai, t.c.name, t.c.degree).where(t.c.uai.in_(list(batch.schools)))
    existing = {row.uai: row for row in db.execute(query)}
    inserts, updates = [], []
    for uai, school in batch.schools.items():
        row = existing.get(uai)
        if row is None:
            name = school.name or _("Établissement %(uai)s") % {"uai": uai}
            inserts.append(
                dict(
                    uai=uai,
                    name=name,
                    degree=school.degree,
                    academy=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            counts["created"] += 1
        elif (school.name or row.name, school.degree) != (row.name, row.degree):
            updates.append(
                dict(b_uai=uai, name=school.name or row.name, degree=school.degree, updated_at=now)
            )
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    _write(db, t, inserts, updates, t.c.uai, "b_uai")


def _apply_pupils(
    db: Session, batch: Batch, now: datetime, counts: dict[str, int]
) -> dict[str, str]:
    t = _pupils
    columns = [t.c.id, t.c.source_id, *(t.c[name] for name in PUPIL_FIELDS)]
    of_schools = select(*columns).where(
        t.c.source == batch.source, t.c.school_uai.in_(list(batch.schools))
    )
    existing = {row.source_id: row for row in db.execute(of_schools)}
    enrolled_before = [row for row in existing.values() if row.status == PupilStatus.enrolled]
    _lookup_missing(db, t, columns, batch, list(batch.pupils), existing)

    ids: dict[str, str] = {}
    inserts, updates = [], []
    for sid, pupil in batch.pupils.items():
        status = PupilStatus.departed if pupil.departed else PupilStatus.enrolled
        # In PUPIL_FIELDS order: compared with the row's columns as a tuple.
        values = {name: getattr(pupil, name) for name in PUPIL_FIELDS[:-1]}
        values["status"] = status
        row = existing.get(sid)
        if row is None:
            ids[sid] = pupil_id = new_id()
            departed_at = now if pupil.departed else None
            inserts.append(
                dict(
                    values,
                    id=pupil_id,
                    source=batch.source,
                    source_id=sid,
                    departed_at=departed_at,
                    created_at=now,
                    updated_at=now,
                )
            )
            counts["created"] += 1
            continue
        ids[sid] = row.id
        if tuple(values.values()) == tuple(row[2:]):
            counts["unchanged"] += 1
            continue
        leaving = status == PupilStatus.departed and row.status == PupilStatus.enrolled
        update_row = dict(values, b_id=row.id, updated_at=now)
        if status != row.status:
            update_row["departed_at"] = now if leaving else None
        counts["departed" if leaving else "updated"] += 1
        updates.append(update_row)

    gone = [
        dict(b_id=row.id, status=PupilStatus.departed, departed_at=now, updated_at=now)
        for row in enrolled_before
        if row.source_id not in batch.pupils and row.source_id not in batch.rejected_pupils
    ]
    counts["departed"] += len(gone)
    _write(db, t, inserts, updates + gone, t.c.id, "b_id")
    return ids


def _apply_guardians(
    db: Session, batch: Batch, now: datetime, counts: dict[str, int]
) -> dict[str, str]:
    t = _guardians
    columns = [t.c.id, t.c.source_id, *(t.c[name] for name in GUARDIAN_FIELDS)]
    # Guardians are not filed under a school: look them up by source id (a unique index).
    # A join through the school's links looks like one query, but PostgreSQL then prefers a
    # sequential scan of all guardianships, several times slower.
    existing: dict[str, Any] = {}
    _lookup_missing(db, t, columns, batch, list(batch.guardians), existing)

    ids: dict[str, str] = {}
    inserts, updates = [], []
    for sid, guardian in batch.guardians.items():
        values = {name: getattr(guardian, name) for name in GUARDIAN_FIELDS}
        row = existing.get(sid)
        if row is None:
            ids[sid] = guardian_id = new_id()
            inserts.append(
                dict(
                    values,
                    id=guardian_id,
                    source=batch.source,
                    source_id=sid,
                    created_at=now,
                    updated_at=now,
                )
            )
            counts["created"] += 1
        else:
            ids[sid] = row.id
            if tuple(values.values()) == tuple(row[2:]):
                counts["unchanged"] += 1
            else:
                updates.append(dict(values, b_id=row.id, updated_at=now))
                counts["updated"] += 1
    _write(db, t, inserts, updates, t.c.id, "b_id")
    return ids


def _apply_links(
    db: Session,
    batch: Batch,
    pupil_ids: dict[str, str],
    guardian_ids: dict[str, str],
    now: datetime,
    counts: dict[str, int],
) -> None:
    t = _links
    columns = [t.c.id, t.c.guardian_id, t.c.pupil_id, *(t.c[name] for name in LINK_FIELDS)]
    existing: dict[tuple[str, str], Any] = {}
    for chunk in chunks(list(pupil_ids.values())):
        query = select(*columns).where(t.c.pupil_id.in_(chunk))
        existing.update(((row.guardian_id, row.pupil_id), row) for row in db.execute(query))
    inserts, updates = [], []
    wanted: set[tuple[str, str]] = set()
    for link in batch.links.values():
        key = (guardian_ids[link.guardian_source_id], pupil_ids[link.pupil_source_id])
        wanted.add(key)
        values = {name: getattr(link, name) for name in LINK_FIELDS}
        row = existing.get(key)
        if row is None:
            inserts.append(
                dict(
                    values,
                    id=new_id(),
                    guardian_id=key[0],
                    pupil_id=key[1],
                    created_at=now,
                    updated_at=now,
                )
            )
            counts["created"] += 1
        elif tuple(values.values()) != tuple(row[3:]):
            updates.append(dict(values, b_id=row.id, updated_at=now))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    removed = [row.id for key, row in existing.items() if key not in wanted]
    counts["removed"] += len(removed)
    for chunk in chunks(removed):
        db.execute(delete(t).where(t.c.id.in_(chunk)))
    _write(db, t, inserts, updates, t.c.id, "b_id")


def _lookup_missing(
    db: Session, t: Table, columns: list, batch: Batch, sids: list[str], existing: dict[str, Any]
) -> None:
    """Find, by source id, the records the school's own query did not return."""
    missing = [sid for sid in sids if sid not in existing]
    for chunk in chunks(missing):
        query = select(*columns).where(t.c.source == batch.source, t.c.source_id.in_(chunk))
        existing.update((row.source_id, row) for row in db.execute(query))


def _write(
    db: Session, t: Table, inserts: list[dict], updates: list[dict], key, param: str
) -> None:
    if inserts:
        db.execute(insert(t), inserts)
    for group in _same_keys(updates):
        db.execute(update(t).where(key == bindparam(param)), group)


def _same_keys(rows: Iterable[dict]) -> Iterator[list[dict]]:
    """executemany needs one parameter shape per statement."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    yield from groups.values()
