"""Where one worker spends its time under a wrk scenario of bench/oidc_run.py, by py-spy.

    .venv/bin/pip install py-spy
    .venv/bin/python bench/oidc_profile.py client_credentials [-d 10] [--server h11] [--gil]

Samples the server process (every thread) while wrk runs, keeps the collapsed stacks in
``var/bench/`` and prints the functions with the largest inclusive and self shares of the busy
samples (threads waiting for work are left out). ``--gil`` keeps only the thread holding the GIL:
what the one worker's Python actually executes, without threads waiting for the GIL in C calls.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oidc_run
import oidc_wrk
from oidc_server import ROOT, BenchServer

OUT = ROOT / "var" / "bench"


#: Leaf frames of a thread that waits (thread-pool workers, the event loop's select).
IDLE = {
    "threading.py:Condition.wait",
    "selectors.py:EpollSelector.select",
    "uvloop/__init__.py:run",
}


def summarize(collapsed: Path, top: int) -> str:
    """Inclusive and self shares per function (``file:function``) of the busy samples, from
    py-spy's raw format."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for raw in collapsed.read_text().splitlines():
        stack, _, count_text = raw.rpartition(" ")
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";") if f]
        if not frames or frames[-1] in IDLE:
            idle += count
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"{total} busy samples ({idle} idle ones left out)", "", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def _name(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "module.py:function"
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    marker = "site-packages/"
    if marker in path:
        path = path.split(marker, 1)[1]
    elif str(ROOT) in path:
        path = path.split(str(ROOT) + "/", 1)[1]
    return f"{path}:{function}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "scenario", choices=["client_credentials", "introspection", "refresh", "login"]
    )
    parser.add_argument("-d", "--duration", type=float, default=10.0)
    parser.add_argument("--server", choices=list(oidc_run.SERVERS), default="h11")
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--gil", action="store_true", help="only the thread holding the GIL")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    # What oidc_run.wrk_scenarios expects from its arguments.
    args.warmup, args.refresh_budget, args.login_connections = 1.0, 2500, 4
    OUT.mkdir(parents=True, exist_ok=True)
    families = (
        1 + int((args.duration + 2) * args.refresh_budget) if args.scenario == "refresh" else 1
    )
    with tempfile.TemporaryDirectory(prefix="oidc-profile-") as tmp:
        workdir = Path(tmp)
        server = BenchServer(workdir, oidc_run.SERVERS[args.server], accounts=64, families=families)
        with server:
            path, headers, measured, _ = oidc_run.wrk_scenarios(server, args, workdir)[
                args.scenario
            ]
            script = oidc_wrk.lua_script(headers, **measured)
            suffix = "-gil" if args.gil else ""
            collapsed = OUT / f"profile-{args.scenario}-{args.server}{suffix}.txt"
            record = [
                spy,
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(args.duration)),
            ]
            # --nonblocking: do not pause the server for each sample (it would halve its rate).
            record += ["--rate", "200", "--nonblocking", "--format", "raw", "-o", str(collapsed)]
            record += ["--gil"] if args.gil else []
            spy_process = subprocess.Popen(record, stdout=subprocess.DEVNULL)
            result: list = []
            load = threading.Thread(
                target=lambda: result.append(
                    oidc_wrk.run(
                        server.issuer + path,
                        script,
                        workdir,
                        duration=args.duration + 1,
                        connections=args.connections if args.scenario != "login" else 4,
                        name=args.scenario,
                    )
                )
            )
            load.start()
            spy_process.wait()
            load.join()
    rps = result[0].rps
    print(f"{args.scenario} on {args.server}: {rps:.0f}/s while sampled (py-spy slows it down)")
    print(f"collapsed stacks (for speedscope.app or flamegraph.pl): {collapsed}\n")
    print(summarize(collapsed, args.top))


if __name__ == "__main__":
    main()
