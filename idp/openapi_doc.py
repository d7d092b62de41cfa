"""The OpenAPI document as exported to ``openapi/`` (independent of local settings)."""

from __future__ import annotations

import tempfile


def openapi_document() -> dict:
    """Built from an app with the demo and simulator routes off, so the document describes
    what a production deployment serves."""
    from idp.app import create_app
    from idp.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            database_url=f"sqlite:///{tmp}/openapi.db",
            secret_key="openapi-export-" + "x" * 32,
            key_encryption_key="openapi-export-" + "y" * 32,
            demo_enabled=False,
            franceconnect_simulator=False,
        )
        app = create_app(settings, background=False)
        document = app.openapi()
        app.state.idp.engine.dispose()
    return document
