"""OIDC throughput of one uvicorn worker on SQLite: token endpoint, introspection, code flows
with an SSO session, password logins, and argon2 alone for comparison.

    .venv/bin/python bench/oidc_run.py                       # both servers, print the figures
    .venv/bin/python bench/oidc_run.py --write-doc docs/bench/oidc.md
    .venv/bin/python bench/oidc_run.py --servers h11 --only client_credentials,refresh -d 5

Needs ``wrk`` (apt-get install -y wrk). Each server configuration gets a fresh database in a
temporary directory. Load generators share the machine with the server: wrk with one thread,
the code-flow driver with ``--flow-procs`` processes of ``--flow-threads`` threads. Besides the
rate, each scenario reports the server's CPU time per request and how much CPU other people's
jobs took meanwhile (bench/oidc_meter.py).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oidc_argon2
import oidc_report
import oidc_wrk
from oidc_flows import code_flows, csrf_pair
from oidc_meter import Meter
from oidc_server import PASSWORD, RP_ID, SERVICE_ID, BenchServer, ServerConfig

SCENARIOS = ["client_credentials", "introspection", "refresh", "code_flow", "login"]
SERVERS = {"h11": ServerConfig("h11", "asyncio"), "httptools": ServerConfig("httptools", "uvloop")}
FORM = "application/x-www-form-urlencoded"
#: The meter leaves out the first and last moments of a run (connections opening, closing).
EDGE = 0.4


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def wrk_scenarios(server: BenchServer, args, workdir: Path) -> dict:
    """path, headers, measured bodies, warm-up bodies ({} = the measured ones) per scenario."""
    seeded = server.seeded
    access, _ = seeded.families[0]
    refresh = [
        urlencode({"grant_type": "refresh_token", "refresh_token": r})
        for _, r in seeded.families[1:]
    ]
    warm = int(args.warmup * args.refresh_budget)
    with httpx.Client(base_url=server.issuer) as http:
        token = csrf_pair(http)
        cookie = f"ec_csrf={http.cookies['ec_csrf']}"
    logins = [
        urlencode({"username": u, "password": PASSWORD, "csrf_token": token})
        for u in seeded.usernames
    ]
    rp = {"Content-Type": FORM, "Authorization": basic(RP_ID, seeded.rp_secret)}
    svc = {"Content-Type": FORM, "Authorization": basic(SERVICE_ID, seeded.service_secret)}
    login_headers = {"Content-Type": FORM, "Cookie": cookie}
    return {
        "client_credentials": ("/token", svc, {"body": "grant_type=client_credentials"}, {}),
        "introspection": ("/introspect", rp, {"body": urlencode({"token": access})}, {}),
        "refresh": ("/token", rp, {"bodies": refresh[warm:]}, {"bodies": refresh[:warm]}),
        # Logins cycle through 64 accounts (per-account throttling allows 5 attempts in flight).
        "login": ("/login", login_headers, {"bodies": logins, "cycle": True}, {}),
    }


def run_wrk(server: BenchServer, name: str, spec: tuple, args, workdir: Path):
    path, headers, measured, warmup = spec
    connections = args.login_connections if name == "login" else args.connections
    url = server.issuer + path
    warm = oidc_wrk.lua_script(headers, **(warmup or measured))
    oidc_wrk.run(url, warm, workdir, duration=args.warmup, connections=connections, name="warm")
    script = oidc_wrk.lua_script(headers, **measured)
    now = time.monotonic()
    meter = Meter(server.pid).window(now + EDGE, now + args.duration - EDGE)
    result = oidc_wrk.run(
        url, script, workdir, duration=args.duration, connections=connections, name=name
    )
    return result, meter.result()


def run_flows(server: BenchServer, args):
    settle = 3.0  # the driver's clients log in (argon2) before the common start
    now = time.monotonic()
    meter = Meter(server.pid).window(now + settle + EDGE, now + settle + args.duration - EDGE)
    result = code_flows(
        server.issuer,
        RP_ID,
        server.seeded.rp_secret,
        server.seeded.usernames,
        PASSWORD,
        duration=args.duration,
        processes=args.flow_procs,
        threads=args.flow_threads,
        settle=settle,
    )
    return result, meter.result()


def run_server(label: str, args) -> dict[str, oidc_report.Measured]:
    config = dataclasses.replace(SERVERS[label], variants=tuple(args.variants))
    results: dict[str, oidc_report.Measured] = {}
    families = 1
    if "refresh" in args.only:
        families += int((args.duration + args.warmup) * args.refresh_budget)
    with tempfile.TemporaryDirectory(prefix=f"oidc-bench-{label}-") as tmp:
        workdir = Path(tmp)
        began = time.monotonic()
        server = BenchServer(workdir, config, accounts=64, families=families)
        seeding = time.monotonic() - began
        print(f"[{config.label}] seeded {families} token families in {seeding:.1f} s", flush=True)
        with server:
            specs = wrk_scenarios(server, args, workdir)
            for name in args.only:
                idle = oidc_report.wait_until_idle(args.idle, args.patience)
                if name == "code_flow":
                    result, usage = run_flows(server, args)
                else:
                    result, usage = run_wrk(server, name, specs[name], args, workdir)
                results[name] = measured = oidc_report.Measured(result, usage, idle)
                print(f"[{config.label}] {oidc_report.line(name, measured)}", flush=True)
                if not result.ok:
                    print(f"[{config.label}] server log:\n{server.log_tail()}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("-d", "--duration", type=float, default=10.0, help="seconds per scenario")
    add("--warmup", type=float, default=2.0, help="seconds of warm-up per scenario")
    add("--servers", default="h11,httptools", help="h11 (h11 + asyncio), httptools (+ uvloop)")
    add("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    add("-c", "--connections", type=int, default=16, help="wrk connections")
    add("--login-connections", type=int, default=4)
    add("--flow-procs", type=int, default=2)
    add("--flow-threads", type=int, default=4)
    add("--refresh-budget", type=int, default=2500, help="refresh tokens seeded per second of run")
    add("--argon2-seconds", type=float, default=5.0)
    add("--variants", default="", help="what-if changes (bench/oidc_variants.py)")
    add("--idle", type=float, default=0.9, help="wait for this idle share before each scenario")
    add("--patience", type=float, default=120.0, help="… but no longer than this (seconds)")
    add("--write-doc", type=Path, help="update the generated block of this Markdown file")
    args = parser.parse_args()
    args.only = [s for s in args.only.split(",") if s]
    args.variants = [v for v in args.variants.split(",") if v]
    if args.write_doc and args.variants:
        parser.error("--write-doc records the app as it is: run without --variants")
    if set(args.only) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {sorted(set(args.only) - set(SCENARIOS))}")
    # Stop the servers (context managers) on SIGTERM too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print(oidc_report.machine_line(), flush=True)
    argon2 = None
    if "login" in args.only:
        oidc_report.wait_until_idle(args.idle, args.patience)
        now = time.monotonic()
        # Three runs of --argon2-seconds: 1 thread, N threads, N processes.
        meter = Meter(os.getpid()).window(now, now + 3 * args.argon2_seconds)
        argon2 = oidc_argon2.measure(args.argon2_seconds)
        usage = meter.result()
        argon2.others = usage.share(usage.others) if usage else float("nan")
        print(oidc_report.argon2_line(argon2), flush=True)
    results = {label: run_server(label, args) for label in args.servers.split(",")}
    report = oidc_report.markdown(results, argon2, args)
    print()
    print(report)
    if args.write_doc:
        oidc_report.update_doc(args.write_doc, report)
        print(f"updated {args.write_doc}")


if __name__ == "__main__":
    main()
