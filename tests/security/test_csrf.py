"""Signed double-submit CSRF protection (idp.security.csrf)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from idp.security.csrf import (
    COOKIE_NAME,
    CsrfCookieMiddleware,
    CsrfError,
    csrf_error_handler,
    csrf_token,
    verify_csrf,
)
from idp.settings import Settings
from idp.web.templating import Templates

SECRET_KEY = "x" * 40
EXPIRED = "La page a expiré ou la requête n'a pas été reconnue."


def make_settings(**overrides) -> Settings:
    values: dict = dict(env="test", secret_key=SECRET_KEY, key_encryption_key="y" * 40)
    values.update(overrides)
    return Settings(**values)


def make_app(settings: Settings) -> FastAPI:
    templates = Templates(settings)
    app = FastAPI()
    app.add_middleware(CsrfCookieMiddleware, settings=settings)
    app.add_exception_handler(CsrfError, csrf_error_handler(templates))

    @app.get("/form")
    def form(request: Request) -> JSONResponse:
        return JSONResponse({"token": csrf_token(request)})

    @app.get("/page")
    def page(request: Request):
        return templates.render(request, "message.html", {"title": "t", "message": "m"})

    @app.get("/api")
    def api() -> dict:
        return {"ok": True}

    @app.post("/submit")
    async def submit(request: Request) -> dict:
        form = await request.form()
        verify_csrf(request, form.get("csrf_token"))  # type: ignore[arg-type]
        return {"ok": True}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(make_settings()))


def get_token(client: TestClient) -> str:
    response = client.get("/form")
    assert response.status_code == 200
    return response.json()["token"]


def assert_refused(response) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert EXPIRED in response.text.replace("&#39;", "'")


class TestCookie:
    def test_issued_with_the_first_token(self, client: TestClient) -> None:
        response = client.get("/form")
        cookie = response.headers["set-cookie"]
        assert re.fullmatch(
            rf"{COOKIE_NAME}=[A-Za-z0-9_-]{{43}}; Path=/; HttpOnly; SameSite=Lax", cookie
        )

    def test_secure_when_the_issuer_is_https(self) -> None:
        settings = make_settings(issuer="https://idp.example.fr")
        client = TestClient(make_app(settings), base_url="https://testserver")
        assert client.get("/form").headers["set-cookie"].endswith("; Secure")

    def test_kept_once_set(self, client: TestClient) -> None:
        first = get_token(client)
        response = client.get("/form")
        assert "set-cookie" not in response.headers
        assert response.json()["token"] == first

    def test_issued_on_html_pages(self, client: TestClient) -> None:
        assert COOKIE_NAME in client.get("/page").headers["set-cookie"]

    def test_not_issued_on_json_without_a_token(self, client: TestClient) -> None:
        assert "set-cookie" not in client.get("/api").headers

    def test_malformed_cookie_is_replaced(self, client: TestClient) -> None:
        client.cookies.set(COOKIE_NAME, "chosen-by-the-attacker")
        response = client.get("/form")
        assert response.headers["set-cookie"].startswith(f"{COOKIE_NAME}=")
        assert "chosen-by-the-attacker" not in response.headers["set-cookie"]


class TestVerify:
    def test_valid(self, client: TestClient) -> None:
        token = get_token(client)
        response = client.post("/submit", data={"csrf_token": token})
        assert response.status_code == 200, response.text

    def test_missing_cookie(self, client: TestClient) -> None:
        token = get_token(client)
        client.cookies.clear()
        assert_refused(client.post("/submit", data={"csrf_token": token}))

    def test_missing_field(self, client: TestClient) -> None:
        get_token(client)
        assert_refused(client.post("/submit", data={"other": "x"}))

    def test_empty_field(self, client: TestClient) -> None:
        get_token(client)
        assert_refused(client.post("/submit", data={"csrf_token": ""}))

    def test_tampered_token(self, client: TestClient) -> None:
        token = get_token(client)
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert_refused(client.post("/submit", data={"csrf_token": tampered}))

    def test_token_of_another_browser(self, client: TestClient) -> None:
        other = TestClient(client.app)
        get_token(client)
        assert_refused(client.post("/submit", data={"csrf_token": get_token(other)}))

    def test_non_ascii_token(self, client: TestClient) -> None:
        get_token(client)
        assert_refused(client.post("/submit", data={"csrf_token": "é" * 43}))

    def test_token_from_another_secret_key(self, client: TestClient) -> None:
        token = get_token(client)
        other = TestClient(make_app(make_settings(secret_key="z" * 40)))
        other.cookies.set(COOKIE_NAME, client.cookies[COOKIE_NAME])
        assert_refused(other.post("/submit", data={"csrf_token": token}))


class TestToken:
    def test_is_not_a_plain_hmac_of_the_secret_key(self, client: TestClient) -> None:
        """Pages show the token for a cookie the browser chose: the key must serve CSRF only."""
        token = get_token(client)
        cookie = client.cookies[COOKIE_NAME]
        plain = hmac.new(SECRET_KEY.encode(), cookie.encode(), hashlib.sha256).digest()
        assert token != base64.urlsafe_b64encode(plain).rstrip(b"=").decode()
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)

    def test_requires_the_middleware(self) -> None:
        app = FastAPI()

        @app.get("/")
        def index(request: Request) -> str:
            return csrf_token(request)

        with pytest.raises(RuntimeError, match="CsrfCookieMiddleware"):
            TestClient(app).get("/")
