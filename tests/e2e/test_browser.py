"""The demo relying party in a real browser (Chromium driven by playwright-core).

A person opens /demo, clicks "Se connecter avec ÉduConnect", types an identifier and a password,
accepts the consent page and comes back connected. Along the way: no Content-Security-Policy
violation, no failed request, and the DSFR stylesheet and fonts in use.

Chromium is the system's (Debian package ``chromium``); ``EDUCONNECT_CHROMIUM`` may name another
executable. Screenshots are kept in the test's tmp directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from idp.demo.seed import ensure_demo_client
from tests.e2e.live import LiveIdP, node_modules_ready, run_node, serve
from tests.support.oidc import PASSWORD, make_account

BLUE_FRANCE = "rgb(0, 0, 145)"  # DSFR's primary button background, #000091


def _chromium() -> str:
    path = os.environ.get("EDUCONNECT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Chromium is required for the browser test: "
            "apt-get install -y --no-install-recommends chromium (or set EDUCONNECT_CHROMIUM)"
        )
    return path


@pytest.fixture
def demo_idp(database_url: str, redis_url: str | None, engine) -> Iterator[LiveIdP]:
    for idp in serve(database_url, redis_url, demo_enabled=True):
        ensure_demo_client(idp.state)
        yield idp


def test_a_person_logs_in_to_the_demo_service(demo_idp: LiveIdP, tmp_path: Path):
    node_modules_ready("playwright-core")
    make_account(demo_idp.state, "j.martin")
    out = run_node(
        "browser_login.mjs",
        {
            "base_url": demo_idp.base_url,
            "username": "j.martin",
            "password": PASSWORD,
            "screenshots": str(tmp_path),
            "executable": _chromium(),
        },
    )

    assert [p["name"] for p in out["pages"]] == ["1-demo", "2-login", "3-consent", "4-connected"]
    for page in out["pages"]:
        assert Path(page["screenshot"]).stat().st_size > 10_000, page
    titles = {p["name"]: p["title"] for p in out["pages"]}
    assert titles["2-login"] == "Connexion - ÉduConnect"
    assert titles["3-consent"] == "Autorisation - ÉduConnect"

    final = out["final"]
    seen = f"screenshots in {tmp_path}; the page says:\n{final['text']}"
    assert final["url"].startswith(f"{demo_idp.base_url}/demo"), seen
    assert "Connecté" in final["text"], seen
    assert "Bonjour Jeanne Martin." in final["text"], seen

    assert out["csp_violations"] == []
    assert [c for c in out["console"] if c["type"] == "error"] == []
    assert out["page_errors"] == []
    assert out["failed_requests"] == []

    styles = out["styles"]
    assert f"{demo_idp.base_url}/static/dsfr/dsfr.min.css" in styles["stylesheets"]
    assert styles["body_font"].startswith("Marianne"), styles
    assert styles["marianne_loaded"] is True, styles
    assert styles["button_background"] == BLUE_FRANCE, styles
