"""Run an ASGI app over real HTTP for the duration of a test.

``live_server(app)`` serves ``app`` with uvicorn in a background thread on a free 127.0.0.1 port
and yields its base URL. Apps that must know their own URL (an OIDC issuer, say) are built by a
factory instead: ``live_server(factory=lambda base_url: make_app(base_url))``. The listening
socket is bound before the factory runs, so the port cannot be taken in between.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

ASGIApp = Callable[..., Any]

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0


@contextmanager
def live_server(
    app: ASGIApp | None = None,
    *,
    factory: Callable[[str], ASGIApp] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[str]:
    """Serve ``app`` (or ``factory(base_url)``) and yield the base URL, e.g.
    ``http://127.0.0.1:54321``. Exactly one of ``app`` and ``factory`` must be given."""
    if (app is None) == (factory is None):
        raise TypeError("live_server() takes exactly one of app and factory")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    base_url = f"http://{host}:{sock.getsockname()[1]}"
    try:
        asgi_app = factory(base_url) if factory is not None else app
        config = uvicorn.Config(
            asgi_app,
            log_level="warning",
            lifespan="auto",
            # h11 and no websockets: fewest moving parts, same behaviour on every platform.
            http="h11",
            ws="none",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"live-server-{base_url}"
        )
        thread.daemon = True
        thread.start()
        try:
            _wait_until_started(server, thread)
            yield base_url
        finally:
            server.should_exit = True
            thread.join(_SHUTDOWN_TIMEOUT)
    finally:
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("live server exited during startup (see the log above)")
        if time.monotonic() > deadline:
            raise TimeoutError("live server did not start in time")
        time.sleep(0.01)
