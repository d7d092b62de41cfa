"""Wiring of upstream providers: the FranceConnect client and logout hook, and the simulator
mount (development only)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from fastapi import FastAPI

from idp.security.sealing import derive_key
from idp.state import AppState

if TYPE_CHECKING:
    from federation.franceconnect import FranceConnectConnector


def franceconnect_client_secret(state: AppState) -> str:
    """The configured secret, or (simulator) one derived from the server secret."""
    settings = state.settings
    if settings.franceconnect_client_secret:
        return settings.franceconnect_client_secret
    return derive_key(settings.secrets["secret_key"], "franceconnect-simulator").hex()


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


def franceconnect_connector(state: AppState) -> FranceConnectConnector | None:
    """The FranceConnect client, built once per process (it caches FC's discovery and keys)."""
    connector = state.extras.get("franceconnect")
    discovery = state.settings.franceconnect_discovery
    if connector is None and state.settings.franceconnect_enabled and discovery:
        from federation.franceconnect import FranceConnectConnector

        iss = state.settings.issuer_url
        connector = state.extras.setdefault(
            "franceconnect",
            FranceConnectConnector(
                discovery,
                state.settings.franceconnect_client_id,
                franceconnect_client_secret(state),
                f"{iss}/franceconnect/callback",
                f"{iss}/franceconnect/logout-callback",
            ),
        )
    return connector


def wire_franceconnect(state: AppState) -> None:
    """Make /logout end the FranceConnect session too (``state.extras["upstream_logout"]``).
    Idempotent; called by ``create_app`` and, as a safety net, by the FranceConnect routes."""
    if state.settings.franceconnect_enabled and "upstream_logout" not in state.extras:
        from idp.accounts.franceconnect.routes import upstream_logout

        state.extras["upstream_logout"] = functools.partial(upstream_logout, state)
