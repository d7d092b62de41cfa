"""One key derivation, one way to seal what travels through the browser, one way to seal
secrets at rest.

- ``derive_key``: HKDF-SHA256 (RFC 5869) of a configured secret with a purpose label, so every
  use has its own key and a value made for one purpose is useless for any other.
- ``BrowserSeal``: short-lived state that travels through the browser (the pending
  authorization, journey progress, FranceConnect's state and pending identity): JWE compact
  (``dir`` + ``A256GCM``, RFC 7516) with an expiry: encrypted and authenticated, so it can be
  neither read nor forged where it travels, and no server row is needed between two steps.
- ``AtRest``: small secrets kept in the database (private keys, TOTP secrets, letters waiting
  to be printed): AES-256-GCM bound to the row's id, so a sealed value cannot be moved to
  another row.
"""

from __future__ import annotations

import base64
import json
import os
import time
import zlib
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

_JWE_ALGORITHMS = ["dir", "A256GCM"]


def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    """The key of ``purpose`` made from ``secret``: HKDF-SHA256, info ``educonnect/<purpose>``."""
    info = f"educonnect/{purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(
        secret.encode()
    )


class BrowserSeal:
    """Seal a JSON object for one purpose, for ``ttl`` seconds."""

    def __init__(
        self,
        secret: str,
        purpose: str,
        *,
        now: Callable[[], float] = time.time,
        max_length: int = 16384,
    ) -> None:
        self._key = OctKey.import_key(derive_key(secret, f"seal/{purpose}"))
        self._now = now
        self._max_length = max_length

    def seal(self, data: dict[str, Any], ttl: int) -> str:
        payload = json.dumps({"d": data, "exp": int(self._now()) + ttl}, separators=(",", ":"))
        header = {"alg": "dir", "enc": "A256GCM"}
        return jwe.encrypt_compact(header, payload.encode(), self._key, algorithms=_JWE_ALGORITHMS)

    def open(self, sealed: str | None) -> dict[str, Any] | None:
        """The data, or ``None`` when missing, oversized, tampered with, sealed for another
        purpose or expired."""
        if not sealed or len(sealed) > self._max_length:
            return None
        try:
            plain = jwe.decrypt_compact(sealed, self._key, algorithms=_JWE_ALGORITHMS)
            payload = json.loads(plain.plaintext or b"")
        except (JoseError, ValueError, TypeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("d"), dict):
            return None
        exp = payload.get("exp")
        if not isinstance(exp, int) or exp <= self._now():
            return None
        return payload["d"]


class AtRest:
    """AES-256-GCM with the key of ``purpose``; ``bound_to`` (a row id) is associated data."""

    def __init__(self, secret: str, purpose: str, *, compress: bool = False) -> None:
        self._aead = AESGCM(derive_key(secret, purpose))
        self._compress = compress

    def seal(self, value: bytes, bound_to: str) -> str:
        nonce = os.urandom(12)
        data = zlib.compress(value) if self._compress else value
        return base64.b64encode(nonce + self._aead.encrypt(nonce, data, bound_to.encode())).decode()

    def open(self, blob: str, bound_to: str) -> bytes:
        raw = base64.b64decode(blob)
        value = self._aead.decrypt(raw[:12], raw[12:], bound_to.encode())
        return zlib.decompress(value) if self._compress else value


class Seals:
    """The app's seals, one per purpose, made on first use (HKDF is cheap, not free)."""

    def __init__(
        self, secret_key: str, key_encryption_key: str, now: Callable[[], float] = time.time
    ) -> None:
        self._secret_key = secret_key
        self._key_encryption_key = key_encryption_key
        self._now = now
        self._browser: dict[str, BrowserSeal] = {}
        self._at_rest: dict[str, AtRest] = {}

    def browser(self, purpose: str) -> BrowserSeal:
        found = self._browser.get(purpose)
        if found is None:
            found = self._browser[purpose] = BrowserSeal(self._secret_key, purpose, now=self._now)
        return found

    def at_rest(self, purpose: str) -> AtRest:
        """Compressed AES-GCM with a key from the key-encryption key."""
        found = self._at_rest.get(purpose)
        if found is None:
            found = self._at_rest[purpose] = AtRest(
                self._key_encryption_key, purpose, compress=True
            )
        return found
