"""Security headers (idp.security.headers)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.testclient import TestClient

from idp.security.headers import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware
from idp.settings import Settings

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def make_settings(**overrides) -> Settings:
    values: dict = dict(env="test", secret_key="x" * 40, key_encryption_key="y" * 40)
    values.update(overrides)
    return Settings(**values)


def make_client(settings: Settings | None = None) -> TestClient:
    app = FastAPI()
    app.add_middleware(SecurityHeadersMiddleware, settings=settings or make_settings())

    @app.get("/html")
    def html() -> HTMLResponse:
        return HTMLResponse("<!doctype html><p>Bonjour</p>")

    @app.get("/json")
    def json() -> dict:
        return {"ok": True}

    @app.get("/own")
    def own() -> HTMLResponse:
        headers = {
            "Cache-Control": "public, max-age=60",
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "default-src 'none'",
        }
        return HTMLResponse("<p>x</p>", headers=headers)

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]), media_type="text/html")

    @app.get("/error")
    def error() -> JSONResponse:
        return JSONResponse({"error": "invalid_request"}, status_code=400)

    return TestClient(app)


class TestEveryResponse:
    @pytest.mark.parametrize("path", ["/html", "/json", "/stream", "/error", "/missing"])
    def test_common_headers(self, path: str) -> None:
        response = make_client().get(path)
        for name, value in EVERY_RESPONSE.items():
            assert response.headers[name] == value, name

    def test_endpoint_headers_win(self) -> None:
        response = make_client().get("/own")
        assert response.headers["cache-control"] == "public, max-age=60"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert response.headers["content-security-policy"] == "default-src 'none'"
        assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]

    def test_streamed_body_is_intact(self) -> None:
        response = make_client().get("/stream")
        assert response.text == "ab"
        assert response.headers["content-security-policy"] == EXPECTED_CSP


class TestContentSecurityPolicy:
    def test_html(self) -> None:
        assert CONTENT_SECURITY_POLICY == EXPECTED_CSP
        assert make_client().get("/html").headers["content-security-policy"] == EXPECTED_CSP

    def test_no_form_action(self) -> None:
        """Chrome applies form-action to the redirect after a post: it would block RPs."""
        assert "form-action" not in CONTENT_SECURITY_POLICY

    @pytest.mark.parametrize("path", ["/json", "/error"])
    def test_not_on_json(self, path: str) -> None:
        assert "content-security-policy" not in make_client().get(path).headers


class TestStrictTransportSecurity:
    def test_public_https_issuer(self) -> None:
        client = make_client(make_settings(issuer="https://idp.example.fr"))
        for path in ("/html", "/json"):
            assert client.get(path).headers["strict-transport-security"] == (
                "max-age=63072000; includeSubDomains"
            )

    @pytest.mark.parametrize(
        "issuer", ["http://localhost:8000", "https://localhost:8443", "https://idp.localhost"]
    )
    def test_not_for_local_issuers(self, issuer: str) -> None:
        client = make_client(make_settings(issuer=issuer))
        assert "strict-transport-security" not in client.get("/html").headers
