"""A small app serving every hosted page with sample context, and an HTML checker.

Shared by the template tests; it does not depend on ``idp.app``.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from fastapi import FastAPI, Request

from idp.security.csrf import CsrfCookieMiddleware, CsrfError, csrf_error_handler
from idp.security.headers import SecurityHeadersMiddleware
from idp.settings import Settings
from idp.web.templating import Templates, mount_static

HIDDEN = {"client_id": "lsun-demo", "state": "état<&>\"'"}
LOGIN_LINKS = {
    "forgot_username": "/identifiant-oublie",
    "forgot_password": "/mot-de-passe-oublie",
    "register": "/inscription",
}
SCOPES = [("openid", "Votre identifiant ÉduConnect"), ("profile", "Vos nom et prénom")]


def make_settings(**overrides) -> Settings:
    values: dict = dict(env="test", secret_key="x" * 40, key_encryption_key="y" * 40)
    values.update(overrides)
    return Settings(**values)


def make_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or make_settings()
    templates = Templates(settings)
    app = FastAPI()
    app.add_middleware(CsrfCookieMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.add_exception_handler(CsrfError, csrf_error_handler(templates))
    mount_static(app)

    @app.get("/login")
    def login(request: Request, error: bool = False, full: bool = True):
        context = {
            "client_name": "LSUN démo" if full else None,
            "username": "j.dupont12" if error else None,
            "error": "Identifiant ou mot de passe incorrect." if error else None,
            "action": "/login",
            "hidden": HIDDEN,
            "franceconnect_url": "/fc/login" if full else None,
            "links": LOGIN_LINKS if full else {},
        }
        return templates.render(request, "login.html", context)

    @app.get("/consent")
    def consent(request: Request):
        context = {"client_name": "LSUN démo", "scopes": SCOPES, "action": "/consent"}
        return templates.render(request, "consent.html", {**context, "hidden": HIDDEN})

    @app.get("/logout")
    def logout(request: Request, client: bool = True):
        context = {"client_name": "LSUN démo" if client else None, "action": "/logout"}
        return templates.render(request, "logout_confirm.html", {**context, "hidden": HIDDEN})

    @app.get("/message")
    def message(request: Request):
        links = [("Retour à LSUN démo", "https://lsun.example.fr/"), ("Se connecter", "/login")]
        context = {"title": "Vous êtes déconnecté", "message": "Session fermée.", "links": links}
        return templates.render(request, "message.html", context)

    @app.get("/error")
    def error(request: Request, back: bool = True):
        return templates.error_page(
            request, "Lien invalide", "Le lien a expiré.", 400, back_url="/login" if back else None
        )

    @app.get("/expired")
    def expired(request: Request):
        raise CsrfError("test")

    return app


PAGES = [
    "/login",
    "/login?error=true",
    "/login?full=false",
    "/consent",
    "/logout",
    "/logout?client=false",
    "/message",
    "/error",
    "/error?back=false",
    "/expired",
]


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class Page(HTMLParser):
    """The parts of a page the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.inline_scripts: list[str] = []
        self._open_script: Element | None = None

    @classmethod
    def parse(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag == "script":
            self._open_script = element

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script" and self._open_script is not None:
            if self._open_script.text.strip():
                self.inline_scripts.append(self._open_script.text)
            self._open_script = None

    def handle_data(self, data):
        if self._open_script is not None:
            self._open_script.text += data
        for element in self.elements[-1:]:
            element.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def ids(self) -> list[str]:
        return [e.attrs["id"] for e in self.elements if e.attrs.get("id")]
