"""The app on a frozen clock, with the OIDC fixtures."""

from __future__ import annotations

import pytest

from idp.app import create_app
from idp.clock import FrozenClock
from tests.oidc.conftest import client, state  # noqa: F401


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(settings, engine, clock):
    return create_app(settings, clock=clock, background=False)
