"""The typed application state built once by ``create_app`` and reached through dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.settings import Settings

if TYPE_CHECKING:
    from federation.franceconnect import FranceConnectConnector
    from idp.accounts.passwords import Passwords
    from idp.messaging.messenger import Messenger
    from idp.observability.faults import Outages
    from idp.oidc.interaction import Interactions
    from idp.oidc.keys import KeyManager
    from idp.oidc.server import Server
    from idp.oidc.tokens import TokenService
    from idp.saml.wiring import Saml
    from idp.security.audit import Audit
    from idp.security.sealing import Seals
    from idp.security.stores import Stores
    from idp.web.templating import Templates


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    #: Sessions that promise not to write (``ReadDb``): on SQLite, they run beside the writer.
    read_sessions: sessionmaker[Session]
    clock: Clock
    passwords: Passwords
    keys: KeyManager
    stores: Stores
    templates: Templates
    server: Server
    tokens: TokenService
    audit: Audit
    interactions: Interactions
    seals: Seals
    messenger: Messenger
    #: The SAML identity provider's keys and pysaml2 server (``idp.saml.wiring``).
    saml: Saml
    #: The FranceConnect client and the hook that sends /logout through FranceConnect's
    #: logout, when FranceConnect is on (``idp.accounts.franceconnect.wiring``).
    franceconnect: FranceConnectConnector | None = None
    upstream_logout: Callable[[dict, str], str | None] | None = None
    #: Which dependencies are down (503s, one log line per change) and the OpenTelemetry
    #: tracer provider when tracing is on (``idp.operations``).
    outages: Outages | None = None
    tracer_provider: object | None = None
