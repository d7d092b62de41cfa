"""Helpers of the end-to-end tests: the real app served over HTTP, and a runner for the Node.js
drivers next to the tests.

The drivers are ES modules; their packages (``openid-client``, ``playwright-core``) are
devDependencies in ``package.json``, installed by ``npm ci`` (``make test`` runs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from idp.app import create_app
from idp.state import AppState
from tests.conftest import make_settings
from tests.support.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent


@dataclass
class LiveIdP:
    base_url: str
    state: AppState


def serve(database_url: str, redis_url: str | None, **overrides) -> Iterator[LiveIdP]:
    """``create_app`` over real HTTP, its issuer being the server's own URL."""
    holder: dict[str, AppState] = {}

    def factory(base_url: str):
        settings = make_settings(database_url, redis_url, issuer=base_url, **overrides)
        app = create_app(settings, background=False)
        holder["state"] = app.state.idp
        return app

    with live_server(factory=factory) as base_url:
        yield LiveIdP(base_url, holder["state"])


def node_modules_ready(*packages: str) -> None:
    """Fail with the command to run when Node.js or a devDependency is missing."""
    if shutil.which("node") is None:
        pytest.fail("Node.js is required for the end-to-end tests (it also builds the assets).")
    missing = [p for p in packages if not (ROOT / "node_modules" / p / "package.json").exists()]
    if missing:
        pytest.fail(f"missing npm packages {missing}: run `npm ci` (make test does)")


def run_node(script: str, config: dict, timeout: float = 60.0) -> dict:
    """Run ``tests/e2e/<script>`` with ``config`` as JSON on stdin; return its JSON output.
    A failure fails the test with everything the script printed."""
    try:
        done = subprocess.run(
            ["node", str(E2E / script)],
            input=json.dumps(config),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} timed out after {timeout} s\n{exc.stderr or ''}\n{exc.stdout or ''}")
    if done.returncode != 0:
        pytest.fail(
            f"{script} exited with {done.returncode}\n{done.stderr}\n{done.stdout}", pytrace=False
        )
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{script} printed no JSON:\n{done.stdout}\n{done.stderr}")
