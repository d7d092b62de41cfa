"""The app on a frozen clock (TOTP steps, letter validity), with the OIDC fixtures."""

from __future__ import annotations

import pytest

from idp.app import create_app
from idp.clock import FrozenClock
from tests.admin.helpers import World, build_world
from tests.oidc.conftest import browser, client, rp, state  # noqa: F401


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(settings, engine, clock):
    return create_app(settings, clock=clock, background=False)


@pytest.fixture
def world(state) -> World:  # noqa: F811 - the imported fixture
    return build_world(state)
