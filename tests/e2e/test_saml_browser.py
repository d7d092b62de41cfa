"""A pupil logs in from the demo SAML SP in a real browser (Debian's Chromium, playwright-core):
login, consent, the auto-submitted POST to the SP, and the SP's page with what it verified."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from idp.demo.registry import COLLEGE_UAI, LUCAS_PASSWORD, seed_demo_registry
from idp.saml.demo_sp import ensure_demo_sp
from tests.e2e.live import LiveIdP, node_modules_ready, run_node, serve
from tests.e2e.test_browser import _chromium


@pytest.fixture
def demo_idp(database_url: str, redis_url: str | None, engine, tmp_path) -> Iterator[LiveIdP]:
    for idp in serve(database_url, redis_url, demo_enabled=True):
        seed_demo_registry(idp.state.sessions, idp.state.settings, directory=tmp_path / "demo")
        ensure_demo_sp(idp.state)
        yield idp


def test_a_pupil_logs_in_from_the_demo_saml_sp(demo_idp: LiveIdP, tmp_path: Path):
    node_modules_ready("playwright-core")
    out = run_node(
        "saml_browser_login.mjs",
        {
            "base_url": demo_idp.base_url,
            "username": "l.durand",
            "password": LUCAS_PASSWORD,
            "screenshots": str(tmp_path),
            "executable": _chromium(),
        },
        timeout=120.0,
    )
    assert [p["name"] for p in out["pages"]] == ["1-demo-sp", "2-login", "3-consent", "4-connected"]
    final = out["final"]
    seen = f"screenshots in {tmp_path}; the page says:\n{final['text']}"
    assert "Assertion reçue et vérifiée" in final["text"], seen
    assert "eleve2d" in final["text"] and COLLEGE_UAI in final["text"], seen
    assert "DURAND" in final["text"] and "Lucas" in final["text"], seen
    assert out["csp_violations"] == []
    assert out["page_errors"] == []
    assert out["failed_requests"] == []
