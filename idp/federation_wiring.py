"""Wiring of upstream providers: the FranceConnect simulator mount (development only)."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import FastAPI

from idp.state import AppState


def franceconnect_client_secret(state: AppState) -> str:
    """The configured secret, or (simulator) one derived from the server secret."""
    settings = state.settings
    if settings.franceconnect_client_secret:
        return settings.franceconnect_client_secret
    key = settings.secrets["secret_key"].encode()
    return hmac.new(key, b"franceconnect-simulator", hashlib.sha256).hexdigest()


def mount_simulator(app: FastAPI, state: AppState) -> None:
    from federation.simulator import SimulatorClient, create_simulator_app

    iss = state.settings.issuer_url
    client = SimulatorClient(
        state.settings.franceconnect_client_id,
        franceconnect_client_secret(state),
        [f"{iss}/franceconnect/callback"],
        [f"{iss}/franceconnect/logout-callback"],
    )
    app.mount("/fc", create_simulator_app(f"{iss}/fc/api/v2", [client]))
