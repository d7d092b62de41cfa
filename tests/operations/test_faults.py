"""Dependencies down: 503 with Retry-After, one log line per outage change, start without a
database and become ready when it appears; Redis down fails closed."""

from __future__ import annotations

import logging
import shutil

import pytest
from starlette.testclient import TestClient

from idp.app import create_app
from idp.migrate import upgrade
from tests.conftest import make_settings
from tests.support.oidc import csrf_of

CLOSED_PORT = "127.0.0.1:9"  # discard: nothing listens here


@pytest.fixture
def missing_db(tmp_path):
    """A SQLite database that cannot be opened (its path is a directory) until ``appear``."""
    path = tmp_path / "later.db"
    path.mkdir()
    url = f"sqlite:///{path}"

    def appear() -> None:
        shutil.rmtree(path)
        upgrade(url)

    return url, appear


def _token_request(client):
    return client.post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=("some-client", "some-secret"),
    )


class TestDatabaseDown:
    def test_starts_without_a_database_and_becomes_ready(self, missing_db, caplog):
        url, appear = missing_db
        app = create_app(make_settings(url, None), background=False)
        with TestClient(app, base_url="http://localhost") as client:  # no crash at start
            assert client.get("/health").status_code == 200
            assert client.get("/ready").status_code == 503
            appear()
            assert client.get("/ready").status_code == 200
            jwks = client.get("/jwks")  # keys created on first use
            assert jwks.status_code == 200 and len(jwks.json()["keys"]) == 2

    def test_oauth_endpoints_answer_503_temporarily_unavailable(self, missing_db):
        url, _ = missing_db
        app = create_app(make_settings(url, None), background=False)
        with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as c:
            for response in (
                _token_request(c),
                c.post("/introspect", data={"token": "x"}, auth=("a", "b")),
                c.get("/userinfo", headers={"Authorization": "Bearer x"}),
                c.get("/jwks"),
            ):
                assert response.status_code == 503, response.text
                assert response.json()["error"] == "temporarily_unavailable"
                assert int(response.headers["Retry-After"]) > 0

    def test_pages_answer_a_french_503_page(self, missing_db):
        url, _ = missing_db
        app = create_app(make_settings(url, None), background=False)
        with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as c:
            page = c.get("/authorize?client_id=x&response_type=code&redirect_uri=http://a/")
            assert page.status_code == 503 and "Retry-After" in page.headers
            assert "Service momentanément indisponible" in page.text
            form = c.get("/login")
            login = c.post(
                "/login",
                data={"username": "a", "password": "b", "csrf_token": csrf_of(form.text)},
            )
            assert login.status_code == 503 and "Service momentanément" in login.text

    def test_one_log_line_per_outage_change_and_no_traceback(self, missing_db, caplog):
        url, appear = missing_db
        app = create_app(make_settings(url, None), background=False)
        with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as c:
            caplog.clear()
            with caplog.at_level(logging.INFO):
                for _ in range(20):
                    assert _token_request(c).status_code == 503
                appear()
                c.get("/ready")
                assert c.get("/jwks").status_code == 200
        faults = [r for r in caplog.records if r.name == "educonnect.faults"]
        assert [r.levelname for r in faults] == ["ERROR", "WARNING"], faults
        assert "unreachable" in faults[0].getMessage() and "again" in faults[1].getMessage()
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


class TestRedisDown:
    def test_login_fails_closed_with_a_clear_503(self, settings, engine):
        down = make_settings(settings.database_url, f"redis://{CLOSED_PORT}/0")
        app = create_app(down, background=False)
        with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as c:
            ready = c.get("/ready")
            assert ready.status_code == 503 and "redis" in ready.json()["checks"]
            page = c.get("/login")
            response = c.post(
                "/login",
                data={
                    "username": "j.martin",
                    "password": "whatever",
                    "csrf_token": csrf_of(page.text) if page.status_code == 200 else "",
                },
                follow_redirects=False,
            )
            assert response.status_code == 503  # never a login let through unthrottled
            assert "Service momentanément indisponible" in response.text
