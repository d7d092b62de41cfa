"""EDUCONNECT_LOG_FORMAT=json: ``educonnect serve`` prints one JSON object per stdout line,
with the request id, and never a password, code or token."""

from __future__ import annotations

import json

import httpx
import pytest

from idp.services import build_state
from tests.conftest import make_settings
from tests.support import processes
from tests.support.oidc import PASSWORD, Browser, make_account, make_rp, pkce


@pytest.fixture
def server(database_url, redis_url, engine, tmp_path):
    env = processes.test_env(database_url, redis_url, EDUCONNECT_LOG_FORMAT="json")
    process = processes.serve("idp-json", env, tmp_path)
    yield process
    process.stop()


def test_every_line_is_json_without_secrets(server, database_url, redis_url):
    state = build_state(make_settings(database_url, redis_url, issuer=server.url))
    make_account(state, "j.martin")
    rp = make_rp(state, first_party=True)
    with httpx.Client(base_url=server.url, headers={"X-Request-ID": "flow-1"}) as http:
        browser = Browser(http)
        verifier, challenge = pkce()
        params = browser.code_flow(rp, code_challenge=challenge, code_challenge_method="S256")
        tokens = browser.tokens(rp, params["code"], verifier).json()
        assert "access_token" in tokens
        refreshed = http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=rp.basic,
        )
        assert refreshed.status_code == 200
        http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        browser.login("j.martin", "wrong password")
    server.stop()
    lines = [line for line in server.lines() if line.strip()]
    bad = [line for line in lines if not line.lstrip().startswith("{")]
    assert not bad, bad[:5]
    entries = [json.loads(line) for line in lines]  # every line parses
    assert entries and all({"time", "level", "event"} <= e.keys() for e in entries)
    ours = [e for e in entries if e.get("request_id") == "flow-1"]
    access = [e for e in ours if e.get("logger") == "educonnect.access"]
    assert {e["route"] for e in access} >= {"/authorize", "/login", "/token", "/userinfo"}
    assert all({"status", "duration_ms"} <= e.keys() for e in access)
    assert any(e.get("client_id") == rp.client_id for e in access)
    text = "\n".join(lines)
    secrets = [
        PASSWORD,
        "wrong password",
        params["code"],
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        refreshed.json()["refresh_token"],
        rp.secret,
        verifier,
    ]
    for secret in secrets:
        assert secret not in text
