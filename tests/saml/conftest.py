from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from idp.app import create_app
from idp.clock import FrozenClock
from idp.db import transaction
from idp.saml.providers import add_provider
from tests.support.oidc import Browser, make_account
from tests.support.saml import SP, make_sp


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(settings, engine, clock):
    return create_app(settings, clock=clock, background=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://localhost") as c:
        yield c


@pytest.fixture
def state(app, client):
    return app.state.idp


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


@pytest.fixture
def account(state):
    return make_account(state)


@pytest.fixture
def idp_metadata(client) -> str:
    response = client.get("/idp/shibboleth")
    assert response.status_code == 200
    return response.text


def register(state, metadata: str, **options):
    with transaction(state.sessions) as db:
        sp, _ = add_provider(db, state.clock, metadata, **options)
    return sp


@pytest.fixture
def sp(state, idp_metadata, tmp_path) -> SP:
    made = make_sp(tmp_path, idp_metadata)
    register(state, made.metadata, first_party=True)
    return made
