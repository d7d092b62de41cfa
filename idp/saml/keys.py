"""The IdP's SAML key pairs: created on first start, private parts encrypted at rest.

There is always an ``active`` pair (signs responses and metadata, decrypts) and a ``next`` one,
published in the metadata before it is used, so that SPs that refresh metadata already trust it
when ``educonnect saml keys rotate`` promotes it. A retired certificate stays published for
``Settings.key_retention``. pysaml2 runs ``xmlsec1`` on files: the decrypted key is written to
a private directory (memory-backed where ``/dev/shm`` exists) that only this process reads and
that is removed when it exits.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.db import transaction
from idp.saml.models import SamlKey
from idp.security.sealing import AtRest
from idp.settings import Settings

_KEY_BITS = 2048
_CERT_YEARS = 10
_REFRESH_SECONDS = 5.0


def new_key_pair(common_name: str, now) -> tuple[str, str]:
    """A private key and its self-signed certificate, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * _CERT_YEARS))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class KeyFiles:
    """What pysaml2 is configured with: file paths, plus the published certificates."""

    key_file: str
    cert_file: str
    published: tuple[str, ...]  # PEM certificates in the metadata (active first)
    other_cert_files: tuple[str, ...]  # the published ones that do not sign yet (or any more)
    version: str  # changes whenever any of the above does
    loaded_at: float


def _private_dir() -> Path:
    shm = "/dev/shm"  # noqa: S108 (a private 0700 directory is made inside)
    base = shm if os.access(shm, os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="educonnect-saml-", dir=base))
    path.chmod(0o700)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


class SamlKeys:
    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], clock: Clock, at_rest: AtRest
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._at_rest = at_rest
        self._lock = threading.Lock()
        self._files: KeyFiles | None = None
        self._dir: Path | None = None

    @property
    def _cn(self) -> str:
        return self._settings.issuer_url.split("//", 1)[-1]

    def _new(self, state: str) -> SamlKey:
        now = self._clock.now()
        kid = f"saml-{now:%Y%m%d}-{secrets.token_hex(4)}"
        private, cert = new_key_pair(self._cn, now)
        return SamlKey(
            kid=kid,
            state=state,
            certificate_pem=cert,
            private_key_encrypted=self._at_rest.seal(private.encode(), kid),
            created_at=now,
            activated_at=now if state == "active" else None,
        )

    def ensure(self) -> None:
        """First start (the app's lifespan, the CLI): an active pair and the next one."""
        with transaction(self._sessions) as db:
            states = set(db.scalars(select(SamlKey.state)))
            for wanted in ("active", "next"):
                if wanted not in states:
                    db.add(self._new(wanted))
        self._files = None

    def rotate(self) -> dict[str, str]:
        """Promote ``next`` to ``active`` (the old one stays published a while); make a new next."""
        self.ensure()
        now = self._clock.now()
        with transaction(self._sessions) as db:
            rows = {
                k.state: k for k in db.scalars(select(SamlKey).where(SamlKey.state != "retired"))
            }
            old, promoted = rows["active"], rows["next"]
            old.state = "retired"
            old.publish_until = now + timedelta(seconds=self._settings.key_retention)
            promoted.state, promoted.activated_at = "active", now
            db.flush()
            fresh = self._new("next")
            db.add(fresh)
            result = {"active": promoted.kid, "next": fresh.kid, "retired": old.kid}
        self._files = None
        return result

    def files(self) -> KeyFiles:
        files = self._files
        if files is None or time.monotonic() - files.loaded_at > _REFRESH_SECONDS:
            with self._lock:
                files = self._files
                if files is None or time.monotonic() - files.loaded_at > _REFRESH_SECONDS:
                    files = self._load()
                    self._files = files
        return files

    def _load(self) -> KeyFiles:
        now = self._clock.now()
        with transaction(self._sessions, readonly=True) as db:
            rows = list(db.scalars(select(SamlKey).order_by(SamlKey.created_at)))
        if not any(r.state == "active" for r in rows):
            # The server started while the database was down: make the first pair now.
            self.ensure()
            with transaction(self._sessions, readonly=True) as db:
                rows = list(db.scalars(select(SamlKey).order_by(SamlKey.created_at)))
        active = next((r for r in reversed(rows) if r.state == "active"), None)
        if active is None:
            raise RuntimeError(
                "no active SAML key: run the server once or `educonnect saml keys rotate`"
            )
        order = {"active": 0, "next": 1, "retired": 2}
        shown = [
            r
            for r in sorted(rows, key=lambda r: order[r.state])
            if r.state != "retired" or (r.publish_until and r.publish_until > now)
        ]
        published = tuple(r.certificate_pem for r in shown)
        version = active.kid + ":" + ",".join(r.kid for r in shown)
        current = self._files
        if current is not None and current.version == version:
            return KeyFiles(
                current.key_file,
                current.cert_file,
                published,
                current.other_cert_files,
                version,
                time.monotonic(),
            )
        if self._dir is None:
            self._dir = _private_dir()
        others = []
        for row in shown:
            if row is not active:
                path = self._dir / f"{row.kid}.crt"
                path.write_text(row.certificate_pem)
                others.append(str(path))
        key_path = self._dir / f"{active.kid}.key"
        cert_path = self._dir / f"{active.kid}.crt"
        if not key_path.exists():
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(self._at_rest.open(active.private_key_encrypted, active.kid).decode())
        cert_path.write_text(active.certificate_pem)
        return KeyFiles(
            str(key_path), str(cert_path), published, tuple(others), version, time.monotonic()
        )
