"""The worker's loops: started and stopped cleanly, in-process in development, ``--once``."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner
from starlette.testclient import TestClient

from idp.app import create_app
from idp.settings import Settings
from idp.worker.cli import worker_command
from idp.worker.runner import JOBS, Worker
from tests.outbox.conftest import queue_sms


def _states(state) -> set[str]:
    from idp.outbox.models import OutboxMessage

    with state.sessions() as db:
        return {m.state for m in db.query(OutboxMessage)}


def _until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_loops_deliver_and_stop(state):
    queue_sms(state, 3)
    worker = Worker(state, poll=0.05)
    worker.start()
    try:
        assert _until(lambda: _states(state) == {"sent"})
    finally:
        worker.stop(timeout=10)
    assert worker.stopping.is_set()


def test_the_default_jobs():
    assert [job.name for job in JOBS] == ["janitor", "stats-snapshot"]


def test_development_serves_everything_from_one_process(settings, engine):
    """``make run``: the embedded default runs the worker inside ``serve``."""
    values = {**settings.model_dump(), "env": "development"}
    development = Settings(**values)
    assert development.runs_worker_in_process
    app = create_app(development)
    with TestClient(app, base_url="http://localhost"):
        state = app.state.idp
        queue_sms(state)
        assert _until(lambda: _states(state) == {"sent"})


def test_serve_leaves_background_work_to_workers_elsewhere(settings, engine):
    assert not settings.runs_worker_in_process  # env=test, like production
    app = create_app(settings)
    with TestClient(app, base_url="http://localhost"):
        state = app.state.idp
        queue_sms(state)
        time.sleep(1.5)  # longer than a worker's poll: nothing in this process delivers
        assert _states(state) == {"pending"}


def test_once(state, settings, monkeypatch):
    queue_sms(state, 2)
    for name in ("env", "database_url", "secret_key", "key_encryption_key", "issuer"):
        monkeypatch.setenv(f"EDUCONNECT_{name.upper()}", str(getattr(settings, name)))
    result = CliRunner().invoke(worker_command, ["--once", "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.output.strip().splitlines()[-1])
    assert done == {"delivered": 2, "jobs": ["janitor", "stats-snapshot"]}
    assert _states(state) == {"sent"}
