"""Periodic jobs under row leases: of several workers, one runs a due job; the period counts
across workers; a lease left by a dead worker expires."""

from __future__ import annotations

import threading
from datetime import timedelta

from idp.services import build_state
from idp.worker import leases
from idp.worker.leases import JobLease
from idp.worker.runner import Job, Worker


class Counting:
    def __init__(self, hold: threading.Event | None = None) -> None:
        self.runs = 0
        self.hold = hold
        self.started = threading.Event()

    def __call__(self, state) -> int:
        self.runs += 1
        self.started.set()
        if self.hold is not None:
            assert self.hold.wait(30)
        return self.runs


def _worker(state, job: Counting, every: float = 300) -> Worker:
    return Worker(state, jobs=(Job("count", timedelta(seconds=every), job),))


class TestOneRuns:
    def test_two_workers_at_the_same_moment(self, state, settings):
        job = Counting()
        # Each worker on its own engine, as separate processes would be.
        states = [build_state(settings, state.clock) for _ in range(2)]
        workers = [_worker(s, job) for s in states]
        start = threading.Barrier(2)
        ran: list[list[str]] = []

        def run(worker: Worker) -> None:
            start.wait()
            ran.append(worker.run_jobs())

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for s in states:
            s.engine.dispose()
        assert job.runs == 1 and sorted(ran) == [[], ["count"]]

    def test_a_running_job_is_not_started_again(self, state, clock):
        hold = threading.Event()
        job = Counting(hold)
        first, second = _worker(state, job, every=0), _worker(state, job, every=0)
        thread = threading.Thread(target=first.run_jobs)
        thread.start()
        assert job.started.wait(10)
        clock.advance(60)
        assert second.run_jobs() == []  # still held by the first worker
        hold.set()
        thread.join(10)
        clock.advance(1)
        assert second.run_jobs() == ["count"] and job.runs == 2

    def test_the_period_counts_across_workers(self, state, clock):
        job = Counting()
        first, second = _worker(state, job), _worker(state, job)
        assert first.run_jobs() == ["count"]
        assert second.run_jobs() == [] and first.run_jobs() == []
        clock.advance(299)
        assert second.run_jobs() == []
        clock.advance(1)
        assert second.run_jobs() == ["count"] and job.runs == 2

    def test_a_dead_workers_lease_expires(self, state, clock):
        ttl = timedelta(minutes=30)
        with state.sessions() as db, db.begin():
            assert leases.acquire(db, "count", "dead", clock.now(), timedelta(0), ttl)
        job = Counting()
        worker = _worker(state, job, every=0)
        clock.advance(ttl.total_seconds() - 1)
        assert worker.run_jobs() == []
        clock.advance(2)
        assert worker.run_jobs() == ["count"]

    def test_a_failing_job_is_recorded_and_released(self, state, clock):
        def broken(_state):
            raise RuntimeError("disk full")

        worker = Worker(state, jobs=(Job("broken", timedelta(minutes=5), broken),))
        assert worker.run_jobs() == ["broken"]
        with state.sessions() as db:
            row = db.get(JobLease, "broken")
        assert row.holder is None and row.last_error == "RuntimeError: disk full"
        assert row.last_finished_at == clock.now()
