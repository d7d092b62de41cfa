"""AES-256-GCM for small secrets kept at rest (TOTP secrets, letters waiting to be printed).

The key is stretched with HKDF from the configured key-encryption key, one key per purpose;
the row's id is bound as associated data, so a sealed value cannot be moved to another row.
"""

from __future__ import annotations

import base64
import os
import zlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.state import AppState


class Sealer:
    def __init__(self, secret: str, purpose: str) -> None:
        info = f"educonnect/{purpose}".encode()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
            secret.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, value: bytes, bound_to: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, zlib.compress(value), bound_to.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, blob: str, bound_to: str) -> bytes:
        raw = base64.b64decode(blob)
        return zlib.decompress(self._aead.decrypt(raw[:12], raw[12:], bound_to.encode()))


def sealer(state: AppState, purpose: str) -> Sealer:
    """The app's sealer for ``purpose`` (built once: HKDF is cheap, but not free)."""
    key = f"sealer:{purpose}"
    found = state.extras.get(key)
    if found is None:
        found = state.extras[key] = Sealer(state.settings.secrets["key_encryption_key"], purpose)
    return found
