"""The IdP with its FranceConnect simulator served over real HTTP, and a browser for it.

The IdP redeems codes and fetches keys and userinfo from the simulator over HTTP, which a
TestClient cannot serve; ``live_idp`` runs the whole app with uvicorn (issuer = its own URL).
``FcBrowser`` is an httpx client keeping cookies that clicks through the hosted pages and the
simulator's identity picker, stopping wherever a test wants to look or tamper.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
from fastapi import FastAPI

from idp.app import create_app
from idp.clock import Clock
from idp.state import AppState
from tests.support.live_server import live_server

_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
_FC_LINK = re.compile(r'<a class="fr-connect" href="([^"]+)"')


@dataclass
class LiveIdp:
    base_url: str
    app: FastAPI

    @property
    def state(self) -> AppState:
        return self.app.state.idp

    @property
    def faults(self) -> set[str]:
        """The mounted simulator's fault switches (``federation.simulator.FAULTS``)."""
        for route in self.app.routes:
            if getattr(route, "path", None) == "/fc":
                return route.app.state.faults  # type: ignore[attr-defined]
        raise AssertionError("the FranceConnect simulator is not mounted")


@contextmanager
def live_idp(settings_factory, clock: Clock | None = None) -> Iterator[LiveIdp]:
    """``settings_factory(issuer)`` gives the settings for the served app."""
    holder: dict[str, FastAPI] = {}

    def factory(base_url: str) -> FastAPI:
        settings = settings_factory(
            issuer=base_url, franceconnect_simulator=True, franceconnect_enabled=True
        )
        holder["app"] = create_app(settings, clock=clock, background=False)
        return holder["app"]

    with live_server(factory=factory) as base_url:
        yield LiveIdp(base_url, holder["app"])


def csrf(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF field on the page"
    return html.unescape(match.group(1))


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


class FcBrowser:
    def __init__(self, idp: LiveIdp) -> None:
        self.idp = idp
        self.http = httpx.Client(base_url=idp.base_url, follow_redirects=False, timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def absolute(self, location: str) -> str:
        return urljoin(self.idp.base_url + "/", location)

    def get(self, url: str) -> httpx.Response:
        return self.http.get(self.absolute(url))

    def post_page(
        self, page: httpx.Response, url: str, **fields: str | list[str]
    ) -> httpx.Response:
        return self.http.post(url, data={"csrf_token": csrf(page.text), **fields})

    def to_callback(
        self, start: str = "/franceconnect/login", identity: str | None = "camille-martin"
    ) -> str:
        """Start a FranceConnect login and pick ``identity`` (None: cancel) at the simulator;
        return the callback URL FranceConnect sends the browser to (not yet opened)."""
        response = self.get(start)
        assert response.status_code == 303, response.text
        authorize = response.headers["location"]
        assert authorize.startswith(f"{self.idp.base_url}/fc/api/v2/authorize?"), authorize
        response = self.http.get(authorize)
        assert response.status_code == 303, response.text
        picker_url = urljoin(authorize, response.headers["location"])
        picker = self.http.get(picker_url)
        assert picker.status_code == 200, picker.text
        choice = {"identity": identity} if identity else {"action": "cancel"}
        response = self.http.post(picker_url, data={"csrf_token": csrf(picker.text), **choice})
        assert response.status_code == 303, response.text
        callback = response.headers["location"]
        assert callback.startswith(f"{self.idp.base_url}/franceconnect/callback?"), callback
        return callback

    def login_start_from(self, login_page: httpx.Response) -> str:
        """The FranceConnect button's link on the hosted login page."""
        match = _FC_LINK.search(login_page.text)
        assert match, "no FranceConnect button on the login page"
        return html.unescape(match.group(1))

    def follow(self, response: httpx.Response, until: str | None = None) -> httpx.Response:
        """Follow redirects within the IdP (and its simulator), stopping at ``until`` or at any
        other host (a relying party)."""
        while response.status_code in (302, 303):
            location = self.absolute(response.headers["location"])
            if not location.startswith(self.idp.base_url) or (
                until and location.startswith(self.absolute(until))
            ):
                return response
            response = self.http.get(location)
        return response

    @property
    def has_session(self) -> bool:
        return bool(self.http.cookies.get("ec_session"))


def assert_page_basics(text: str) -> None:
    """The rules every hosted page keeps (tests/web): one h1, labelled fields, unique ids, no
    inline script or style (CSP), a CSRF token in every POST form."""
    from tests.web.pages import Page

    page = Page.parse(text)
    assert page.find("html")[0].attrs["lang"] == "fr"
    assert len(page.find("h1")) == 1
    assert page.inline_scripts == [] and page.find("style") == []
    ids = page.ids()
    assert len(ids) == len(set(ids)), "duplicate ids"
    labelled = {e.attrs.get("for") for e in page.find("label")}
    for element in page.elements:
        assert "style" not in element.attrs, element
        if element.tag == "input" and element.attrs.get("type") != "hidden":
            assert element.attrs["id"] in labelled or element.attrs.get("aria-label"), element
    forms = [e for e in page.elements if e.tag == "form" and e.attrs.get("method") == "post"]
    assert len(page.find("input", name="csrf_token")) >= len(forms)
