"""The worker: a delivery loop and a periodic-jobs loop, each in its own thread, so a long
janitor run never delays an SMS code.

- Delivery: deliver every due outbox message, then wait ``poll`` seconds (or until stopped).
- Jobs: every ``JOB_POLL`` seconds, run each job whose lease this worker takes
  (``idp.worker.leases``): the janitor every five minutes, the statistics snapshot every ten.

``stop()`` (SIGTERM/SIGINT in ``educonnect worker``) lets the current delivery and the current
job finish, releases the job leases and returns; nothing is claimed after it. A worker killed
outright loses nothing: its claimed message and its job lease expire and are taken again.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from idp.admin.stats import snapshot
from idp.db import transaction
from idp.janitor import run_janitor
from idp.state import AppState
from idp.worker import leases
from idp.worker.delivery import Deliverer

log = logging.getLogger("educonnect.worker")

#: How often the jobs loop looks for a due job; a failing loop waits ``RETRY`` polls.
JOB_POLL = 15.0
RETRY = 5


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[AppState], object]
    #: Longer than the job ever takes: a worker that died mid-run frees it after this.
    ttl: timedelta = timedelta(minutes=30)


def _janitor(state: AppState) -> object:
    return run_janitor(state, snapshot=False)


def _snapshot(state: AppState) -> object:
    return snapshot.refresh_if_stale(state)


JOBS = (
    Job("janitor", timedelta(minutes=5), _janitor),
    Job("stats-snapshot", timedelta(minutes=10), _snapshot),
)


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    def __init__(
        self,
        state: AppState,
        *,
        jobs: tuple[Job, ...] = JOBS,
        poll: float = 1.0,
        deliverer: Deliverer | None = None,
    ) -> None:
        self.state = state
        self.jobs = jobs
        self.poll = poll
        self.id = worker_id()
        self.deliverer = deliverer or Deliverer(state)
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- one round of each, for ``--once`` and tests ------------------------------------------
    def deliver(self) -> int:
        return self.deliverer.deliver_due(self.stopping)

    def run_jobs(self) -> list[str]:
        """Run every job whose lease this worker takes now; return their names."""
        ran = []
        for job in self.jobs:
            if self.stopping.is_set():
                break
            with transaction(self.state.sessions) as db:
                now = self.state.clock.now()
                if not leases.acquire(db, job.name, self.id, now, job.every, job.ttl):
                    continue
            error = None
            try:
                result = job.run(self.state)
                log.info("job %s done: %s", job.name, result)
            except Exception as exc:  # recorded on the lease row; the next period retries
                log.exception("job %s failed", job.name)
                error = f"{type(exc).__name__}: {exc}"[:500]
            with transaction(self.state.sessions) as db:
                leases.release(db, job.name, self.id, self.state.clock.now(), error)
            ran.append(job.name)
        return ran

    # -- the loops -----------------------------------------------------------------------------
    def _loop(self, name: str, step: Callable[[], object], every: float) -> None:
        while not self.stopping.is_set():
            try:
                busy = step()
                pause = 0.0 if busy and name == "delivery" else every
            except Exception:  # the database is away, say: keep the loop, wait longer
                log.exception("worker %s loop failed", name)
                pause = every * RETRY
            self.stopping.wait(pause)

    def start(self) -> None:
        """Run both loops in background threads."""
        loops = {"delivery": (self.deliver, self.poll), "jobs": (self.run_jobs, JOB_POLL)}
        for name, (step, every) in loops.items():
            thread = threading.Thread(
                target=self._loop, args=(name, step, every), name=f"worker-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        log.info("worker %s started", self.id)

    def stop(self, timeout: float | None = None) -> None:
        """Finish the current delivery and job, then return (leases released by then)."""
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self.deliverer.close()
        log.info("worker %s stopped", self.id)
