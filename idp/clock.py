"""An injectable clock, so expiry, ``auth_time`` and ``max_age`` tests never sleep."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> int:
        return int(time.time())


class FrozenClock(Clock):
    """A clock for tests: it only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def timestamp(self) -> int:
        return int(self._now.timestamp())

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._now += timedelta(seconds=seconds)
