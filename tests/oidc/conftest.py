from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from idp.app import create_app
from idp.clock import FrozenClock
from idp.settings import Settings
from idp.state import AppState
from tests.support.oidc import RP, Browser, make_account, make_rp


@pytest.fixture
def clock() -> FrozenClock:
    """The app's clock: it stays put unless a test advances it (expiry, max_age, auth_time)."""
    return FrozenClock()


@pytest.fixture
def app(settings: Settings, engine, clock):
    return create_app(settings, clock=clock, background=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://localhost") as c:
        yield c


@pytest.fixture
def state(app, client) -> AppState:
    return app.state.idp


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


@pytest.fixture
def rp(state) -> RP:
    return make_rp(state)


@pytest.fixture
def account(state):
    return make_account(state)
