"""Clients by id, kept a few seconds in each process.

Every token, introspection and revocation request authenticates a client, and reading it was
the largest cost of a ``client_credentials`` grant (a third of its time). A client changes
rarely (registration, a new secret, a new redirect URI), and is cached here for ``ttl`` seconds:
a change made by this process is seen at once (``invalidate``), one made elsewhere (the CLI,
another instance) within ``ttl`` seconds everywhere. Nothing a revocation or a logout must stop
at once is cached: tokens, grants, sessions and consents are always read.

Cached clients are detached from their session and only read (attribute access), so any
request thread may use them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from idp.oidc.models import Client

#: How stale a client may be in one process (seconds).
TTL = 5.0


class ClientCache:
    def __init__(self, ttl: float = TTL, now: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._now = now
        self._entries: dict[str, tuple[float, Client]] = {}
        self._lock = threading.Lock()

    def get(self, db: Session, client_id: str, prepare: Callable[[Client], None]) -> Client | None:
        """The client, from the cache or the database (``prepare`` runs once per load)."""
        found = self._entries.get(client_id)
        now = self._now()
        if found is not None and found[0] > now:
            return found[1]
        client = db.get(Client, client_id)
        if client is None:
            with self._lock:
                self._entries.pop(client_id, None)
            return None
        db.expunge(client)
        prepare(client)
        with self._lock:
            self._entries[client_id] = (now + self._ttl, client)
        return client

    def invalidate(self, client_id: str | None = None) -> None:
        with self._lock:
            if client_id is None:
                self._entries.clear()
            else:
                self._entries.pop(client_id, None)
