"""Signing keys: ES256 and RS256, created on first start, private parts encrypted at rest.

RFC 7517 (JWK) / RFC 7518 (algorithms) through joserfc. Many processes share the keys:

- First start: each process tries to insert the missing ``active`` key per algorithm; a partial
  unique index (one ``active`` and one ``next`` key per algorithm) lets exactly one win, the
  others read the winner's key.
- ``educonnect keys rotate`` adds a ``next`` key per algorithm. It is published at once and
  signs only from ``activate_at``, once every cached JWKS has expired (``JWKS_MAX_AGE`` plus this
  process cache), so a relying party can verify the first token it signs.
- The key it replaces stays published until everything it signed has expired
  (``Settings.key_retention`` after it stopped signing).

Every process re-reads the table every few seconds, so a rotation reaches running servers
without a restart; the switch to the next key is computed from ``activate_at`` by every reader,
and written down (``next`` → ``active``, ``active`` → ``retired``) by the next ``ensure_keys``
or rotation.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, JWKRegistry, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.oidc.models import SigningKey
from idp.security.sealing import AtRest
from idp.settings import Settings

log = logging.getLogger("educonnect.keys")

ALGORITHMS = ("ES256", "RS256")
_REFRESH_SECONDS = 5.0
#: ``Cache-Control: max-age`` of ``/jwks``: how long a relying party may keep an old key set.
JWKS_MAX_AGE = 60
#: From ``keys rotate`` until the next key signs: every cached JWKS has been refetched by then.
ACTIVATION_DELAY = timedelta(seconds=JWKS_MAX_AGE + 2 * _REFRESH_SECONDS)


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
        """Create the active key of each algorithm that has none (first start), and write down
        a switch to a next key that is due. Safe in any number of processes at once."""
        self._settle()
        for alg in ALGORITHMS:
            with self._sessions() as db, db.begin():
                if db.scalar(_of(alg, "active")) is not None:
                    continue
            key = self._new_key(alg, "active")  # RSA generation outside any transaction
            try:
                with self._sessions() as db, db.begin():
                    db.add(key)
            except IntegrityError:
                log.info("another process created the %s signing key", alg)
        self.reload()

    def ensure_keys_at_start(self) -> bool:
        """``ensure_keys`` that lets the server start without a database: the keys are then
        created or loaded on first use (``_current``). Returns whether they are loaded."""
        from idp.observability.faults import DATABASE_ERRORS

        try:
            self.ensure_keys()
            return True
        except DATABASE_ERRORS as exc:
            log.warning("signing keys not loaded (%s): retrying on first use", type(exc).__name__)
            return False

    def rotate(self) -> list[str]:
        """Publish a next key per algorithm (or keep the one already pending); it signs from
        ``activation_time()``. Returns the next keys' ids."""
        self._settle()
        now = self._clock.now()
        activate_at = now + ACTIVATION_DELAY
        kids = []
        for alg in ALGORITHMS:
            with self._sessions() as db, db.begin():
                pending = db.scalar(_of(alg, "next"))
                if pending is not None:
                    kids.append(pending.kid)
                    continue
            key = self._new_key(alg, "next", activate_at=activate_at)
            try:
                with self._sessions() as db, db.begin():
                    db.add(key)
                    current = db.scalar(_of(alg, "active"))
                    if current is not None:
                        current.publish_until = activate_at + timedelta(
                            seconds=self._settings.key_retention
                        )
                kids.append(key.kid)
            except IntegrityError:  # a concurrent rotation published one first
                with self._sessions() as db:
                    kids.append(db.scalar(_of(alg, "next")).kid)
        self.reload()
        return kids

    def activation_time(self) -> datetime | None:
        """When the pending next keys start signing (``None`` if none is pending)."""
        with self._sessions() as db:
            return db.scalar(
                select(SigningKey.activate_at).where(SigningKey.state == "next").limit(1)
            )

    def _settle(self) -> None:
        """Write down the switches that are due: the old active key retires (still published
        until ``publish_until``), the next key becomes active. Idempotent; concurrent runs
        serialise on the rows' locks and the unique index."""
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            due = list(
                db.scalars(
                    select(SigningKey)
                    .where(SigningKey.state == "next", SigningKey.activate_at <= now)
                    .with_for_update()
                )
            )
            for key in due:
                old = db.scalar(_of(key.alg, "active").with_for_update())
                if old is not None:
                    old.state = "retired"
                    old.retired_at = key.activate_at
                    db.flush()  # free the (alg, active) slot before taking it
                key.state = "active"

    def _new_key(self, alg: str, state: str, activate_at: datetime | None = None) -> SigningKey:
        kid = f"{alg.lower()}-{self._clock.now():%Y%m%d}-{secrets.token_hex(4)}"
        key = _generate(alg, kid)
        return SigningKey(
            kid=kid,
            alg=alg,
            state=state,
            activate_at=activate_at,
            private_jwk_encrypted=self._crypto.encrypt(json.dumps(key.as_dict(private=True)), kid),
            public_jwk={**key.as_dict(private=False), "use": "sig"},
            created_at=self._clock.now(),
        )

    # -- reading -------------------------------------------------------------------------------
    def reload(self) -> _Snapshot:
        now = self._clock.now()
        with self._sessions() as db:
            db.connection(execution_options={"idp_readonly": True})  # beside SQLite's writer
            rows = list(db.scalars(select(SigningKey).order_by(SigningKey.created_at)))
        signing: dict[str, ECKey | RSAKey] = {}
        published = []
        for row in rows:
            if row.publish_until is not None and row.publish_until <= now:
                continue
            published.append(row.public_jwk)
            due = row.state == "next" and row.activate_at is not None and row.activate_at <= now
            if (row.state == "active" and row.alg not in signing) or due:
                signing[row.alg] = _import_private(
                    self._crypto.decrypt(row.private_jwk_encrypted, row.kid)
                )
        jwks = {"keys": published}
        public = KeySet.import_key_set(jwks) if published else KeySet([])
        snap = _Snapshot(signing, public, jwks, time.monotonic())
        self._snapshot = snap
        return snap

    def _current(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None or time.monotonic() - snap.loaded_at > _REFRESH_SECONDS:
            with self._lock:
                snap = self._snapshot
                if snap is None or time.monotonic() - snap.loaded_at > _REFRESH_SECONDS:
                    snap = self.reload()
                    if len(snap.signing) < len(ALGORITHMS):  # started without a database
                        self.ensure_keys()
                        snap = self._snapshot or snap
        return snap

    def signing_key(self, alg: str = "ES256") -> ECKey | RSAKey:
        return self._current().signing[alg]

    def public_keys(self) -> KeySet:
        return self._current().public

    def jwks(self) -> dict:
        return self._current().jwks


def _of(alg: str, state: str):
    return select(SigningKey).where(SigningKey.alg == alg, SigningKey.state == state)


def _import_private(data: str) -> ECKey | RSAKey:
    return JWKRegistry.import_key(json.loads(data))
