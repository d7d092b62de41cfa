"""Wiring of FranceConnect: the connector, the sealer, the logout hook, the simulator mount.

The connector (which caches FranceConnect's discovery and keys) is built once per process, by
``create_app``, into the typed fields ``state.franceconnect`` and ``state.upstream_logout``.
"""

from __future__ import annotations

import functools
import logging

import httpx
from fastapi import FastAPI

from federation.connector import FranceConnectError
from federation.franceconnect import FranceConnectConnector
from federation.simulator import SimulatorClient, create_simulator_app
from idp.accounts.franceconnect import seal
from idp.security.sealing import derive_key
from idp.state import AppState

log = logging.getLogger("educonnect.franceconnect")

#: How long the browser may spend logging out of FranceConnect.
LOGOUT_TTL = 15 * 60


def franceconnect_client_secret(state: AppState) -> str:
    """The configured secret, or (simulator) one derived from the server secret."""
    settings = state.settings
    if settings.franceconnect_client_secret:
        return settings.franceconnect_client_secret
    return derive_key(settings.secrets["secret_key"], "franceconnect-simulator").hex()


def mount_simulator(app: FastAPI, state: AppState) -> None:
    iss = state.settings.issuer_url
    client = SimulatorClient(
        state.settings.franceconnect_client_id,
        franceconnect_client_secret(state),
        [f"{iss}/franceconnect/callback"],
        [f"{iss}/franceconnect/logout-callback"],
    )
    app.mount("/fc", create_simulator_app(f"{iss}/fc/api/v2", [client]))


def sealer(state: AppState) -> seal.Sealer:
    return seal.Sealer(state.seals)


def make_connector(state: AppState, http: httpx.Client | None = None) -> FranceConnectConnector:
    """A client for the configured FranceConnect (``http``: its transport, for tests)."""
    iss = state.settings.issuer_url
    return FranceConnectConnector(
        state.settings.franceconnect_discovery,
        state.settings.franceconnect_client_id,
        franceconnect_client_secret(state),
        f"{iss}/franceconnect/callback",
        f"{iss}/franceconnect/logout-callback",
        http,
    )


def install_connector(state: AppState, connector: FranceConnectConnector) -> None:
    """Use ``connector`` from now on (tests watch its HTTP traffic this way)."""
    state.franceconnect = connector


def franceconnect_connector(state: AppState) -> FranceConnectConnector | None:
    """The FranceConnect client (None when FranceConnect is off)."""
    return state.franceconnect


def connector(state: AppState) -> FranceConnectConnector | None:
    return state.franceconnect


def wire_franceconnect(state: AppState) -> None:
    """Build the FranceConnect client once (``state.franceconnect``) and make /logout end the
    FranceConnect session too (``state.upstream_logout``). Called by ``create_app``."""
    settings = state.settings
    if not settings.franceconnect_enabled:
        return
    if state.franceconnect is None and settings.franceconnect_discovery:
        state.franceconnect = make_connector(state)
    state.upstream_logout = functools.partial(upstream_logout, state)


def upstream_logout(state: AppState, upstream: dict, final_url: str) -> str | None:
    """FranceConnect's logout URL for an ended session (``state.upstream_logout``)."""
    id_token = upstream.get("franceconnect_id_token")
    fc = franceconnect_connector(state)
    if not id_token or fc is None:
        return None
    sealed = sealer(state).seal(seal.LOGOUT, {"f": final_url}, LOGOUT_TTL)
    try:
        return fc.logout_url(id_token, sealed)
    except FranceConnectError as error:
        # FranceConnect unreachable: the local logout still happened; do not strand the person.
        log.warning("franceconnect logout skipped: %s", error)
        return None
