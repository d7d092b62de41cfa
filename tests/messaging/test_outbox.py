"""The development mailbox (``/dev/outbox``) and ``educonnect outbox``."""

from __future__ import annotations

import json

from click.testing import CliRunner
from starlette.testclient import TestClient

from idp.app import create_app
from idp.messaging.messenger import messenger
from idp.outbox.cli import outbox_command
from idp.settings import Settings
from idp.worker.delivery import Deliverer
from tests.accounts import helpers as h
from tests.web.pages import Page


def _send_some(state) -> None:
    with state.uow() as db:
        messenger(state).sms(db, "+33612345678", "registration_existing")
        messenger(state).mail(
            db, "jeanne@example.fr", "forgot_username", usernames=["j.martin12", "j.martin7"]
        )


class TestOutboxPage:
    def test_lists_the_latest_messages(self, client, state):
        _send_some(state)
        response = client.get("/dev/outbox")
        assert response.status_code == 200
        assert "+33612345678" in response.text and "j.martin7" in response.text
        assert "Votre identifiant ÉduConnect" in response.text
        page = Page.parse(response.text)
        assert len(page.find("h1")) == 1 and page.find("style") == []

    def test_absent_when_no_channel_uses_the_outbox(self, settings, engine):
        values = {
            **settings.model_dump(),
            "sms_backend": "http",
            "sms_http_url": "http://127.0.0.1:1/sms",
            "mail_backend": "smtp",
        }
        app = create_app(Settings(**values), background=False)
        with TestClient(app, base_url="http://localhost") as client:
            assert client.get("/dev/outbox").status_code == 404


class TestOutboxCommand:
    def test_prints_messages_as_json(self, state, settings, monkeypatch):
        _send_some(state)
        monkeypatch.setenv("EDUCONNECT_DATABASE_URL", settings.database_url)
        result = CliRunner().invoke(outbox_command, ["--json"])
        assert result.exit_code == 0, result.output
        messages = json.loads(result.output)
        assert [m["channel"] for m in messages] == ["email", "sms"]
        assert messages[0]["to"] == "jeanne@example.fr" and "j.martin12" in messages[0]["body"]
        assert {"subject", "template", "created_at"} <= set(messages[0])
        assert [m["state"] for m in messages] == ["pending", "pending"]
        assert {m["attempts"] for m in messages} == {0}

    def test_shows_delivery_to_the_development_mailbox(self, state, settings, monkeypatch):
        _send_some(state)
        Deliverer(state).deliver_due()
        monkeypatch.setenv("EDUCONNECT_DATABASE_URL", settings.database_url)
        messages = json.loads(CliRunner().invoke(outbox_command, ["--json"]).output)
        assert {(m["state"], m["sent_via"], m["attempts"]) for m in messages} == {
            ("sent", "dev-outbox", 1)
        }
        assert "j.martin12" in messages[0]["body"]  # the mailbox is where developers read it
        output = CliRunner().invoke(outbox_command, ["--state", "pending"]).output
        assert "empty" in output

    def test_bodies_stay_hidden_when_a_real_gateway_is_used(self, state, settings, monkeypatch):
        _send_some(state)
        monkeypatch.setenv("EDUCONNECT_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("EDUCONNECT_SMS_BACKEND", "http")
        monkeypatch.setenv("EDUCONNECT_MAIL_BACKEND", "smtp")
        messages = json.loads(CliRunner().invoke(outbox_command, ["--json"]).output)
        assert [m["body"] for m in messages] == [None, None]

    def test_prints_text(self, state, settings, monkeypatch):
        monkeypatch.setenv("EDUCONNECT_DATABASE_URL", settings.database_url)
        assert "empty" in CliRunner().invoke(outbox_command, []).output
        _send_some(state)
        output = CliRunner().invoke(outbox_command, []).output
        assert "sms to +33612345678" in output and "Identifiant oublié" in output
        assert h.outbox(state)
