"""End-to-end fixtures (helpers in ``live.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.live import LiveIdP, serve


@pytest.fixture
def live_idp(database_url: str, redis_url: str | None, engine) -> Iterator[LiveIdP]:
    """The app over HTTP, without the demo relying party. ``engine`` is requested so that the
    tables are emptied after the test."""
    yield from serve(database_url, redis_url, demo_enabled=False)
