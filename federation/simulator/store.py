"""In-memory state of the FranceConnect simulator: registered clients and short-lived grants.

Everything lives in dictionaries with an expiry time: the simulator is a development tool that
runs in one process, so losing its state on restart is acceptable (users simply log in again).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from federation.simulator.tokens import Signer

#: Lifetimes in seconds. FC documents ``expires_in: 60`` for access tokens; codes are single use
#: and short-lived in FC as well.
INTERACTION_TTL = 600
CODE_TTL = 60
ACCESS_TOKEN_TTL = 60
ID_TOKEN_TTL = 120


@dataclass(frozen=True, slots=True)
class SimulatorClient:
    """A service provider (FS) registered with the simulator, as declared in FC's partner space."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] | list[str]
    post_logout_redirect_uris: tuple[str, ...] | list[str] = ()


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A validated /authorize request, waiting for the user to pick an identity."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str
    acr: str
    #: Whether the FS asked for ``amr`` through the ``claims`` parameter (FC omits it otherwise).
    amr_requested: bool
    #: Anti-CSRF token echoed by the picking form as a hidden field.
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))


@dataclass(frozen=True, slots=True)
class Grant:
    """What an authorization code (and then an access token) stands for."""

    request: AuthorizationRequest
    identity_key: str
    auth_time: int
    sid: str


T = TypeVar("T")


class ExpiringStore(Generic[T]):
    """A thread-safe dict whose entries vanish after a lifetime (uvicorn serves sync routes
    from a thread pool, so concurrent access is real)."""

    def __init__(self, ttl: int, now: Callable[[], float]) -> None:
        self._ttl = ttl
        self._now = now
        self._items: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def add(self, value: T) -> str:
        """Store under a fresh unguessable key and return that key."""
        key = secrets.token_urlsafe(32)
        self.put(key, value)
        return key

    def put(self, key: str, value: T) -> None:
        with self._lock:
            self._purge()
            self._items[key] = (self._now() + self._ttl, value)

    def get(self, key: str) -> T | None:
        with self._lock:
            self._purge()
            item = self._items.get(key)
        return item[1] if item else None

    def pop(self, key: str) -> T | None:
        """Remove and return: this is what makes codes and interactions single use."""
        with self._lock:
            self._purge()
            item = self._items.pop(key, None)
        return item[1] if item else None

    def _purge(self) -> None:
        now = self._now()
        for key in [k for k, (expiry, _) in self._items.items() if expiry <= now]:
            del self._items[key]


@dataclass
class SimulatorState:
    """All mutable state of one simulator app (exposed as ``app.state.simulator``)."""

    issuer: str
    clients: dict[str, SimulatorClient]
    now: Callable[[], float]
    signer: Signer = field(default_factory=Signer)
    #: Active fault names (see ``tokens.FAULTS``); also exposed as ``app.state.faults``.
    faults: set[str] = field(default_factory=set)
    interactions: ExpiringStore[AuthorizationRequest] = field(init=False)
    codes: ExpiringStore[Grant] = field(init=False)
    access_tokens: ExpiringStore[Grant] = field(init=False)
    #: Codes already redeemed, mapped to the access token they produced: a replay revokes that
    #: token, as RFC 6749 section 4.1.2 recommends.
    used_codes: ExpiringStore[str] = field(init=False)

    def __post_init__(self) -> None:
        self.interactions = ExpiringStore(INTERACTION_TTL, self.now)
        self.codes = ExpiringStore(CODE_TTL, self.now)
        self.access_tokens = ExpiringStore(ACCESS_TOKEN_TTL, self.now)
        self.used_codes = ExpiringStore(INTERACTION_TTL, self.now)
