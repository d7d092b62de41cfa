"""Prometheus metrics (text format at ``/metrics``).

Counters and histograms are module-level: one registry per process, as Prometheus expects.
With ``uvicorn --workers N`` each worker has its own; run one worker per container (or set
``PROMETHEUS_MULTIPROC_DIR``, which prometheus-client reads itself) so a scrape sees them all.
Gauges that describe the database (outbox depth and age) are read at scrape time, not kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import false, func, select
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock

log = logging.getLogger("educonnect.metrics")

#: Latency buckets (seconds): argon2 logins sit around 0.05-0.2, tokens in milliseconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Histogram(
    "educonnect_http_request_duration_seconds",
    "HTTP requests by route template, method and status (count and latency).",
    ["route", "method", "status"],
    buckets=_BUCKETS,
)
LOGINS = Counter("educonnect_logins_total", "Password logins by outcome.", ["outcome"])
GRANTS = Counter("educonnect_grants_total", "Tokens issued by grant type.", ["grant_type"])
ARGON2 = Histogram(
    "educonnect_argon2_seconds",
    "Time spent in argon2 (hash or verify).",
    ["operation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0),
)
THROTTLE_BLOCKS = Counter(
    "educonnect_throttle_blocks_total", "Attempts refused or delayed by throttling.", ["scope"]
)
OUTAGES = Counter(
    "educonnect_dependency_unavailable_total",
    "Requests answered 503 because a dependency was unreachable.",
    ["dependency"],
)


def audit_event(event: str) -> None:
    """Fed by the audit emitter: lifecycle events become counters."""
    if event.startswith("login."):
        LOGINS.labels(event.removeprefix("login.")).inc()


class OutboxCollector(Collector):
    """Pending outbox messages and the age of the oldest, read when Prometheus scrapes."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from idp.outbox.models import OutboxMessage

        depth = GaugeMetricFamily("educonnect_outbox_depth", "Outbox messages not yet delivered.")
        age = GaugeMetricFamily(
            "educonnect_outbox_oldest_age_seconds", "Age of the oldest undelivered message."
        )
        try:
            with self._sessions() as db:
                db.connection(execution_options={"idp_readonly": True})  # no SQLite write lock
                count, oldest = db.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        *_pending(OutboxMessage)
                    )
                ).one()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("outbox metrics unavailable: %s", type(exc).__name__)
            return
        depth.add_metric([], count)
        age.add_metric([], (self._clock.now() - oldest).total_seconds() if oldest else 0.0)
        yield depth
        yield age


def _pending(model) -> list:
    """Undelivered rows, whichever way the outbox marks delivery."""
    for name in ("state", "status"):
        if (column := getattr(model, name, None)) is not None:
            return [column == "pending"]
    for name in ("sent_at", "delivered_at"):
        if (column := getattr(model, name, None)) is not None:
            return [column.is_(None)]
    return [false()]  # a development sink: nothing is waiting


def exposition(collectors: list[Collector]) -> tuple[bytes, str]:
    """The process registry plus this app's scrape-time collectors."""
    from prometheus_client import CollectorRegistry

    local = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        local.register(collector)
    return generate_latest(REGISTRY) + generate_latest(local), CONTENT_TYPE_LATEST
