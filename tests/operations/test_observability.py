"""/metrics, request ids, OpenTelemetry traces (JSON logs: test_json_logs.py)."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from idp.app import create_app
from tests.conftest import make_settings
from tests.support.oidc import csrf_of, make_rp


@pytest.fixture
def make_client(database_url, redis_url, engine):
    opened = []

    def make(peer: str = "127.0.0.1", **overrides) -> TestClient:
        app = create_app(make_settings(database_url, redis_url, **overrides), background=False)
        client = TestClient(app, base_url="http://localhost", client=(peer, 50000)).__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def _value(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.partition("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class TestMetrics:
    def test_counts_requests_logins_grants_and_argon2(self, make_client):
        client = make_client()
        state = client.app.state.idp
        before = client.get("/metrics").text
        client.get("/health")
        page = client.get("/login")
        client.post(
            "/login", data={"username": "nobody", "password": "x", "csrf_token": csrf_of(page.text)}
        )
        rp = make_rp(state, grant_types=["client_credentials"], scopes=["introspection"])
        token = client.post("/token", data={"grant_type": "client_credentials"}, auth=rp.basic)
        assert token.status_code == 200
        after = client.get("/metrics")
        assert after.status_code == 200 and after.headers["content-type"].startswith("text/plain")
        text = after.text
        count = "educonnect_http_request_duration_seconds_count"
        health = {"route": "/health", "method": "GET", "status": "200"}
        assert _value(text, count, **health) == _value(before, count, **health) + 1
        assert _value(text, "educonnect_http_request_duration_seconds_bucket", le="+Inf", **health)
        for name, labels in (
            ("educonnect_logins_total", {"outcome": "failed"}),
            ("educonnect_grants_total", {"grant_type": "client_credentials"}),
            ("educonnect_argon2_seconds_count", {"operation": "verify"}),
        ):
            assert _value(text, name, **labels) == _value(before, name, **labels) + 1, name
        assert "educonnect_outbox_depth " in text
        assert "educonnect_outbox_oldest_age_seconds " in text
        assert "educonnect_throttle_blocks_total" in text

    def test_outbox_depth_and_age(self, make_client):
        from datetime import timedelta

        from idp.db import transaction
        from idp.outbox.models import OutboxMessage

        client = make_client()
        state = client.app.state.idp
        now = state.clock.now()
        with transaction(state.sessions) as db:
            for state_, age in (("pending", 90), ("pending", 30), ("sent", 900)):
                db.add(
                    OutboxMessage(
                        channel="sms",
                        recipient="+33612345678",
                        state=state_,
                        next_attempt_at=now,
                        created_at=now - timedelta(seconds=age),
                    )
                )
        text = client.get("/metrics").text
        assert _value(text, "educonnect_outbox_depth") == 2
        assert 90 <= _value(text, "educonnect_outbox_oldest_age_seconds") < 900

    def test_route_templates_not_raw_paths(self, make_client):
        client = make_client()
        client.get("/nowhere/secret-token-abc")
        assert "secret-token-abc" not in client.get("/metrics").text

    def test_only_loopback_by_default(self, make_client):
        assert make_client("203.0.113.5").get("/metrics").status_code == 403

    def test_allowed_cidrs(self, make_client):
        client = make_client("203.0.113.5", metrics_allowed="203.0.113.0/24")
        assert client.get("/metrics").status_code == 200
        assert (
            make_client("198.51.100.5", metrics_allowed="203.0.113.0/24")
            .get("/metrics")
            .status_code
            == 403
        )

    def test_behind_a_proxy_the_real_client_decides(self, make_client):
        client = make_client("127.0.0.1")  # the balancer, on loopback
        outside = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.5"})
        assert outside.status_code == 403


class TestRequestId:
    def test_echoed(self, make_client):
        response = make_client().get("/health", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    def test_generated_when_missing_or_unfit(self, make_client):
        client = make_client()
        first = client.get("/health").headers["x-request-id"]
        second = client.get("/health", headers={"X-Request-ID": "a b\x01" + "x" * 300})
        assert re.fullmatch(r"[0-9a-f]{32}", first)
        assert re.fullmatch(r"[0-9a-f]{32}", second.headers["x-request-id"])
        assert first != second.headers["x-request-id"]

    def test_on_errors_too(self, make_client):
        response = make_client().get("/nowhere", headers={"X-Request-ID": "r-404"})
        assert response.status_code == 404 and response.headers["x-request-id"] == "r-404"


class TestTracing:
    def test_off_without_otel_variables(self, make_client, monkeypatch):
        from idp.observability.tracing import OtelSettings

        for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            monkeypatch.delenv(name, raising=False)
        assert not OtelSettings().enabled
        assert make_client().app.state.idp.tracer_provider is None

    def test_standard_variables_switch_it_on(self, monkeypatch):
        from idp.observability.tracing import OtelSettings

        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        assert OtelSettings().enabled
        monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
        assert not OtelSettings().enabled

    def test_requests_and_sql_are_traced(self, settings, engine):
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        from idp.observability import tracing

        exporter = InMemorySpanExporter()
        app = create_app(settings, background=False)
        tracing.install(app, app.state.idp.engine, exporter=exporter)
        with TestClient(app, base_url="http://localhost") as client:
            assert client.get("/jwks").status_code == 200
            client.post("/token", data={"grant_type": "client_credentials"}, auth=("no", "pe"))
            client.get("/health")
        spans = exporter.get_finished_spans()
        names = [s.name for s in spans]
        assert any(n.startswith("GET /jwks") for n in names), names
        assert not any("/health" in n for n in names)  # probes are not traced
        assert any(s.attributes.get("db.system") for s in spans), names
