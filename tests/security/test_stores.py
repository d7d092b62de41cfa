"""One contract test suite for every store implementation (database, and Redis when set)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from idp.clock import FrozenClock
from idp.db import make_session_factory, transaction
from idp.security.stores import (
    DbSessionStore,
    DbThrottleStore,
    RedisSessionStore,
    RedisThrottleStore,
    SessionData,
)
from tests.conftest import _worker

REDIS_URL = os.environ.get("EDUCONNECT_TEST_REDIS_URL")
KINDS = ["db"] + (["redis"] if REDIS_URL else [])


class _OwnTransactions:
    """Each call in a transaction of its own, as two requests would make them."""

    def __init__(self, store, factory) -> None:
        self._store = store
        self._factory = factory

    def __getattr__(self, name):
        method = getattr(self._store, name)

        def call(*args, **kwargs):
            with transaction(self._factory) as db:
                return method(db, *args, **kwargs)

        return call


@pytest.fixture(params=KINDS)
def stores(request, engine):
    clock = FrozenClock()
    factory = make_session_factory(engine)
    if request.param == "db":
        pair = DbSessionStore(clock), DbThrottleStore(clock)
        yield *(_OwnTransactions(s, factory) for s in pair), clock
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"ect:{_worker()}:contract:"
    pair = RedisSessionStore(client, prefix, clock), RedisThrottleStore(client, prefix)
    yield *(_OwnTransactions(s, factory) for s in pair), clock
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def _session(clock, sid="s1", account_id=None, ttl=3600) -> SessionData:
    return SessionData(
        sid=sid,
        account_id=account_id or "a" * 32,
        auth_time=clock.timestamp(),
        amr=["pwd"],
        acr="urn:educonnect:loa:basic",
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(seconds=ttl),
    )


def _account(engine, account_id="a" * 32):
    """Session rows reference an account (foreign key in the database store)."""
    from idp.accounts.models import Account, AccountKind, AccountState

    factory = make_session_factory(engine)
    with factory() as db:
        if db.get(Account, account_id) is None:
            clock = FrozenClock()
            db.add(
                Account(
                    id=account_id,
                    kind=AccountKind.guardian,
                    username=f"u{account_id[:6]}",
                    state=AccountState.active,
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
            db.commit()
    return account_id


class TestSessionStore:
    def test_create_get_end_once(self, stores, engine):
        sessions, _, clock = stores
        _account(engine)
        token = sessions.create(_session(clock))
        assert sessions.get(token).sid == "s1"
        assert sessions.by_sid("s1").account_id == "a" * 32
        assert sessions.get("not-a-token") is None
        with ThreadPoolExecutor(4) as pool:
            ended = list(pool.map(lambda _: sessions.end("s1"), range(4)))
        assert sum(e is not None for e in ended) == 1  # single use
        assert sessions.get(token) is None

    def test_clients_are_added_without_loss(self, stores, engine):
        sessions, _, clock = stores
        _account(engine)
        sessions.create(_session(clock))
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: sessions.add_client("s1", f"client{i}"), range(8)))
        assert sorted(sessions.by_sid("s1").clients) == sorted(f"client{i}" for i in range(8))

    def test_expired_sessions_are_not_returned(self, stores, engine):
        sessions, _, clock = stores
        _account(engine)
        token = sessions.create(_session(clock, ttl=60))
        clock.advance(61)
        assert sessions.get(token) is None

    def test_for_account(self, stores, engine):
        sessions, _, clock = stores
        _account(engine)
        sessions.create(_session(clock, "s1"))
        sessions.create(_session(clock, "s2"))
        assert {s.sid for s in sessions.for_account("a" * 32)} == {"s1", "s2"}


class TestThrottleStore:
    def test_parallel_hits_are_counted_exactly(self, stores):
        _, throttle, _ = stores
        with ThreadPoolExecutor(8) as pool:
            counts = list(pool.map(lambda _: throttle.hit("k", 60), range(40)))
        assert sorted(counts) == list(range(1, 41))
        assert throttle.count("k") == 40

    def test_release_and_reset(self, stores):
        _, throttle, _ = stores
        throttle.hit("k", 60)
        throttle.hit("k", 60)
        throttle.release("k")
        assert throttle.count("k") == 1
        throttle.reset("k")
        assert throttle.count("k") == 0
        throttle.release("missing")
        assert throttle.count("missing") == 0

    def test_lock(self, stores):
        _, throttle, _ = stores
        assert throttle.locked_for("k") == 0
        throttle.lock("k", 120)
        assert 100 < throttle.locked_for("k") <= 120
        throttle.unlock("k")
        assert throttle.locked_for("k") == 0
