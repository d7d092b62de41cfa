"""Shared fixtures.

The suite runs once on SQLite (database-backed stores) and, when ``EDUCONNECT_TEST_DATABASE_URL``
and ``EDUCONNECT_TEST_REDIS_URL`` are set, once more on PostgreSQL with Redis-backed stores. The
schema is built by running the migrations, once per backend and xdist worker; tables are emptied
after each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from idp.db import make_engine, make_session_factory
from idp.migrate import upgrade
from idp.models import metadata
from idp.settings import Settings

PG_URL = os.environ.get("EDUCONNECT_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("EDUCONNECT_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _worker() -> str:
    """This process's name: unique per test run and xdist worker, so two runs on one machine
    (a developer's and a helper's, say) never share a PostgreSQL database or Redis keys."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    return f"{run}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def _postgres_url_for_worker(base_url: str) -> str:
    """One database per xdist worker, recreated at the start of the run."""
    url = make_url(base_url)
    name = f"{url.database}_{_worker()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory) -> Iterator[str]:
    if backend == "postgresql":
        assert PG_URL
        url = _postgres_url_for_worker(PG_URL)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    yield url
    if backend == "postgresql":
        _drop_postgres_database(url)


def _drop_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(backend: str) -> str | None:
    if backend != "postgresql" or not REDIS_URL:
        return None
    # Each worker gets its own key prefix via settings; flush only this worker's keys.
    return REDIS_URL


def make_settings(database_url: str, redis_url: str | None, **overrides) -> Settings:
    values = dict(
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        issuer="http://localhost",
        secret_key="test-secret-key-" + "x" * 32,
        key_encryption_key="test-kek-" + "y" * 32,
        pairwise_key="test-pairwise-" + "z" * 32,
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        redis_prefix=f"ect:{_worker()}:",
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Settings:
    return make_settings(database_url, redis_url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def _empty_tables(engine: Engine) -> None:
    # Only tables the migrations made: a model without a migration is test_migrations' to report.
    from sqlalchemy import inspect

    existing = set(inspect(engine).get_table_names())
    tables = [t for t in reversed(metadata.sorted_tables) if t.name in existing]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def _flush_redis(url: str | None) -> None:
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"ect:{_worker()}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def _clean_state(request) -> Iterator[None]:
    yield
    if "engine" in request.fixturenames:
        _empty_tables(request.getfixturevalue("engine"))
        _flush_redis(request.getfixturevalue("redis_url"))


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging and inspecting data; the test commits what it arranges."""
    session = make_session_factory(engine)()
    yield session
    session.rollback()
    session.close()


FIXTURES = Path(__file__).parent / "fixtures"
