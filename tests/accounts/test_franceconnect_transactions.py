"""No database connection is held while the IdP waits for FranceConnect: the callback's token,
keys and userinfo requests happen before the request first uses its transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event

from idp.accounts.franceconnect.wiring import install_connector, make_connector
from idp.settings import Settings
from tests.accounts.test_franceconnect_login import camille
from tests.support.franceconnect import FcBrowser, LiveIdp, live_idp


class CheckedOut:
    """How many pooled connections of an engine are checked out right now."""

    def __init__(self, engine) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(engine, "checkout", self._out)
        event.listen(engine, "checkin", self._in)

    def _out(self, *_args) -> None:
        with self._lock:
            self.count += 1

    def _in(self, *_args) -> None:
        with self._lock:
            self.count -= 1


class Watched(httpx.BaseTransport):
    """The real transport, noting the checked-out connections at each request it sends."""

    def __init__(self, checked_out: CheckedOut) -> None:
        self._inner = httpx.HTTPTransport()
        self._checked_out = checked_out
        self.calls: list[tuple[str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.path, self._checked_out.count))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def idp(settings: Settings, engine) -> Iterator[LiveIdp]:
    def settings_factory(**overrides) -> Settings:
        return Settings(**{**settings.model_dump(), **overrides})

    with live_idp(settings_factory) as served:
        yield served


@pytest.fixture
def transport(idp) -> Iterator[Watched]:
    watched = Watched(CheckedOut(idp.state.engine))
    http = httpx.Client(transport=watched, follow_redirects=False, timeout=10.0)
    install_connector(idp.state, make_connector(idp.state, http))
    yield watched
    http.close()


@pytest.fixture
def browser(idp) -> Iterator[FcBrowser]:
    b = FcBrowser(idp)
    yield b
    b.close()


def test_callback_holds_no_connection_while_calling_franceconnect(idp, transport, browser):
    camille(idp.state)
    callback = browser.to_callback()
    transport.calls.clear()  # the login redirect's discovery fetch is not the point here
    response = browser.get(callback)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/franceconnect/rattachement"  # the db was used
    paths = [path for path, _ in transport.calls]
    assert any(path.endswith("/token") for path in paths), paths
    assert any(path.endswith("/userinfo") for path in paths), paths
    assert transport.calls and all(held == 0 for _, held in transport.calls), transport.calls
