"""Import the synthetic academy into SQLite and PostgreSQL; time it twice (full, unchanged).

    .venv/bin/python bench/registry_generate.py var/bench/academy
    .venv/bin/python bench/registry_import.py var/bench/academy [--backend sqlite|postgresql]

Each backend runs in its own process, so the peak memory (``ru_maxrss``) is that backend's.
By default files are read one ahead in a worker process (``import_many``); ``--sequential``
reads and writes in turn, as ``educonnect import`` does for one file.
The SQLite database is left at ``<dir>/registry.db`` and PostgreSQL's in database
``bench_registry`` (recreated), for ``bench/registry_claims.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from idp.clock import Clock
from idp.db import make_engine, make_session_factory
from idp.migrate import upgrade
from idp.registry.records import KINDS, empty_counts
from idp.registry.runs import ImportJob, import_many, run_job

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DATABASE = "bench_registry"


def database_url(backend: str, directory: Path) -> str:
    if backend == "sqlite":
        path = directory / "registry.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return make_url(PG_SERVER).set(database=PG_DATABASE).render_as_string(hide_password=False)


def jobs(directory: Path) -> list[ImportJob]:
    found = []
    for eleves in sorted((directory / "siecle").glob("ElevesSansAdresses_*.xml")):
        name = eleves.name.replace("ElevesSansAdresses", "ResponsablesAvecAdresses")
        found.append(ImportJob.siecle(eleves, eleves.with_name(name)))
    found += [ImportJob.onde(path) for path in sorted((directory / "onde").glob("*.csv"))]
    return found


def cpu_seconds() -> float:
    """CPU used by this process and its finished children (the reader worker)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def import_all(sessions, directory: Path, pipelined: bool) -> tuple[float, dict]:
    """Every file of the academy, one transaction each; read-ahead in a worker if pipelined."""
    started = time.perf_counter()
    cpu = cpu_seconds()
    load = os.getloadavg()[0]
    if pipelined:
        results = list(import_many(sessions, jobs(directory)))
    else:
        results = [run_job(sessions, job, clock=Clock()) for job in jobs(directory)]
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    load = max(load, os.getloadavg()[0])
    totals = empty_counts()
    issues = 0
    for result in results:
        assert result.ok, result.issues[:3]
        issues += len(result.issues)
        for kind in KINDS:
            for name, value in result.counts[kind].items():
                totals[kind][name] += value
    summary = {"counts": totals, "issues": issues, "runs": len(results)}
    return elapsed, summary | {"cpu_s": round(cpu, 1), "load": round(load, 1)}


def run_backend(backend: str, directory: Path, pipelined: bool) -> dict:
    url = database_url(backend, directory)
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    full, first = import_all(sessions, directory, pipelined)
    again, second = import_all(sessions, directory, pipelined)
    engine.dispose()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "backend": backend,
        "mode": "pipelined" if pipelined else "sequential",
        "full_import_s": round(full, 1),
        "unchanged_reimport_s": round(again, 1),
        "peak_rss_mib": round(peak_mib),
        "first": first,
        "second": second,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--sequential", action="store_true", help="no read-ahead worker")
    args = parser.parse_args()
    if args.backend:
        print(json.dumps(run_backend(args.backend, args.directory, not args.sequential)))
        return
    mode = ["--sequential"] if args.sequential else []
    for backend in ("sqlite", "postgresql"):
        out = subprocess.run(
            [sys.executable, __file__, str(args.directory), "--backend", backend, *mode],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        report = json.loads(out.strip().splitlines()[-1])
        first, second = report["first"]["counts"], report["second"]["counts"]
        print(
            f"{backend:10}  full import {report['full_import_s']:6.1f} s   "
            f"unchanged re-import {report['unchanged_reimport_s']:6.1f} s   "
            f"peak RSS {report['peak_rss_mib']} MiB  [{report['mode']}]"
        )
        print(
            f"            client CPU {report['first']['cpu_s']} s / {report['second']['cpu_s']} s, "
            f"load average up to {report['first']['load']} / {report['second']['load']} "
            "(other processes on the machine)"
        )
        print(
            f"            first run:  { {k: v['created'] for k, v in first.items()} } created, "
            f"{report['first']['issues']} issues in {report['first']['runs']} runs"
        )
        print(
            f"            second run: { {k: v['unchanged'] for k, v in second.items()} } unchanged"
        )


if __name__ == "__main__":
    main()
