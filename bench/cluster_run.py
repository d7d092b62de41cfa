"""Password logins/s and client_credentials/s through HAProxy with two instances, against one
instance directly, in the same run, on PostgreSQL + Redis (issue 9 §8).

    .venv/bin/python bench/cluster_run.py                    # 10 s per scenario
    .venv/bin/python bench/cluster_run.py -d 20 --connections 16

Needs ``wrk`` and ``haproxy`` (``make bench`` and ``make haproxy`` install them), PostgreSQL
(``--database-url``, an admin URL: a fresh database is created and dropped) and Redis
(``--redis-url``). The topology is ``deploy/``'s: ``educonnect serve`` ×2 (one uvicorn worker
each) behind ``deploy/haproxy.cfg``. Load generator, balancer and servers share the machine:
on a small machine the cluster's figure shows the balancer's cost, not two machines' capacity.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oidc_report
import oidc_wrk
from oidc_flows import csrf_pair
from oidc_server import (
    PASSWORD,
    ROOT,
    SERVICE_ID,
    environment,
    free_port,
    seed,
    settings_for,
)

from idp.migrate import upgrade
from idp.services import build_state

FORM = "application/x-www-form-urlencoded"


def _database(admin_url: str) -> tuple[str, callable]:
    url = make_url(admin_url)
    name = f"educonnect_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def _wait(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def start_topology(database_url: str, redis_url: str, workdir: Path):
    lb_port = free_port()
    issuer = f"http://127.0.0.1:{lb_port}"
    env = {
        **os.environ,
        **environment(database_url, issuer),
        "EDUCONNECT_REDIS_URL": redis_url,
        "EDUCONNECT_REDIS_PREFIX": f"educonnect-bench:{os.getpid()}:",
        "EDUCONNECT_TRUSTED_PROXIES": "127.0.0.1",
    }
    processes, ports = [], []
    for name in ("idp1", "idp2"):
        port = free_port()
        log = workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(ROOT / ".venv/bin/educonnect"), "serve", "--port", str(port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        processes.append(proc)
        ports.append(port)
        _wait(f"http://127.0.0.1:{port}/ready", proc, log)
    lb_env = {
        "PATH": os.environ["PATH"],
        "LB_BIND": f"127.0.0.1:{lb_port}",
        "LB_STATS": f"127.0.0.1:{free_port()}",
        "IDP1": f"127.0.0.1:{ports[0]}",
        "IDP2": f"127.0.0.1:{ports[1]}",
    }
    log = workdir / "haproxy.log"
    with log.open("wb") as out:
        lb = subprocess.Popen(
            ["haproxy", "-db", "-f", str(ROOT / "deploy/haproxy.cfg")],
            env=lb_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    processes.append(lb)
    _wait(f"{issuer}/ready", lb, log)
    time.sleep(2.5)  # both servers checked up (rise 2, inter 1 s)
    return issuer, f"http://127.0.0.1:{ports[0]}", processes


def scenarios(base: str, seeded) -> dict:
    with httpx.Client(base_url=base) as http:
        token = csrf_pair(http)
        cookie = f"ec_csrf={http.cookies['ec_csrf']}"
    logins = [
        urlencode({"username": u, "password": PASSWORD, "csrf_token": token})
        for u in seeded.usernames
    ]
    auth = base64.b64encode(f"{SERVICE_ID}:{seeded.service_secret}".encode()).decode()
    service = {"Content-Type": FORM, "Authorization": f"Basic {auth}"}
    login = {"Content-Type": FORM, "Cookie": cookie}
    return {
        "client_credentials": ("/token", service, {"body": "grant_type=client_credentials"}),
        "login": ("/login", login, {"bodies": logins, "cycle": True}),
    }


def measure(base: str, seeded, args, workdir: Path) -> dict[str, oidc_wrk.WrkResult]:
    results = {}
    for name, (path, headers, body) in scenarios(base, seeded).items():
        connections = args.login_connections if name == "login" else args.connections
        script = oidc_wrk.lua_script(headers, **body)
        oidc_wrk.run(base + path, script, workdir, duration=args.warmup,
                     connections=connections, name=f"warm-{name}")  # fmt: skip
        results[name] = oidc_wrk.run(base + path, script, workdir, duration=args.duration,
                                     connections=connections, name=name)  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("-d", "--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--login-connections", type=int, default=4)
    args = parser.parse_args()

    database_url, drop = _database(args.database_url)
    processes = []
    try:
        with tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp:
            workdir = Path(tmp)
            upgrade(database_url)
            issuer, direct, processes = start_topology(database_url, args.redis_url, workdir)
            state = build_state(settings_for(database_url, issuer))
            seeded = seed(state, accounts=64, families=0)
            state.engine.dispose()
            rows = {}
            for label, base in (
                ("one instance, direct", direct),
                ("HAProxy + two instances", issuer),
            ):
                rows[label] = measure(base, seeded, args, workdir)
                for name, result in rows[label].items():
                    flag = (
                        "" if result.ok else f" ({result.bad} bad, {result.socket_errors} errors)"
                    )
                    print(f"{label:<26} {name:<20} {result.rps:8.1f}/s  p50 {result.p50_ms:6.1f} ms"
                          f"  p99 {result.p99_ms:6.1f} ms{flag}", flush=True)  # fmt: skip
            print("\n| setup | password logins/s | client_credentials/s |\n|---|---|---|")
            for label, results in rows.items():
                print(f"| {label} | {results['login'].rps:.1f} | "
                      f"{results['client_credentials'].rps:.1f} |")  # fmt: skip
            print("\n" + oidc_report.machine_line())
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.wait(10)
        drop()


if __name__ == "__main__":
    main()
