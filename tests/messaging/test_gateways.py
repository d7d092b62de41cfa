"""SMS and e-mail gateways against real servers: aiosmtpd for SMTP, a live HTTP provider.
One call is one attempt; the request that sends a message only queues it."""

from __future__ import annotations

import socket
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
from idp.messaging.gateways import DeliveryError, DevMailbox, HttpSms, SmtpMail, make_gateways
from idp.settings import Settings
from idp.worker.delivery import Deliverer
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

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

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
        body = await request.json()
        received.append((request.headers.get("authorization"), body))
        assert request.headers["idempotency-key"] == body["id"]
        return JSONResponse(
            {"id": str(len(received))}, status_code=statuses.pop(0) if statuses else 200
        )

    with live_server(app) as base_url:
        yield f"{base_url}/sms", received


def _with(settings: Settings, **overrides) -> Settings:
    return Settings(**{**settings.model_dump(), **overrides})


class TestSmtp:
    def test_sends_a_plain_text_utf8_message_with_a_stable_id(self, smtp):
        port, sink = smtp
        gateway = SmtpMail("127.0.0.1", port, "EduConnect <ne-pas-repondre@educonnect.test>")
        for _ in range(2):  # a retry: the receiver sees the same Message-ID
            gateway.send(
                "jeanne@example.fr",
                "Votre identifiant ÉduConnect",
                "Bonjour Jeanne,\nvotre identifiant : j.martin12\n",
                message_id="abc123",
            )
        [(recipients, message), (_, again)] = sink.messages
        assert recipients == ["jeanne@example.fr"]
        assert message["Subject"] == "Votre identifiant ÉduConnect"
        assert message["From"] == "EduConnect <ne-pas-repondre@educonnect.test>"
        assert message["Message-ID"] == again["Message-ID"] == "<abc123@educonnect.test>"
        assert message["Date"]
        assert "j.martin12" in message.get_content()

    def test_unreachable_relay_is_a_delivery_error_worth_retrying(self):
        with pytest.raises(DeliveryError) as caught:
            SmtpMail("127.0.0.1", _free_port(), "x@example.fr", timeout=2).send(
                "a@example.fr", "s", "b", message_id="m"
            )
        assert not caught.value.permanent

    def test_refused_recipient_is_final(self, smtp):
        port, sink = smtp
        with pytest.raises(DeliveryError) as caught:
            SmtpMail("127.0.0.1", port, "x@example.fr").send(
                "nobody@example.fr", "s", "b", message_id="m"
            )
        assert caught.value.permanent and sink.messages == []

    def test_app_queues_recovery_mail_and_the_worker_sends_it(self, smtp, settings, engine):
        port, sink = smtp
        app = create_app(
            _with(settings, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=port),
            background=False,
        )
        with TestClient(app, base_url="http://localhost") as client:
            state = app.state.idp
            make_account(
                state, username="j.martin12", email="jeanne@example.fr", email_verified=True
            )
            page = client.get("/identifiant-oublie")
            assert (
                h.post_form(
                    client, page.text, "/identifiant-oublie", contact="jeanne@example.fr"
                ).status_code
                == 200
            )
            assert sink.messages == []  # queued by the request, not sent by it
            [queued] = h.outbox(state)
            assert queued.state == "pending" and "j.martin12" in queued.body
            assert Deliverer(state).deliver_due() == 1
        [(recipients, message)] = sink.messages
        assert recipients == ["jeanne@example.fr"]
        assert "j.martin12" in message.get_content()
        assert message["Message-ID"].startswith(f"<{queued.id}@")
        [sent] = h.outbox(state)
        assert sent.state == "sent" and sent.sent_via == "smtp"
        assert sent.body is None  # the link or identifier does not stay in the table


class TestHttpSms:
    def test_posts_json_with_the_bearer_token_and_the_message_id(self):
        with provider([]) as (url, received):
            HttpSms(url, "s3cret").send("+33612345678", "123456 est votre code", message_id="m1")
        assert received == [
            (
                "Bearer s3cret",
                {
                    "id": "m1",
                    "to": "+33612345678",
                    "text": "123456 est votre code",
                    "sender": "EduConnect",
                },
            )
        ]

    def test_server_errors_are_worth_retrying(self):
        with provider([503]) as (url, received), pytest.raises(DeliveryError) as caught:
            HttpSms(url, "t").send("+33612345678", "x", message_id="m")
        assert len(received) == 1 and not caught.value.permanent

    def test_client_errors_are_final(self):
        with provider([400]) as (url, received), pytest.raises(DeliveryError) as caught:
            HttpSms(url, "t").send("+33612345678", "x", message_id="m")
        assert len(received) == 1 and caught.value.permanent

    def test_network_errors_are_worth_retrying(self):
        with pytest.raises(DeliveryError) as caught:
            HttpSms(f"http://127.0.0.1:{_free_port()}/sms", "t", timeout=1).send(
                "+33612345678", "x", message_id="m"
            )
        assert not caught.value.permanent

    def test_app_queues_registration_code_and_the_worker_sends_it(self, settings, engine):
        with provider([]) as (url, received):
            app = create_app(
                _with(settings, sms_backend="http", sms_http_url=url, sms_http_token="tok"),
                background=False,
            )
            with TestClient(app, base_url="http://localhost") as client:
                state = app.state.idp
                h.add_guardian(state, children=[("Léa", date(2012, 5, 3))])
                page = client.get("/inscription")
                fields = {"given_name": "Jeanne", "family_name": "Martin", "mobile": "0612345678"}
                assert h.post_form(client, page.text, "/inscription", **fields).status_code == 200
                assert received == []
                assert Deliverer(state).deliver_due() == 1
        [(auth, body)] = received
        assert auth == "Bearer tok" and body["to"] == "+33612345678"
        assert "code" in body["text"] and any(ch.isdigit() for ch in body["text"])
        [sent] = h.outbox(state, "otp")
        assert body["id"] == sent.id and sent.body is None


class TestFactory:
    def test_backends_follow_the_settings(self, settings):
        sms, mail = make_gateways(
            _with(
                settings,
                sms_backend="http",
                sms_http_url="http://127.0.0.1:1/sms",
                mail_backend="smtp",
            )
        )
        assert isinstance(sms, HttpSms) and isinstance(mail, SmtpMail)
        assert all(isinstance(g, DevMailbox) for g in make_gateways(settings))

    def test_http_without_url_is_refused(self, settings):
        with pytest.raises(RuntimeError):
            make_gateways(_with(settings, sms_backend="http"))
