"""Discovery document and JWKS of an OpenID provider, fetched over HTTP and cached with a TTL.

Implements OpenID Connect Discovery 1.0 (section 4: fetching; section 4.3: the ``issuer`` must
equal the URL the document was fetched from, minus ``/.well-known/openid-configuration``) and the
FC v2 advice to refetch the JWKS rather than fail when a key is unknown, since FC rotates its
signing keys (docs.partenaires.franceconnect.gouv.fr, "Les endpoints", ``/api/v2/jwks``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from federation.connector import MESSAGE_UNAVAILABLE, FranceConnectError, FranceConnectErrorCode

WELL_KNOWN_SUFFIX = "/.well-known/openid-configuration"
_REQUIRED = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


def _unavailable(detail: str) -> FranceConnectError:
    return FranceConnectError(FranceConnectErrorCode.UNAVAILABLE, MESSAGE_UNAVAILABLE, detail)


class ProviderCache:
    """Thread-safe cache of one provider's metadata and keys.

    When a refresh fails but an older copy exists, the older copy is kept: a short FC outage of
    the discovery endpoint should not break logins whose keys we already hold.
    """

    def __init__(
        self,
        discovery_url: str,
        http: httpx.Client,
        ttl: float = 3600.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if not discovery_url.endswith(WELL_KNOWN_SUFFIX):
            raise ValueError(f"discovery_url must end with {WELL_KNOWN_SUFFIX}")
        self._discovery_url = discovery_url
        self._http = http
        self._ttl = ttl
        self._now = now
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def metadata(self, *, stale_ok: bool = False) -> ProviderMetadata:
        """The discovery document, fetched when missing or older than the TTL; ``stale_ok``:
        any copy already fetched will do (no network call unless there is none)."""
        with self._lock:
            expired = self._metadata is not None and self._metadata[0] <= self._now()
            if self._metadata is None or (expired and not stale_ok):
                try:
                    self._metadata = (self._now() + self._ttl, self._fetch_metadata())
                except FranceConnectError:
                    if self._metadata is None:
                        raise
            return self._metadata[1]

    def key_set(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys; ``refresh`` forces a refetch (unknown ``kid``)."""
        jwks_uri = self.metadata().jwks_uri
        with self._lock:
            if refresh or self._keys is None or self._keys[0] <= self._now():
                try:
                    self._keys = (self._now() + self._ttl, self._fetch_keys(jwks_uri))
                except FranceConnectError:
                    if self._keys is None:
                        raise
            return self._keys[1]

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise _unavailable(f"GET {url} failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise _unavailable(f"GET {url} returned HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError as exc:
            raise _unavailable(f"GET {url} did not return JSON") from exc
        if not isinstance(document, dict):
            raise _unavailable(f"GET {url} did not return a JSON object")
        return document

    def _fetch_metadata(self) -> ProviderMetadata:
        document = self._get_json(self._discovery_url)
        expected_issuer = self._discovery_url.removesuffix(WELL_KNOWN_SUFFIX)
        if document.get("issuer") != expected_issuer:
            # A mismatch means a misconfigured URL or a mix-up attempt (Discovery section 4.3).
            raise _unavailable("discovery issuer does not match the discovery URL")
        missing = [name for name in _REQUIRED if not isinstance(document.get(name), str)]
        if missing:
            raise _unavailable(f"discovery document lacks {', '.join(missing)}")
        end_session = document.get("end_session_endpoint")
        return ProviderMetadata(
            issuer=expected_issuer,
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            userinfo_endpoint=document["userinfo_endpoint"],
            jwks_uri=document["jwks_uri"],
            end_session_endpoint=end_session if isinstance(end_session, str) else None,
        )

    def _fetch_keys(self, jwks_uri: str) -> KeySet:
        document = self._get_json(jwks_uri)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise _unavailable("JWKS has no keys array")
        # Only public signature keys: an encryption or symmetric key must never verify a token.
        usable = [
            key
            for key in keys
            if isinstance(key, dict)
            and key.get("kty") in ("EC", "RSA")
            and key.get("use", "sig") == "sig"
            and "d" not in key
        ]
        try:
            return KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError) as exc:
            raise _unavailable(f"JWKS could not be imported: {type(exc).__name__}") from exc
