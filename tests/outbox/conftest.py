"""The app on a frozen clock (back-off without sleeping), and gateways that record or fail."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import event

from idp.app import create_app
from idp.clock import FrozenClock
from idp.messaging.gateways import DeliveryError
from idp.messaging.messenger import messenger
from tests.oidc.conftest import account, browser, client, rp, state  # noqa: F401


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(settings, engine, clock):
    return create_app(settings, clock=clock, background=False)


class Recording:
    """A gateway (both channels) that records each message id it is handed, and fails while
    ``failures`` lasts."""

    name = "http"
    keeps_body = False

    def __init__(self, failures: list[DeliveryError] | None = None) -> None:
        self.sent: list[str] = []
        self.failures = failures or []
        self._lock = threading.Lock()

    def send(self, *args: str, message_id: str) -> None:
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(message_id)


def queue_sms(app_state, count: int = 1, to: str = "+33612345678") -> list[str]:
    with app_state.uow() as db:
        return [
            messenger(app_state).sms(db, to, "otp", code="123456", minutes=10, purpose="test")
            for _ in range(count)
        ]


class CheckedOut:
    """Counts the engine's connections out of its pool (checkout/checkin events)."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "checkout", self._out)
        event.listen(engine, "checkin", self._in)

    def _out(self, *_args) -> None:
        self.count += 1

    def _in(self, *_args) -> None:
        self.count -= 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
