"""Real ``educonnect`` processes for tests: ``serve`` on a free port, ``worker``; output kept in
a file so a test can read every line the process printed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
EDUCONNECT = ROOT / ".venv" / "bin" / "educonnect"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_env(database_url: str, redis_url: str | None, **values: str) -> dict[str, str]:
    """The environment of a test process: the suite's settings (cheap argon2, fixed secrets)."""
    from tests.conftest import make_settings

    settings = make_settings(database_url, redis_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDUCONNECT_", "OTEL_"))}
    env.update(
        EDUCONNECT_ENV="test",
        EDUCONNECT_DATABASE_URL=database_url,
        EDUCONNECT_SECRET_KEY=settings.secret_key or "",
        EDUCONNECT_KEY_ENCRYPTION_KEY=settings.key_encryption_key or "",
        EDUCONNECT_ARGON2_TIME_COST=str(settings.argon2_time_cost),
        EDUCONNECT_ARGON2_MEMORY_COST=str(settings.argon2_memory_cost),
        EDUCONNECT_REDIS_PREFIX=settings.redis_prefix,
        EDUCONNECT_DEMO_ENABLED="false",
        PYTHONUNBUFFERED="1",  # a test reads the log while the process runs
    )
    if redis_url:
        env["EDUCONNECT_REDIS_URL"] = redis_url
    env.update(values)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def kill(self) -> None:
        """Abrupt end (SIGKILL), as a crashed instance."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start(name: str, args: list[str], env: dict[str, str], logdir: Path) -> Process:
    log = logdir / f"{name}.log"
    out = log.open("wb")
    popen = subprocess.Popen(
        [str(EDUCONNECT), *args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
    )
    out.close()
    return Process(name, popen, log)


def serve(name: str, env: dict[str, str], logdir: Path, port: int | None = None) -> Process:
    port = port or free_port()
    env = {**env, "EDUCONNECT_ISSUER": env.get("EDUCONNECT_ISSUER", f"http://127.0.0.1:{port}")}
    process = start(name, ["serve", "--port", str(port)], env, logdir)
    process.port = port
    wait_ready(process)
    return process


def wait_ready(process: Process, timeout: float = 30.0, path: str = "/ready") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n" + "\n".join(process.lines()[-30:]))
        try:
            if httpx.get(process.url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{process.name} not ready:\n" + "\n".join(process.lines()[-30:]))
