"""The app on a frozen clock (codes and links expire without sleeping), and the OIDC fixtures."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from idp.app import create_app
from idp.clock import FrozenClock
from tests.oidc.conftest import account, browser, client, rp, state  # noqa: F401


class SteppingClock(FrozenClock):
    """Frozen, but each reading is a microsecond later: rows written in one test (outbox
    messages) keep their order, while expiry still moves only with ``advance``."""

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now


@pytest.fixture
def clock() -> FrozenClock:
    return SteppingClock()


@pytest.fixture
def app(settings, engine, clock):
    return create_app(settings, clock=clock, background=False)
