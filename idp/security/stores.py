"""State shared by every server process: SSO sessions and throttle counters.

Two implementations behind small protocols: the database (default) and Redis (when
``EDUCONNECT_REDIS_URL`` is set). Every method takes the caller's transaction: the database
implementation works in it (so a session and the change that opened it commit together), the
Redis one ignores it. One contract test suite runs against both
(tests/security/test_stores.py).

Invariants:
- ``ThrottleStore.hit`` MUST be atomic: N parallel hits return N distinct counts.
- ``SessionStore.end`` MUST be atomic and single-use: only one caller gets the ended session.
- Expired entries are never returned.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.security.models import SsoSession, ThrottleCounter
from idp.settings import Settings


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class SessionData:
    sid: str
    account_id: str
    auth_time: int
    amr: list[str]
    acr: str | None
    created_at: datetime
    expires_at: datetime
    clients: list[str] = field(default_factory=list)
    upstream: dict | None = None
    user_agent: str | None = None
    ip: str | None = None


class SessionStore(Protocol):
    def create(self, db: Session, data: SessionData) -> str:
        """Store a session; return the cookie token (random, only its hash is kept)."""

    def get(self, db: Session, token: str) -> SessionData | None: ...

    def by_sid(self, db: Session, sid: str) -> SessionData | None: ...

    def add_client(self, db: Session, sid: str, client_id: str) -> None: ...

    def end(self, db: Session, sid: str) -> SessionData | None:
        """Remove the session; return it to exactly one caller."""

    def for_account(self, db: Session, account_id: str) -> list[SessionData]: ...


class ThrottleStore(Protocol):
    def hit(self, db: Session, key: str, window: int) -> int:
        """Count one more event in the key's window (started by the first hit); return the count."""

    def count(self, db: Session, key: str) -> int: ...

    def release(self, db: Session, key: str) -> None:
        """Give one reserved hit back (a successful attempt)."""

    def reset(self, db: Session, key: str) -> None: ...

    def lock(self, db: Session, key: str, seconds: int) -> None: ...

    def unlock(self, db: Session, key: str) -> None: ...

    def locked_for(self, db: Session, key: str) -> int:
        """Seconds left on a lock, 0 when unlocked."""


# -- database ------------------------------------------------------------------------------------
class DbSessionStore:
    """Sessions in the caller's transaction."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def create(self, db: Session, data: SessionData) -> str:
        token = secrets.token_urlsafe(32)
        db.add(SsoSession(token_hash=_hash(token), **asdict(data)))
        db.flush()
        return token

    def _load(self, db: Session, where) -> SessionData | None:
        row = db.scalar(select(SsoSession).where(where))
        if row is None or row.expires_at <= self._clock.now():
            return None
        return _to_data(row)

    def get(self, db: Session, token: str) -> SessionData | None:
        return self._load(db, SsoSession.token_hash == _hash(token))

    def by_sid(self, db: Session, sid: str) -> SessionData | None:
        return self._load(db, SsoSession.sid == sid)

    def add_client(self, db: Session, sid: str, client_id: str) -> None:
        row = db.scalar(select(SsoSession).where(SsoSession.sid == sid).with_for_update())
        if row is not None and client_id not in row.clients:
            row.clients = [*row.clients, client_id]
            db.flush()

    def end(self, db: Session, sid: str) -> SessionData | None:
        row = db.scalar(delete(SsoSession).where(SsoSession.sid == sid).returning(SsoSession))
        return _to_data(row) if row is not None else None

    def for_account(self, db: Session, account_id: str) -> list[SessionData]:
        now = self._clock.now()
        rows = db.scalars(
            select(SsoSession)
            .where(SsoSession.account_id == account_id, SsoSession.expires_at > now)
            .order_by(SsoSession.created_at)
        )
        return [_to_data(r) for r in rows]


def _to_data(row: SsoSession) -> SessionData:
    return SessionData(
        sid=row.sid,
        account_id=row.account_id,
        auth_time=row.auth_time,
        amr=list(row.amr),
        acr=row.acr,
        created_at=row.created_at,
        expires_at=row.expires_at,
        clients=list(row.clients),
        upstream=row.upstream,
        user_agent=row.user_agent,
        ip=row.ip,
    )


class DbThrottleStore:
    """Counters in the caller's transaction (atomic upserts)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def _upsert(self, db: Session, key: str, window: int, *, lock: bool = False) -> int:
        now = self._clock.now()
        end = now + timedelta(seconds=window)
        table = ThrottleCounter.__table__
        dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table).values(key=key, hits=1, window_ends_at=end)
        expired = table.c.window_ends_at <= now
        if lock:
            values = {"hits": 1, "window_ends_at": end}
        else:
            values = {
                "hits": case((expired, 1), else_=table.c.hits + 1),
                "window_ends_at": case((expired, end), else_=table.c.window_ends_at),
            }
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_=values)
        return db.execute(stmt.returning(table.c.hits)).scalar_one()

    def hit(self, db: Session, key: str, window: int) -> int:
        return self._upsert(db, key, window)

    def count(self, db: Session, key: str) -> int:
        row = db.get(ThrottleCounter, key)
        if row is None or row.window_ends_at <= self._clock.now():
            return 0
        return row.hits

    def release(self, db: Session, key: str) -> None:
        db.execute(
            update(ThrottleCounter)
            .where(ThrottleCounter.key == key, ThrottleCounter.hits > 0)
            .values(hits=ThrottleCounter.hits - 1)
        )

    def reset(self, db: Session, key: str) -> None:
        db.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))

    def lock(self, db: Session, key: str, seconds: int) -> None:
        self._upsert(db, f"lock:{key}", seconds, lock=True)

    def unlock(self, db: Session, key: str) -> None:
        self.reset(db, f"lock:{key}")

    def locked_for(self, db: Session, key: str) -> int:
        row = db.get(ThrottleCounter, f"lock:{key}")
        if row is None:
            return 0
        return max(0, int((row.window_ends_at - self._clock.now()).total_seconds()))


