"""The module-level ASGI app, for ``uvicorn idp.main:app`` (and ``educonnect serve``)."""

from idp.app import create_app

app = create_app()
