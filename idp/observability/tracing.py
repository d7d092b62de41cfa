"""OpenTelemetry tracing, switched on by the standard ``OTEL_*`` variables.

Off unless ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, ``console``) or an OTLP
endpoint is set; ``OTEL_SDK_DISABLED=true`` wins. Everything else (service name, resource
attributes, endpoint, headers, sampler) is read by the SDK itself. When off, nothing is
installed, so the hot paths pay nothing.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Engine

log = logging.getLogger("educonnect.tracing")

#: Probes and scrapes are not worth a trace each.
EXCLUDED_URLS = "health,ready,metrics,static"


class OtelSettings(BaseSettings):
    """The few standard variables that decide whether to switch tracing on."""

    model_config = SettingsConfigDict(env_prefix="OTEL_", extra="ignore")

    sdk_disabled: bool = False
    traces_exporter: str | None = None
    exporter_otlp_endpoint: str | None = None
    exporter_otlp_traces_endpoint: str | None = None
    service_name: str = "educonnect-idp"

    @property
    def enabled(self) -> bool:
        if self.sdk_disabled:
            return False
        if self.traces_exporter:
            return self.traces_exporter.strip().lower() != "none"
        return bool(self.exporter_otlp_endpoint or self.exporter_otlp_traces_endpoint)


def _exporter(name: str):
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def install(app: FastAPI, engine: Engine, *, exporter=None, otel: OtelSettings | None = None):
    """Trace requests and SQL. ``exporter`` (tests: an in-memory one) forces tracing on with a
    synchronous processor. Returns the tracer provider, or ``None`` when tracing is off."""
    otel = otel or OtelSettings()
    if exporter is None and not otel.enabled:
        return None
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: otel.service_name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        name = (otel.traces_exporter or "otlp").split(",")[0].strip().lower()
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS)
    _trace_engine(engine, provider)
    log.info("OpenTelemetry tracing on")
    return provider


def _trace_engine(engine: Engine, provider) -> None:
    """Spans for this engine's SQL. The instrumentor's public ``instrument`` works once per
    process and also patches ``create_async_engine`` (which needs greenlet); the engine tracer
    it builds is all we need, once per app."""
    from opentelemetry.instrumentation.sqlalchemy import __version__
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeterProvider

    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    usage = NoOpMeterProvider().get_meter("educonnect").create_up_down_counter("unused")
    EngineTracer(tracer, engine, usage)