# -- Redis ---------------------------------------------------------------------------------------
class RedisSessionStore:
    def __init__(self, client, prefix: str, clock: Clock) -> None:
        self._r = client
        self._p = prefix
        self._clock = clock

    def _ttl(self, data: SessionData) -> int:
        return max(1, int((data.expires_at - self._clock.now()).total_seconds()))

    def _save(self, pipe, data: SessionData) -> None:
        pipe.set(f"{self._p}sess:{data.sid}", _dump(data), ex=self._ttl(data))

    def create(self, db: Session, data: SessionData) -> str:
        token = secrets.token_urlsafe(32)
        ttl = self._ttl(data)
        pipe = self._r.pipeline(transaction=True)
        self._save(pipe, data)
        pipe.set(f"{self._p}tok:{_hash(token)}", data.sid, ex=ttl)
        pipe.sadd(f"{self._p}acct:{data.account_id}", data.sid)
        pipe.expire(f"{self._p}acct:{data.account_id}", ttl, gt=True)
        pipe.expire(f"{self._p}acct:{data.account_id}", ttl, nx=True)
        pipe.execute()
        return token

    def get(self, db: Session, token: str) -> SessionData | None:
        sid = self._r.get(f"{self._p}tok:{_hash(token)}")
        return self.by_sid(db, sid.decode()) if sid else None

    def by_sid(self, db: Session, sid: str) -> SessionData | None:
        raw = self._r.get(f"{self._p}sess:{sid}")
        if raw is None:
            return None
        data = _load(raw)
        return data if data.expires_at > self._clock.now() else None

    def add_client(self, db: Session, sid: str, client_id: str) -> None:
        key = f"{self._p}sess:{sid}"
        # Optimistic transaction: two parallel authorizations must not lose a client.
        with self._r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        return
                    data = _load(raw)
                    if client_id in data.clients:
                        return
                    data.clients.append(client_id)
                    pipe.multi()
                    self._save(pipe, data)
                    pipe.execute()
                    return
                except Exception as exc:  # redis.WatchError: someone else wrote; retry
                    if type(exc).__name__ != "WatchError":
                        raise

    def end(self, db: Session, sid: str) -> SessionData | None:
        raw = self._r.getdel(f"{self._p}sess:{sid}")
        if raw is None:
            return None
        data = _load(raw)
        self._r.srem(f"{self._p}acct:{data.account_id}", sid)
        return data

    def for_account(self, db: Session, account_id: str) -> list[SessionData]:
        found = []
        for sid in self._r.smembers(f"{self._p}acct:{account_id}"):
            data = self.by_sid(db, sid.decode())
            if data is None:
                self._r.srem(f"{self._p}acct:{account_id}", sid)
            else:
                found.append(data)
        return sorted(found, key=lambda d: d.created_at)


def _dump(data: SessionData) -> str:
    raw = asdict(data)
    raw["created_at"] = data.created_at.isoformat()
    raw["expires_at"] = data.expires_at.isoformat()
    return json.dumps(raw)


def _load(raw: bytes | str) -> SessionData:
    obj = json.loads(raw)
    obj["created_at"] = datetime.fromisoformat(obj["created_at"])
    obj["expires_at"] = datetime.fromisoformat(obj["expires_at"])
    return SessionData(**obj)


class RedisThrottleStore:
    def __init__(self, client, prefix: str) -> None:
        self._r = client
        self._p = prefix

    def hit(self, db: Session, key: str, window: int) -> int:
        pipe = self._r.pipeline(transaction=True)
        pipe.incr(f"{self._p}t:{key}")
        pipe.expire(f"{self._p}t:{key}", window, nx=True)
        return int(pipe.execute()[0])

    def count(self, db: Session, key: str) -> int:
        return int(self._r.get(f"{self._p}t:{key}") or 0)

    def release(self, db: Session, key: str) -> None:
        # Only decrement an existing counter (never create one without a TTL).
        self._r.eval(
            "if redis.call('exists', KEYS[1]) == 1 and tonumber(redis.call('get', KEYS[1])) > 0"
            " then return redis.call('decr', KEYS[1]) end return 0",
            1,
            f"{self._p}t:{key}",
        )

    def reset(self, db: Session, key: str) -> None:
        self._r.delete(f"{self._p}t:{key}")

    def lock(self, db: Session, key: str, seconds: int) -> None:
        self._r.set(f"{self._p}lock:{key}", 1, ex=seconds)

    def unlock(self, db: Session, key: str) -> None:
        self._r.delete(f"{self._p}lock:{key}")

    def locked_for(self, db: Session, key: str) -> int:
        return max(0, int(self._r.ttl(f"{self._p}lock:{key}")))


@dataclass
class Stores:
    sessions: SessionStore
    throttle: ThrottleStore
    redis: object | None = None


def make_stores(settings: Settings, clock: Clock) -> Stores:
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        prefix = settings.redis_prefix
        return Stores(
            RedisSessionStore(client, prefix, clock), RedisThrottleStore(client, prefix), client
        )
    return Stores(DbSessionStore(clock), DbThrottleStore(clock))
