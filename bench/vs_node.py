"""Side by side with the certified reference: this project's token and introspection endpoints
against npm ``oidc-provider`` (in memory), one process each, the same wrk load alternated in
one run, so that the *ratios* mean something on a shared, noisy machine.

    make bench-node                      # or: .venv/bin/python bench/vs_node.py
    .venv/bin/python bench/vs_node.py --rounds 5 --duration 5 --connections 32

Both get one client with the same settings (client_secret_basic, client_credentials, allowed
to introspect). Ours is ``educonnect``'s app under uvicorn (httptools + uvloop, one worker) on
a seeded SQLite database; theirs is ``bench/node_provider.mjs``. Each round runs every
scenario against both, the order swapped every other round; the table gives each side's median
and the median of the per-round ratios. A run where either side answers anything but 2xx is
reported as failed, never as a rate.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oidc_wrk
from oidc_server import ROOT, SERVICE_ID, BenchServer, ServerConfig, free_port

FORM = "application/x-www-form-urlencoded"
NODE_SECRET = "bench-node-secret-" + "n" * 24


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass
class Target:
    name: str
    base: str
    token_path: str
    introspection_path: str
    secret: str

    def token(self) -> str:
        response = httpx.post(
            self.base + self.token_path,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(SERVICE_ID, self.secret)},
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def scenarios(self) -> dict[str, tuple[str, dict[str, str], str]]:
        headers = {"Content-Type": FORM, "Authorization": basic(SERVICE_ID, self.secret)}
        return {
            "client_credentials": (self.token_path, headers, "grant_type=client_credentials"),
            "introspection": (
                self.introspection_path,
                headers,
                urlencode({"token": self.token()}),
            ),
        }


class NodeProvider:
    def __init__(self, workdir: Path) -> None:
        if shutil.which("node") is None:
            raise SystemExit("Node.js is required")
        if not (ROOT / "node_modules" / "oidc-provider").exists():
            raise SystemExit("npm oidc-provider is missing: run `npm ci` (make setup does)")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "node.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> NodeProvider:
        script = ROOT / "bench" / "node_provider.mjs"
        args = [str(self.port), SERVICE_ID, NODE_SECRET]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["node", str(script), *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/.well-known/openid-configuration").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError(f"oidc-provider did not start: {self.log.read_text()}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    @property
    def pid(self) -> int:
        assert self.process
        return self.process.pid


def measure(target: Target, spec, args, workdir: Path) -> oidc_wrk.WrkResult:
    path, headers, body = spec
    script = oidc_wrk.lua_script(headers, body=body)
    url = target.base + path
    oidc_wrk.run(url, script, workdir, duration=1, connections=args.connections, name="warm")
    return oidc_wrk.run(
        url, script, workdir, duration=args.duration, connections=args.connections, name="run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("-c", "--connections", type=int, default=32)
    args = parser.parse_args()
    rates: dict[tuple[str, str], list[float]] = {}
    ratios: dict[str, list[float]] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vs-node-") as tmp:
        workdir = Path(tmp)
        ours_server = BenchServer(workdir, ServerConfig("httptools", "uvloop"), accounts=1)
        with ours_server as ours_proc, NodeProvider(workdir) as node:
            ours = Target("educonnect", ours_proc.issuer, "/token", "/introspect",
                          ours_proc.seeded.service_secret)  # fmt: skip
            theirs = Target("oidc-provider", node.base, "/token", "/token/introspection",
                            NODE_SECRET)  # fmt: skip
            specs = {t.name: t.scenarios() for t in (ours, theirs)}
            for round_no in range(args.rounds):
                order = (ours, theirs) if round_no % 2 == 0 else (theirs, ours)
                for scenario in ("client_credentials", "introspection"):
                    got = {}
                    for target in order:
                        result = measure(target, specs[target.name][scenario], args, workdir)
                        if not result.ok:
                            failed.append(f"{target.name} {scenario}: {result}")
                        got[target.name] = result.rps
                        rates.setdefault((scenario, target.name), []).append(result.rps)
                    ratios.setdefault(scenario, []).append(got["educonnect"] / got["oidc-provider"])
                    print(
                        f"round {round_no + 1} {scenario}: educonnect {got['educonnect']:,.0f}/s,"
                        f" oidc-provider {got['oidc-provider']:,.0f}/s,"
                        f" ratio {ratios[scenario][-1]:.2f}",
                        flush=True,
                    )
    print(
        "\n| scenario | educonnect (median/s) | oidc-provider (median/s) | ratio (median, range) |"
    )
    print("|---|---|---|---|")
    for scenario, values in ratios.items():
        mine = statistics.median(rates[(scenario, "educonnect")])
        node_rate = statistics.median(rates[(scenario, "oidc-provider")])
        print(
            f"| {scenario} | {mine:,.0f} | {node_rate:,.0f} | {statistics.median(values):.2f}"
            f" ({min(values):.2f}–{max(values):.2f}) |"
        )
    if failed:
        print("\nFAILED runs (non-2xx or socket errors):\n" + "\n".join(failed))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
