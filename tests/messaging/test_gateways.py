"""SMS and e-mail gateways against real servers: aiosmtpd for SMTP, a live HTTP provider."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.testclient import TestClient

from idp.app import create_app
from idp.messaging.gateways import DeliveryError, HttpSms, SmtpMail, make_gateways
from idp.messaging.messenger import Messenger
from idp.settings import Settings
from tests.accounts import helpers as h
from tests.support.live_server import live_server
from tests.support.oidc import make_account


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Sink]]:
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()


@contextmanager
def provider(statuses: list[int]) -> Iterator[tuple[str, list]]:
    """A fake SMS provider answering ``statuses`` in turn (then 200)."""
    received: list = []
    app = FastAPI()

    @app.post("/sms")
    async def sms(request: Request):
        received.append((request.headers.get("authorization"), await request.json()))
        return JSONResponse(
            {"id": str(len(received))}, status_code=statuses.pop(0) if statuses else 200
        )

    with live_server(app) as base_url:
        yield f"{base_url}/sms", received


def _with(settings: Settings, **overrides) -> Settings:
    return Settings(**{**settings.model_dump(), **overrides})


class TestSmtp:
    def test_sends_a_plain_text_utf8_message(self, smtp):
        port, sink = smtp
        SmtpMail("127.0.0.1", port, "EduConnect <ne-pas-repondre@educonnect.test>").send(
            "jeanne@example.fr",
            "Votre identifiant ÉduConnect",
            "Bonjour Jeanne,\nvotre identifiant : j.martin12\n",
        )
        [(recipients, message)] = sink.messages
        assert recipients == ["jeanne@example.fr"]
        assert message["Subject"] == "Votre identifiant ÉduConnect"
        assert message["From"] == "EduConnect <ne-pas-repondre@educonnect.test>"
        assert message["Message-ID"] and message["Date"]
        assert "j.martin12" in message.get_content()

    def test_unreachable_relay_is_a_delivery_error(self):
        with pytest.raises(DeliveryError):
            SmtpMail("127.0.0.1", _free_port(), "x@example.fr", timeout=2).send(
                "a@example.fr", "s", "b"
            )

    def test_app_sends_recovery_mail_through_smtp(self, smtp, settings, engine):
        port, sink = smtp
        app = create_app(
            _with(settings, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=port),
            background=False,
        )
        with TestClient(app, base_url="http://localhost") as client:
            make_account(
                app.state.idp, username="j.martin12", email="jeanne@example.fr", email_verified=True
            )
            page = client.get("/identifiant-oublie")
            assert (
                h.post_form(
                    client, page.text, "/identifiant-oublie", contact="jeanne@example.fr"
                ).status_code
                == 200
            )
        [(recipients, message)] = sink.messages
        assert recipients == ["jeanne@example.fr"]
        assert "j.martin12" in message.get_content()
        assert h.outbox(app.state.idp) == []


class TestHttpSms:
    def test_posts_json_with_the_bearer_token(self):
        with provider([]) as (url, received):
            HttpSms(url, "s3cret").send("+33612345678", "123456 est votre code")
        assert received == [
            (
                "Bearer s3cret",
                {"to": "+33612345678", "text": "123456 est votre code", "sender": "EduConnect"},
            )
        ]

    def test_retries_server_errors_with_backoff(self):
        with provider([503, 502]) as (url, received):
            started = time.monotonic()
            HttpSms(url, "t", backoff=(0.05, 0.1, 0.2)).send("+33612345678", "x")
            elapsed = time.monotonic() - started
        assert len(received) == 3
        assert elapsed >= 0.15

    def test_gives_up_after_three_retries(self):
        with provider([500, 500, 500, 500, 500]) as (url, received), pytest.raises(DeliveryError):
            HttpSms(url, "t", backoff=(0.01, 0.01, 0.01)).send("+33612345678", "x")
        assert len(received) == 4

    def test_client_errors_are_not_retried(self):
        with provider([400]) as (url, received), pytest.raises(DeliveryError):
            HttpSms(url, "t", backoff=(0.01, 0.01, 0.01)).send("+33612345678", "x")
        assert len(received) == 1

    def test_network_errors_are_retried_then_fail(self):
        with pytest.raises(DeliveryError):
            HttpSms(
                f"http://127.0.0.1:{_free_port()}/sms", "t", backoff=(0.01, 0.01, 0.01), timeout=1
            ).send("+33612345678", "x")

    def test_app_sends_registration_code_through_the_provider(self, settings, engine):
        with provider([]) as (url, received):
            app = create_app(
                _with(settings, sms_backend="http", sms_http_url=url, sms_http_token="tok"),
                background=False,
            )
            with TestClient(app, base_url="http://localhost") as client:
                h.add_guardian(app.state.idp, children=[("Léa", date(2012, 5, 3))])
                page = client.get("/inscription")
                fields = {"given_name": "Jeanne", "family_name": "Martin", "mobile": "0612345678"}
                assert h.post_form(client, page.text, "/inscription", **fields).status_code == 200
        [(auth, body)] = received
        assert auth == "Bearer tok" and body["to"] == "+33612345678"
        assert "code" in body["text"] and any(ch.isdigit() for ch in body["text"])


class TestFactory:
    def test_backends_follow_the_settings(self, settings, state):
        sms, mail = make_gateways(
            _with(
                settings,
                sms_backend="http",
                sms_http_url="http://127.0.0.1:1/sms",
                mail_backend="smtp",
            ),
            state.sessions,
            state.clock,
        )
        assert isinstance(sms, HttpSms) and isinstance(mail, SmtpMail)

    def test_http_without_url_is_refused(self, settings, state):
        with pytest.raises(RuntimeError):
            make_gateways(_with(settings, sms_backend="http"), state.sessions, state.clock)

    def test_failed_delivery_is_audited_not_raised(self, state):
        class Broken:
            def send(self, *args, **kwargs):
                raise DeliveryError("down")

        messenger = Messenger(state, Broken(), Broken())
        assert messenger.sms("+33612345678", "registration_existing") is False
        assert messenger.mail("a@example.fr", "forgot_username", usernames=["a.b"]) is False
