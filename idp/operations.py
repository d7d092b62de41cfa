"""Running as a service: client addresses behind proxies, 503s when a dependency is down,
``/metrics``, the request middleware (request id, access log, latency) and tracing.

``create_app`` calls ``install`` once; everything here is wired from this one function.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from idp.observability import faults, tracing
from idp.observability.metrics import OutboxCollector, exposition
from idp.observability.net import ClientAddressMiddleware, TrustedProxies, parse_address
from idp.observability.requests import RequestMiddleware
from idp.state import AppState


def install(app: FastAPI, state: AppState, wants_json: Callable[[Request], bool]) -> None:
    settings = state.settings
    outages = faults.Outages()
    outages.watch_engine(state.engine)
    state.outages = outages
    faults.install(app, outages, wants_json, state.templates)
    collectors = [OutboxCollector(state.sessions, state.clock)]
    allowed = TrustedProxies(settings.metrics_networks)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # The real client's address (ClientAddressMiddleware ran): a proxy's own address
        # never opens the metrics to whoever is behind it.
        if parse_address(request.client.host if request.client else "") not in allowed:
            return PlainTextResponse("forbidden\n", status_code=403)
        body, content_type = await run_in_threadpool(exposition, collectors)
        return Response(body, media_type=content_type)

    state.tracer_provider = tracing.install(app, state.engine)
    # Added last = outermost: the address is settled before anything logs or throttles.
    app.add_middleware(RequestMiddleware)
    app.add_middleware(
        ClientAddressMiddleware,
        trusted=TrustedProxies(settings.trusted_proxy_networks),
        kind=settings.forwarded_header,
    )
