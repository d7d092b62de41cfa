"""The ``educonnect`` command (DESIGN.md §5), run in a subprocess like an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from idp.settings import REPO_ROOT


@pytest.fixture
def run(database_url, tmp_path, engine):
    # ``engine``: the tables are emptied after each command test (keys signed with this KEK
    # must not outlive it and break the next test on the same database).
    env = {
        **os.environ,
        "EDUCONNECT_DATABASE_URL": database_url,
        "EDUCONNECT_SECRET_KEY": "cli-test-" + "s" * 32,
        "EDUCONNECT_KEY_ENCRYPTION_KEY": "cli-test-" + "k" * 32,
        "EDUCONNECT_PAIRWISE_KEY": "cli-test-" + "p" * 32,
        "EDUCONNECT_ARGON2_TIME_COST": "1",
        "EDUCONNECT_ARGON2_MEMORY_COST": "1024",
        "EDUCONNECT_ENV": "test",
    }

    def call(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "idp.cli", *args],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return call


def test_db_upgrade(run):
    assert "head" in run("db", "upgrade").stderr


def test_clients_create_confidential(run, engine):
    out = json.loads(
        run(
            "clients",
            "create",
            "--name",
            "LSUN",
            "--redirect-uri",
            "https://lsun.example.fr/cb",
            "--post-logout-redirect-uri",
            "https://lsun.example.fr/bye",
            "--scope",
            "openid",
            "--scope",
            "children",
            "--json",
        ).stdout
    )
    assert out["client_id"] and len(out["client_secret"]) >= 40
    from sqlalchemy import text

    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT secret_hash FROM oauth_clients WHERE client_id = :c"),
            {"c": out["client_id"]},
        ).scalar_one()
    assert out["client_secret"] not in stored  # hashed


def test_clients_create_public(run):
    out = json.loads(
        run(
            "clients",
            "create",
            "--name",
            "SPA",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--public",
            "--json",
        ).stdout
    )
    assert "client_secret" not in out


def test_clients_create_rejects_bad_input(run):
    result = run(
        "clients", "create", "--name", "Bad", "--redirect-uri", "http://evil.example/cb", ok=False
    )
    assert result.returncode != 0 and "https" in result.stderr
    result = run(
        "clients",
        "create",
        "--name",
        "Bad",
        "--redirect-uri",
        "https://a.example/cb",
        "--scope",
        "nope",
        ok=False,
    )
    assert result.returncode != 0 and "unknown scope" in result.stderr


def test_keys_rotate(run):
    first = json.loads(run("keys", "rotate", "--json").stdout)["active"]
    second = json.loads(run("keys", "rotate", "--json").stdout)["active"]
    assert len(first) == 2 and set(first).isdisjoint(second)
