"""Fixtures: one FranceConnect simulator served over real HTTP, a connector pointed at it, and a
scripted browser that clicks through the simulator's pages."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import pytest

# tests/ has no __init__.py, so plain `pytest` does not put the repository root on sys.path;
# this makes `tests.support` importable (a no-op under `python -m pytest` or pythonpath=["."]).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from federation.franceconnect import FranceConnectConnector  # noqa: E402
from federation.simulator import SimulatorClient, create_simulator_app  # noqa: E402
from tests.support.live_server import live_server  # noqa: E402

CLIENT_ID = "educonnect-test"
CLIENT_SECRET = "a-long-enough-test-secret-for-the-simulator"
REDIRECT_URI = "https://educonnect.test/fc/callback"
POST_LOGOUT_REDIRECT_URI = "https://educonnect.test/fc/logged-out"


class MovableClock:
    """Real time plus an offset, so a test can age codes without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Simulator:
    base_url: str
    issuer: str
    app: object
    clock: MovableClock
    #: The one registered relying party (client_id, secret, redirect URIs).
    client: SimulatorClient

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def faults(self) -> set[str]:
        return self.app.state.faults  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _simulator_server() -> Iterator[Simulator]:
    clock = MovableClock()
    client = SimulatorClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[POST_LOGOUT_REDIRECT_URI],
    )
    holder: dict[str, object] = {}

    def factory(base_url: str) -> object:
        holder["app"] = create_simulator_app(f"{base_url}/api/v2", [client], now=clock)
        return holder["app"]

    with live_server(factory=factory) as base_url:
        yield Simulator(base_url, f"{base_url}/api/v2", holder["app"], clock, client)


@pytest.fixture
def simulator(_simulator_server: Simulator) -> Iterator[Simulator]:
    """The shared simulator, with faults and clock reset after each test."""
    yield _simulator_server
    _simulator_server.faults.clear()
    _simulator_server.clock.offset = 0.0


@pytest.fixture
def connector(simulator: Simulator) -> Iterator[FranceConnectConnector]:
    with FranceConnectConnector(
        discovery_url=simulator.discovery_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI,
    ) as fc:
        yield fc


@dataclass
class Form:
    action: str | None = None
    method: str = "get"
    hidden: dict[str, str] = field(default_factory=dict)
    #: (name, value, visible text) of every submit button.
    buttons: list[tuple[str, str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    """Reads the first form of a page: hidden inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.form: Form | None = None
        self._button: list[str] | None = None
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and self.form is None:
            self.form = Form(attributes.get("action"), attributes.get("method", "get").lower())
        elif self.form is None or self._done:
            return
        elif tag == "input" and attributes.get("type") == "hidden":
            self.form.hidden[attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and attributes.get("type", "submit") == "submit":
            self._button = [attributes.get("name", ""), attributes.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.form is not None:
            name, value, text = self._button
            self.form.buttons.append((name, value, " ".join(text.split())))
            self._button = None
        elif tag == "form":
            self._done = True


def parse_form(html: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    assert parser.form is not None, "the page has no form"
    return parser.form


class Browser:
    """An httpx client that follows the simulator's redirects but stops before the relying
    party's callback (which does not exist in these tests) and hands back its query."""

    def __init__(self) -> None:
        self.http = httpx.Client(follow_redirects=False, timeout=5.0)

    def open_picker(self, login_url: str) -> tuple[str, httpx.Response]:
        response = self.http.get(login_url)
        assert response.status_code == 303, response.text
        page_url = urljoin(login_url, response.headers["location"])
        page = self.http.get(page_url)
        assert page.status_code == 200, page.text
        return page_url, page

    def submit(self, page_url: str, page: httpx.Response, name: str, value: str) -> httpx.Response:
        form = parse_form(page.text)
        assert form.method == "post"
        assert (name, value) in [(n, v) for n, v, _ in form.buttons]
        return self.http.post(
            urljoin(page_url, form.action or ""), data={**form.hidden, name: value}
        )

    def callback_params(self, response: httpx.Response) -> dict[str, str]:
        """Query of the redirect to the relying party's callback."""
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI + "?"), location
        return dict(parse_qsl(urlsplit(location).query))

    def login(self, login_url: str, identity: str = "camille-martin") -> dict[str, str]:
        page_url, page = self.open_picker(login_url)
        return self.callback_params(self.submit(page_url, page, "identity", identity))


@pytest.fixture
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.http.close()
