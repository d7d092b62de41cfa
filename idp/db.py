"""Database engine, declarative base and the unit of work.

SQLite (WAL) is the embedded default; PostgreSQL is the production database. Services and
repositories only ``flush``; the request-scoped unit of work commits or rolls back.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes everywhere, stored as UTC (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def new_id() -> str:
    """Primary keys are random UUIDs (hex): nothing about volume or order leaks from them."""
    return uuid.uuid4().hex


ID = String(32)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


#: How long a thread waits for this process's SQLite writer slot before giving up.
_WRITER_TIMEOUT = 30.0


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # As many connections as the server has threads: opening one costs four PRAGMAs.
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=40,
        max_overflow=20,
    )
    # One writer at a time in this process, queued on a lock rather than in SQLite's busy
    # handler, whose sleeps (up to 100 ms each) made the slowest requests wait seconds.
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:
        # pysqlite's legacy transaction handling would skip BEGIN before SELECTs: we emit it.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    # A unit of work that reads and then writes takes the write lock up front (IMMEDIATE):
    # upgrading a read snapshot after another writer committed fails at once with
    # SQLITE_BUSY instead of waiting. Read-only units of work use plain BEGIN.
    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn) -> None:
        if conn.get_execution_options().get("idp_readonly"):
            conn.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=_WRITER_TIMEOUT):
            raise TimeoutError("the SQLite writer slot stayed busy")
        conn.info["idp_writer"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn) -> None:
        if conn.info.pop("idp_writer", False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    return engine


def make_session_factory(engine: Engine, *, readonly: bool = False) -> sessionmaker[Session]:
    """Sessions of ``engine``; ``readonly`` ones promise not to write, so on SQLite they begin
    with a plain BEGIN and run beside the single writer."""
    bind = engine.execution_options(idp_readonly=True) if readonly else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, readonly: bool = False) -> Iterator[Session]:
    """A new transaction: committed when the block ends normally, rolled back otherwise.

    Requests get theirs from the ``Db`` / ``ReadDb`` dependencies (``idp.deps``); this is for
    the CLI, the worker and tests. Not re-entrant: nested, it opens a second transaction (on
    SQLite that waits for the first one's write lock), so never call it inside a request.
    ``readonly`` (a promise not to write) lets SQLite readers run alongside the writer.
    """
    session = factory()
    if readonly:
        session.connection(execution_options={"idp_readonly": True})
    try:
        yield session
    except BaseException:
        finish(session, commit=False)
        raise
    finish(session, commit=True)


def finish(session: Session, commit: bool) -> None:
    """Commit (or roll back) and close. A session used after its transaction ended would
    silently begin another one that nobody commits (holding SQLite's write lock): unbinding it
    makes that an immediate error instead."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()
        session.bind = None


_bound: ContextVar[Session | None] = ContextVar("idp_bound_session", default=None)


@contextmanager
def bound(db: Session) -> Iterator[Session]:
    """Make ``db`` the session of Authlib's storage hooks, which get no session argument,
    for the duration of one Authlib call."""
    token = _bound.set(db)
    try:
        yield db
    finally:
        _bound.reset(token)


def current_session() -> Session:
    """The session bound by ``bound`` (for Authlib's storage hooks)."""
    session = _bound.get()
    if session is None:
        raise RuntimeError("no session is bound: wrap the Authlib call in idp.db.bound(db)")
    return session


# -- transitional: the ambient unit of work of the first wave, until every caller takes ``db``.
_ambient: ContextVar[Session | None] = ContextVar("idp_unit_of_work", default=None)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, readonly: bool = False) -> Iterator[Session]:
    """Deprecated: joins an open unit of work of the same thread instead of opening a second."""
    outer = _ambient.get()
    if outer is not None:
        yield outer
        return
    with transaction(factory, readonly=readonly) as session:
        token = _ambient.set(session)
        b = _bound.set(session)
        try:
            yield session
        finally:
            _bound.reset(b)
            _ambient.reset(token)
