"""argon2id verification alone, with the app's parameters: the ceiling for password logins/s.

    .venv/bin/python bench/oidc_argon2.py [--seconds 5]

``PasswordHasher.verify`` releases the GIL (argon2-cffi calls C through cffi), so two threads
use two cores; two processes are measured too.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idp.settings import Settings

PASSWORD = "correct horse battery staple"


@dataclass
class Argon2Result:
    params: dict
    single: float  # verifications/s, one thread
    threads: float  # verifications/s, ``workers`` threads
    processes: float  # verifications/s, ``workers`` processes
    workers: int
    cpu_ms: float  # CPU time per verification (all three runs)
    others: float = float("nan")  # share of the machine other jobs took meanwhile, if metered

    @property
    def best(self) -> float:
        return max(self.threads, self.processes)

    @property
    def ceiling(self) -> float:
        """Verifications/s if ``workers`` cores did nothing else."""
        return self.workers * 1000 / self.cpu_ms


def app_parameters() -> dict:
    """The parameters ``idp.accounts.passwords.Passwords`` uses by default."""
    defaults = Settings.model_fields
    return {
        "time_cost": defaults["argon2_time_cost"].default,
        "memory_cost": defaults["argon2_memory_cost"].default,
        "parallelism": defaults["argon2_parallelism"].default,
    }


def _loop(params: dict, encoded: str, seconds: float) -> int:
    hasher = PasswordHasher(**params)
    count = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        hasher.verify(encoded, PASSWORD)
        count += 1
    return count


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(seconds: float = 5.0, workers: int | None = None) -> Argon2Result:
    workers = workers or os.cpu_count() or 1
    params = app_parameters()
    encoded = PasswordHasher(**params).hash(PASSWORD)
    jobs = ([params] * workers, [encoded] * workers, [seconds] * workers)
    cpu0 = _cpu()
    single = _loop(params, encoded, seconds)
    with ThreadPoolExecutor(workers) as pool:
        threads = sum(pool.map(_loop, *jobs))
    with ProcessPoolExecutor(workers) as pool:
        processes = sum(pool.map(_loop, *jobs))
    cpu_ms = 1000 * (_cpu() - cpu0) / (single + threads + processes)
    rates = (single / seconds, threads / seconds, processes / seconds)
    return Argon2Result(params, *rates, workers=workers, cpu_ms=cpu_ms)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    r = measure(args.seconds)
    print(f"argon2id {r.params}")
    print(f"  1 thread:              {r.single:8.1f} verifications/s")
    print(f"  {r.workers} threads:             {r.threads:8.1f} verifications/s")
    print(f"  {r.workers} processes:           {r.processes:8.1f} verifications/s")
    print(
        f"  CPU per verification:  {r.cpu_ms:8.1f} ms ({r.ceiling:.1f}/s on {r.workers} free cores)"
    )


if __name__ == "__main__":
    main()
