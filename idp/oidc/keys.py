"""Signing keys: ES256 and RS256, created on first start, private parts encrypted at rest.

RFC 7517 (JWK) / RFC 7518 (algorithms) through joserfc. Rotation adds a new active key per
algorithm and keeps the old public keys in the JWKS until everything they signed has expired
(``Settings.key_retention``). Every process re-reads the table every few seconds, so a rotation
done by ``educonnect keys rotate`` reaches running servers without a restart.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from joserfc.jwk import ECKey, JWKRegistry, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.db import unit_of_work
from idp.oidc.models import SigningKey
from idp.security.sealing import AtRest
from idp.settings import Settings

ALGORITHMS = ("ES256", "RS256")
_REFRESH_SECONDS = 5.0


class KeyEncryption(AtRest):
    """Private keys at rest: AES-256-GCM with the key-encryption key's ``jwk-at-rest`` key."""

    def __init__(self, secret: str) -> None:
        super().__init__(secret, "jwk-at-rest")

    def encrypt(self, plaintext: str, kid: str) -> str:
        return self.seal(plaintext.encode(), kid)

    def decrypt(self, blob: str, kid: str) -> str:
        return self.open(blob, kid).decode()


def _generate(alg: str, kid: str) -> ECKey | RSAKey:
    params = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params, private=True)
    return RSAKey.generate_key(2048, parameters=params, private=True)


@dataclass(frozen=True)
class _Snapshot:
    signing: dict[str, ECKey | RSAKey]  # alg -> newest active private key
    public: KeySet
    jwks: dict
    loaded_at: float


class KeyManager:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._crypto = KeyEncryption(settings.secrets["key_encryption_key"])
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    # -- writing -------------------------------------------------------------------------------
    def ensure_keys(self) -> None:
        """Create an active key for each algorithm that has none (first start)."""
        with unit_of_work(self._sessions) as db:
            active = set(db.scalars(select(SigningKey.alg).where(SigningKey.state == "active")))
            for alg in ALGORITHMS:
                if alg not in active:
                    db.add(self._new_key(alg))
        self.reload()

    def rotate(self) -> list[str]:
        """Add a new active key per algorithm; retire the previous ones (still published)."""
        now = self._clock.now()
        with unit_of_work(self._sessions) as db:
            for key in db.scalars(select(SigningKey).where(SigningKey.state == "active")):
                key.state = "retired"
                key.retired_at = now
                key.publish_until = now + timedelta(seconds=self._settings.key_retention)
            new = [self._new_key(alg) for alg in ALGORITHMS]
            db.add_all(new)
            kids = [k.kid for k in new]
        self.reload()
        return kids

    def _new_key(self, alg: str) -> SigningKey:
        kid = f"{alg.lower()}-{self._clock.now():%Y%m%d}-{secrets.token_hex(4)}"
        key = _generate(alg, kid)
        return SigningKey(
            kid=kid,
            alg=alg,
            state="active",
            private_jwk_encrypted=self._crypto.encrypt(json.dumps(key.as_dict(private=True)), kid),
            public_jwk={**key.as_dict(private=False), "use": "sig"},
            created_at=self._clock.now(),
        )

    # -- reading -------------------------------------------------------------------------------
    def reload(self) -> _Snapshot:
        now = self._clock.now()
        with unit_of_work(self._sessions, readonly=True) as db:
            rows = list(db.scalars(select(SigningKey).order_by(SigningKey.created_at)))
        signing: dict[str, ECKey | RSAKey] = {}
        published = []
        for row in rows:
            if row.state == "retired" and (row.publish_until is None or row.publish_until <= now):
                continue
            published.append(row.public_jwk)
            if row.state == "active":
                # Later rows win: the newest active key of each algorithm signs.
                signing[row.alg] = _import_private(
                    self._crypto.decrypt(row.private_jwk_encrypted, row.kid)
                )
        jwks = {"keys": published}
        snap = _Snapshot(signing, KeySet.import_key_set(jwks), jwks, time.monotonic())
        self._snapshot = snap
        return snap

    def _current(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None or time.monotonic() - snap.loaded_at > _REFRESH_SECONDS:
            with self._lock:
                snap = self._snapshot
                if snap is None or time.monotonic() - snap.loaded_at > _REFRESH_SECONDS:
                    snap = self.reload()
        return snap

    def signing_key(self, alg: str = "ES256") -> ECKey | RSAKey:
        return self._current().signing[alg]

    def public_keys(self) -> KeySet:
        return self._current().public

    def jwks(self) -> dict:
        return self._current().jwks


def _import_private(data: str) -> ECKey | RSAKey:
    return JWKRegistry.import_key(json.loads(data))
