"""Two ``educonnect serve`` processes and the worker behind HAProxy (``deploy/haproxy.cfg``),
on the suite's PostgreSQL and Redis: the topology of ``deploy/compose.yaml``, on one machine."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support import processes

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"


@dataclass
class Cluster:
    url: str
    instances: list[processes.Process]
    balancer: processes.Process
    worker: processes.Process
    receiver: LogoutReceiver
    env: dict[str, str] = field(default_factory=dict)

    def all(self) -> list[processes.Process]:
        return [*self.instances, self.balancer, self.worker]


class LogoutReceiver:
    """A relying party's back-channel logout endpoint: records every logout token POSTed."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                from urllib.parse import parse_qs

                receiver.tokens.extend(parse_qs(body).get("logout_token", []))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_cluster(database_url: str, redis_url: str, logdir: Path) -> Cluster:
    if shutil.which("haproxy") is None:
        pytest.fail("HAProxy is required for the multi-instance test: run `make haproxy`")
    lb_port = processes.free_port()
    url = f"http://127.0.0.1:{lb_port}"
    env = processes.test_env(
        database_url,
        redis_url,
        EDUCONNECT_ISSUER=url,
        EDUCONNECT_TRUSTED_PROXIES="127.0.0.1",
        EDUCONNECT_LOG_FORMAT="json",
    )
    receiver = LogoutReceiver()
    started: list[processes.Process] = []
    try:
        for name in ("idp1", "idp2"):
            started.append(processes.serve(name, env, logdir))
        worker = processes.start("worker", ["worker"], env, logdir)
        started.append(worker)
        balancer = _haproxy(lb_port, started[0].port, started[1].port, logdir)
        started.append(balancer)
        return Cluster(url, started[:2], balancer, worker, receiver, env)
    except BaseException:
        for process in started:
            process.kill()
        receiver.close()
        raise


def _haproxy(port: int, idp1: int | None, idp2: int | None, logdir: Path) -> processes.Process:
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LB_BIND": f"127.0.0.1:{port}",
        "LB_STATS": f"127.0.0.1:{processes.free_port()}",
        "IDP1": f"127.0.0.1:{idp1}",
        "IDP2": f"127.0.0.1:{idp2}",
    }
    log = logdir / "haproxy.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            ["haproxy", "-db", "-f", str(HAPROXY_CFG)], env=env, stdout=out, stderr=out
        )
    balancer = processes.Process("haproxy", popen, log, port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # both instances checked up
        if popen.poll() is not None:
            raise RuntimeError("haproxy exited:\n" + log.read_text())
        try:
            seen = {httpx.get(balancer.url + "/ready").headers.get("x-served-by") for _ in range(4)}
            if seen == {"idp1", "idp2"}:
                return balancer
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("haproxy did not see both instances up:\n" + log.read_text())


def stop_cluster(cluster: Cluster) -> None:
    for process in cluster.all():
        process.stop()
    cluster.receiver.close()


def describe(cluster: Cluster) -> str:
    """The last lines each process printed, for a failing assertion."""
    parts = []
    for process in cluster.all():
        parts.append(f"--- {process.name}\n" + "\n".join(process.lines()[-15:]))
    return "\n".join(parts)


def json_lines(process: processes.Process) -> list[dict]:
    entries = []
    for line in process.lines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
