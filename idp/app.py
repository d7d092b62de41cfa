"""``create_app(settings)``: the one place where services, middleware and routers are wired."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from idp import operations
from idp.clock import Clock
from idp.i18n import _
from idp.saml.wiring import ensure_saml
from idp.security.csrf import CsrfCookieMiddleware, CsrfError, csrf_error_handler
from idp.security.headers import SecurityHeadersMiddleware
from idp.services import build_state
from idp.settings import Settings
from idp.state import AppState
from idp.web.templating import mount_static
from idp.worker.runner import Worker

log = logging.getLogger("educonnect")

#: Paths that answer JSON errors (APIs and protocol endpoints); everything else gets a page.
_JSON_PREFIXES = (
    "/api/",
    "/token",
    "/introspect",
    "/revoke",
    "/userinfo",
    "/jwks",
    "/.well-known",
    "/health",
    "/ready",
    "/metrics",
)

_PAGE_ERRORS = {
    404: (_("Page introuvable"), _("La page que vous cherchez n'existe pas ou a été déplacée.")),
    405: (_("Action impossible"), _("Cette page ne peut pas être utilisée de cette façon.")),
}


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, background: bool = True
) -> FastAPI:
    settings = settings or Settings()
    settings.check_production()
    state = build_state(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if await run_in_threadpool(state.keys.ensure_keys_at_start):
            await run_in_threadpool(ensure_saml, state)
        worker = _in_process_worker(state) if background else None
        yield
        if worker:
            await run_in_threadpool(worker.stop)
        state.engine.dispose()

    app = FastAPI(
        title="EduConnect IdP",
        version="0.1.0",
        description="OpenID Connect provider of the French education system "
        "(guardians and pupils).",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.idp = state
    _add_error_handlers(app, state)
    app.add_middleware(CsrfCookieMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    operations.install(app, state, _wants_json)
    _include_routers(app, state)
    mount_static(app)
    return app


#: Routers of the account journeys, each module exposing ``router``.
_ACCOUNT_ROUTERS = (
    "idp.accounts.activation.routes",
    "idp.accounts.registration.routes",
    "idp.accounts.recovery.routes",
    "idp.accounts.profile.routes",
    "idp.accounts.profile.account_routes",
    "idp.accounts.franceconnect.routes",
    "idp.messaging.routes",
    "idp.accounts.login.second_factor",
    "idp.admin.routes",
    "idp.admin.api.routes",
    "idp.support.routes",
    "idp.saml.routes",
    "idp.saml.logout",
    "idp.saml.api",
)


def _include_routers(app: FastAPI, state: AppState) -> None:
    import importlib
    import importlib.util

    from idp.accounts.login import routes as login_routes
    from idp.oidc import logout, routes
    from idp.web import pages

    app.include_router(routes.router)
    app.include_router(logout.router)
    app.include_router(login_routes.router)
    app.include_router(pages.router)
    for name in _ACCOUNT_ROUTERS:
        if importlib.util.find_spec(name) is not None:
            app.include_router(importlib.import_module(name).router)
    if state.settings.demo_enabled:
        from idp.demo import routes as demo
        from idp.saml import demo_sp

        app.include_router(demo.router)
        app.include_router(demo_sp.router)
    if state.settings.franceconnect_simulator:
        from idp.accounts.franceconnect.wiring import mount_simulator

        mount_simulator(app, state)
    if state.settings.franceconnect_enabled:
        from idp.accounts.franceconnect.wiring import wire_franceconnect

        wire_franceconnect(state)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(_JSON_PREFIXES)


def _add_error_handlers(app: FastAPI, state: AppState) -> None:
    app.add_exception_handler(CsrfError, csrf_error_handler(state.templates))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        title, message = _PAGE_ERRORS.get(
            exc.status_code, (_("Erreur"), _("La demande n'a pas pu aboutir."))
        )
        return state.templates.error_page(request, title, message, exc.status_code, back_url="/")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        return state.templates.error_page(
            request,
            _("Demande incorrecte"),
            _("Les informations envoyées sont incomplètes ou incorrectes."),
            400,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse({"error": "server_error"}, status_code=500)
        return state.templates.error_page(
            request,
            _("Service momentanément indisponible"),
            _("Une erreur inattendue s'est produite. Réessayez dans quelques minutes."),
            500,
        )


def _in_process_worker(state: AppState) -> Worker | None:
    """The embedded development default runs the worker here (``worker_in_process``)."""
    if not state.settings.runs_worker_in_process:
        return None
    worker = Worker(state)
    worker.start()
    return worker
