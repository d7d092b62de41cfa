"""Delivery state: back-off on an injected clock, final failures, leases and their expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from idp.messaging.gateways import DeliveryError
from idp.outbox import queue
from idp.outbox.models import OutboxMessage
from idp.security.models import AuditEvent
from idp.worker.delivery import Deliverer
from tests.outbox.conftest import Recording, queue_sms


def _message(state, message_id: str) -> OutboxMessage:
    with state.sessions() as db:
        return db.get(OutboxMessage, message_id)


class TestBackoff:
    def test_each_failure_waits_twice_as_long_then_gives_up(self, state, clock):
        [mid] = queue_sms(state)
        gateway = Recording([DeliveryError("HTTP 503")] * queue.MAX_ATTEMPTS)
        deliverer = Deliverer(state, sms=gateway)
        waits = []
        for attempt in range(1, queue.MAX_ATTEMPTS):
            assert deliverer.deliver_due() == 1
            message = _message(state, mid)
            assert (message.state, message.attempts) == ("pending", attempt)
            assert message.last_error == "HTTP 503" and message.lease is None
            wait = message.next_attempt_at - clock.now()
            waits.append(wait.total_seconds())
            clock.advance(wait.total_seconds() - 1)
            assert deliverer.deliver_due() == 0  # not a second early
            clock.advance(1)
        assert waits == [30, 60, 120, 240, 480, 960, 1920]
        assert deliverer.deliver_due() == 1
        message = _message(state, mid)
        assert (message.state, message.attempts) == ("failed", queue.MAX_ATTEMPTS)
        assert message.last_error == "gave up: HTTP 503"
        assert message.body is None  # the code does not stay readable
        assert gateway.sent == []
        with state.sessions() as db:
            audit = db.scalar(select(AuditEvent).where(AuditEvent.event == "message.failed"))
        assert audit.target_id == mid and audit.detail == {"channel": "sms", "template": "otp"}

    def test_delivery_resumes_when_the_gateway_is_back(self, state, clock):
        [mid] = queue_sms(state)
        gateway = Recording([DeliveryError("timed out"), DeliveryError("HTTP 502")])
        deliverer = Deliverer(state, sms=gateway)
        for _ in range(3):
            deliverer.deliver_due()
            clock.advance(3600)
        message = _message(state, mid)
        assert (message.state, message.attempts, message.last_error) == ("sent", 3, None)
        assert message.sent_via == "http" and message.sent_at is not None
        assert gateway.sent == [mid]

    def test_a_refusal_is_final_at_once(self, state):
        [mid] = queue_sms(state)
        deliverer = Deliverer(state, sms=Recording([DeliveryError("HTTP 400", permanent=True)]))
        assert deliverer.deliver_due() == 1
        message = _message(state, mid)
        assert (message.state, message.attempts, message.last_error) == ("failed", 1, "HTTP 400")

    def test_a_gateway_bug_costs_an_attempt_not_the_message(self, state, clock):
        [mid] = queue_sms(state)

        class Buggy(Recording):
            def send(self, *args, message_id):
                raise KeyError("oops")

        Deliverer(state, sms=Buggy()).deliver_due()
        message = _message(state, mid)
        assert message.state == "pending" and "KeyError" in message.last_error
        clock.advance(30)
        gateway = Recording()
        Deliverer(state, sms=gateway).deliver_due()
        assert gateway.sent == [mid]

    def test_the_development_mailbox_keeps_the_text(self, state):
        [mid] = queue_sms(state)
        Deliverer(state).deliver_due()  # the default backend: the development mailbox
        message = _message(state, mid)
        assert (message.state, message.sent_via) == ("sent", "dev-outbox")
        assert "123456" in message.body


class TestLeases:
    def test_a_claimed_message_is_not_claimed_twice(self, state, clock):
        queue_sms(state)
        assert queue.claim(state.sessions, clock) is not None
        assert queue.claim(state.sessions, clock) is None

    def test_an_expired_lease_is_reclaimed_with_the_same_id(self, state, clock):
        """A worker that died mid-delivery (claimed, never settled): once its lease runs out the
        message is due again, with the same id and the lost attempt counted."""
        [mid] = queue_sms(state)
        dead = queue.claim(state.sessions, clock)
        assert dead.id == mid and dead.attempts == 1
        clock.advance(queue.LEASE.total_seconds() - 1)
        assert queue.claim(state.sessions, clock) is None
        clock.advance(1)
        gateway = Recording()
        assert Deliverer(state, sms=gateway).deliver_due() == 1
        assert gateway.sent == [mid]
        message = _message(state, mid)
        assert (message.state, message.attempts) == ("sent", 2)
        # The dead worker's late outcome cannot overwrite the newer one.
        with state.sessions() as db, db.begin():
            late = queue.settle(db, clock, dead, queue.Outcome(error="HTTP 500"))
        assert late is None and _message(state, mid).state == "sent"

    def test_oldest_due_first(self, state, clock):
        first = queue_sms(state)
        clock.advance(1)
        second = queue_sms(state)
        gateway = Recording()
        Deliverer(state, sms=gateway).deliver_due()
        assert gateway.sent == first + second

    def test_backoff_caps_at_an_hour(self):
        assert queue.backoff(1) == timedelta(seconds=30)
        assert queue.backoff(20) == timedelta(hours=1)
