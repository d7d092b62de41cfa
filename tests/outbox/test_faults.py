"""Faults against real parts: a live SMS provider and relying party, aiosmtpd, two workers
racing on their own engines, and ``educonnect worker`` processes killed or stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.testclient import TestClient

from idp.app import create_app
from idp.messaging.gateways import HttpSms, SmtpMail
from idp.messaging.messenger import messenger
from idp.oidc import backchannel
from idp.outbox import queue, views
from idp.outbox.models import OutboxMessage
from idp.security.stores import SessionData
from idp.services import build_state
from idp.settings import Settings
from idp.worker.delivery import Deliverer
from idp.worker.leases import JobLease
from tests.accounts import helpers as h
from tests.outbox.conftest import CheckedOut, Recording, free_port, queue_sms
from tests.support.live_server import live_server
from tests.support.oidc import make_rp


@contextmanager
def provider(answers: list, *, checked_out: CheckedOut | None = None) -> Iterator[tuple]:
    """An SMS provider: each request takes the next answer (a status, or ``("slow", s)``)."""
    received: list[dict] = []
    seen_connections: list[int] = []
    app = FastAPI()

    @app.post("/sms")
    async def sms(request: Request):
        if checked_out is not None:
            seen_connections.append(checked_out.count)
        received.append(await request.json())
        answer = answers.pop(0) if answers else 200
        if isinstance(answer, tuple):
            await asyncio.sleep(answer[1])
            answer = 200
        return JSONResponse({}, status_code=answer)

    with live_server(app) as base:
        yield f"{base}/sms", received, seen_connections


def _messages(state) -> list[OutboxMessage]:
    with state.sessions() as db:
        return list(db.query(OutboxMessage).order_by(OutboxMessage.created_at))


class TestGatewayDown:
    def test_the_request_completes_and_delivery_resumes(self, settings, engine, clock):
        with provider([503, 500]) as (url, received, _):
            values = {**settings.model_dump(), "sms_backend": "http", "sms_http_url": url}
            app = create_app(Settings(**values), clock=clock, background=False)
            with TestClient(app, base_url="http://localhost") as client:
                state = app.state.idp
                h.add_guardian(state, children=[("Léa", date(2012, 5, 3))])
                page = client.get("/inscription")
                fields = {"given_name": "Jeanne", "family_name": "Martin", "mobile": "0612345678"}
                response = h.post_form(client, page.text, "/inscription", **fields)
                assert response.status_code == 200 and received == []
                deliverer = Deliverer(state)
                for expected in (1, 2):
                    assert deliverer.deliver_due() == 1
                    [message] = _messages(state)
                    assert (message.state, message.attempts) == ("pending", expected)
                    assert message.last_error.endswith(("HTTP 503", "HTTP 500"))
                    clock.advance(3600)
                assert deliverer.deliver_due() == 1
                deliverer.close()
        [message] = _messages(state)
        assert (message.state, message.attempts) == ("sent", 3)
        assert [r["id"] for r in received] == [message.id] * 3  # the receiver can tell retries

    def test_a_timeout_is_an_attempt(self, state, clock):
        [mid] = queue_sms(state)
        with provider([("slow", 2.0)]) as (url, received, _):
            deliverer = Deliverer(state, sms=HttpSms(url, None, timeout=0.3))
            started = time.monotonic()
            assert deliverer.deliver_due() == 1
            assert time.monotonic() - started < 1.5
            [message] = _messages(state)
            assert message.state == "pending" and "Timeout" in message.last_error
            clock.advance(30)
            assert deliverer.deliver_due() == 1
            deliverer.close()
        assert [r["id"] for r in received] == [mid, mid]
        assert _messages(state)[0].state == "sent"


class TestNoConnectionHeldDuringDelivery:
    """The rule "no network call inside a transaction": each receiver checks, while it is being
    called, that the worker holds no pooled connection."""

    def test_sms_mail_and_backchannel(self, state, account):
        checked_out = CheckedOut(state.engine)
        seen: list[int] = []

        class Sink:
            async def handle_DATA(self, server, session, envelope):
                seen.append(checked_out.count)
                return "250 OK"

        rp_app = FastAPI()

        @rp_app.post("/bc")
        async def bc(request: Request):
            seen.append(checked_out.count)
            return {}

        port = free_port()
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            with (
                provider([], checked_out=checked_out) as (url, received, sms_seen),
                live_server(rp_app) as base,
            ):
                rp = make_rp(state, backchannel_logout_uri=f"{base}/bc")
                with state.uow() as db:
                    messenger(state).sms(db, "+33612345678", "registration_existing")
                    messenger(state).mail(db, "a@example.fr", "forgot_username", usernames=["a"])
                    now = state.clock.now()
                    session = SessionData(
                        "sid-1", account.id, 0, ["pwd"], None, now, now, clients=[rp.client_id]
                    )
                    assert backchannel.enqueue(state, db, session) == 1
                assert checked_out.count == 0
                deliverer = Deliverer(
                    state,
                    sms=HttpSms(url, None),
                    mail=SmtpMail("127.0.0.1", port, "x@example.fr"),
                )
                assert deliverer.deliver_due() == 3
                deliverer.close()
        finally:
            controller.stop()
        assert len(received) == 1 and len(seen) == 2
        assert sms_seen + seen == [0, 0, 0]
        assert {m.state for m in _messages(state)} == {"sent"}


class TestTwoWorkersRace:
    def test_each_message_is_delivered_exactly_once(self, state, settings):
        ids = queue_sms(state, 300)
        gateway = Recording()
        # Two workers as two processes would be: each with its own engine and pool.
        workers = [build_state(settings, state.clock) for _ in range(2)]
        start = threading.Barrier(2)
        counts = []

        def run(worker_state) -> None:
            deliverer = Deliverer(worker_state, sms=gateway)
            start.wait()
            counts.append(deliverer.deliver_due())
            deliverer.close()

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for w in workers:
            w.engine.dispose()
        assert sorted(Counter(gateway.sent).values()) == [1] * 300
        assert set(gateway.sent) == set(ids) and sum(counts) == 300
        assert all(counts), counts  # both took part
        assert {m.state for m in _messages(state)} == {"sent"}


def _worker_process(settings: Settings, *args: str, **env: str) -> subprocess.Popen:
    names = ("env", "database_url", "issuer", "secret_key", "key_encryption_key", "redis_url")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EDUCONNECT_")}
    for name in names:
        value = getattr(settings, name)
        if value is not None:
            environ[f"EDUCONNECT_{name.upper()}"] = str(value)
    environ.update({f"EDUCONNECT_{k.upper()}": v for k, v in env.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "idp.cli", "worker", "--poll", "0.1", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@contextmanager
def blocking_provider() -> Iterator[tuple[str, list, threading.Event, threading.Event]]:
    """An SMS provider whose first request waits until ``release`` is set."""
    received: list[dict] = []
    arrived, release = threading.Event(), threading.Event()
    app = FastAPI()

    @app.post("/sms")
    async def sms(request: Request):
        received.append(await request.json())
        if len(received) == 1:
            arrived.set()
            while not release.is_set():
                await asyncio.sleep(0.02)
        return {}

    with live_server(app) as base:
        try:
            yield f"{base}/sms", received, arrived, release
        finally:
            release.set()


def _wait(process: subprocess.Popen, event: threading.Event, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not event.wait(0.1):
        if process.poll() is not None:
            pytest.fail(process.stdout.read().decode())
        assert time.monotonic() < deadline, "the worker never called the provider"


class TestWorkerProcess:
    def test_killed_mid_delivery_nothing_is_lost(self, state, settings, clock):
        [mid] = queue_sms(state)
        with blocking_provider() as (url, received, arrived, release):
            process = _worker_process(settings, sms_backend="http", sms_http_url=url)
            try:
                _wait(process, arrived)
                process.send_signal(signal.SIGKILL)
                process.wait(10)
            finally:
                process.kill()
            [message] = _messages(state)
            assert (message.state, message.attempts) == ("pending", 1)
            assert message.lease is not None  # claimed by the dead worker
            assert views.as_json(message, with_body=False)["in_flight"]
            release.set()
            # Another worker, once the dead one's lease ran out:
            clock.advance(queue.LEASE.total_seconds() + 30)
            deliverer = Deliverer(state, sms=HttpSms(url, None))
            assert deliverer.deliver_due() == 1
            deliverer.close()
        assert [r["id"] for r in received] == [mid, mid]  # a duplicate the receiver can tell
        [message] = _messages(state)
        assert (message.state, message.attempts) == ("sent", 2)

    def test_sigterm_finishes_the_current_delivery_and_releases_leases(self, state, settings):
        [mid] = queue_sms(state)
        with blocking_provider() as (url, _, arrived, release):
            process = _worker_process(settings, sms_backend="http", sms_http_url=url)
            try:
                _wait(process, arrived)
                process.send_signal(signal.SIGTERM)
                time.sleep(0.3)  # the worker is now stopping, with a delivery in flight
                assert process.poll() is None
                release.set()
                output, _ = process.communicate(timeout=30)
            finally:
                process.kill()
        assert process.returncode == 0, output.decode()
        assert "SIGTERM: stopping" in output.decode()
        [message] = _messages(state)
        assert (message.id, message.state, message.attempts) == (mid, "sent", 1)
        with state.sessions() as db:
            assert all(job.holder is None for job in db.query(JobLease))
