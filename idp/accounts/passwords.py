"""argon2id password hashing (RFC 9106 / OWASP parameters) and temporary passwords.

Two parameter sets are in use: the configured one for chosen passwords, and a cheaper one for
temporary passwords (``TEMPORARY``: 59 random bits, valid three months, replaced at first login),
so that a school's 2,000 letters take seconds. So that timing never tells which identifiers
exist, or which hold a temporary password, every verification does the same work: one argon2
verification per parameter set — the stored hash for its own set, a dummy hash for the others
(and only dummies for an unknown identifier).
"""

from __future__ import annotations

import re
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from idp.observability.metrics import ARGON2
from idp.settings import Settings

# Easy to read from paper and type on a phone: no 0/O, 1/l/I, no symbols that need a shift.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Cost of temporary passwords (see the module docstring).
TEMPORARY = {"time_cost": 1, "memory_cost": 2 * 1024, "parallelism": 1}
_PARAMS = re.compile(r"^\$argon2id\$v=\d+\$(m=\d+,t=\d+,p=\d+)\$")


def parameters(password_hash: str | None) -> str | None:
    """``m=…,t=…,p=…`` of an argon2id hash, ``None`` for anything else."""
    match = _PARAMS.match(password_hash or "")
    return match.group(1) if match else None


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )
        self._temporary = PasswordHasher(**TEMPORARY)
        # One dummy per parameter set, verified in place of the sets the attempt does not use.
        self._dummies: dict[str, str] = {}
        for hasher in (self._hasher, self._temporary):
            dummy = hasher.hash(secrets.token_urlsafe(16))
            self._dummies.setdefault(parameters(dummy) or "", dummy)

    def hash(self, password: str) -> str:
        start = time.perf_counter()
        try:
            return self._hasher.hash(password)
        finally:
            ARGON2.labels("hash").observe(time.perf_counter() - start)

    def hash_temporary(self, password: str) -> str:
        """A temporary password's hash, at the cheaper ``TEMPORARY`` cost."""
        return self._temporary.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash to check, whatever its parameters."""
        start = time.perf_counter()
        own = parameters(password_hash)
        ok = False
        for params, dummy in self._dummies.items():
            if params == own:
                ok = self._check(password_hash, password)
            else:
                self._check(dummy, password)
        if password_hash and own not in self._dummies:  # an older parameter set: rehashed
            ok = self._check(password_hash, password)  # at the next successful login
        ARGON2.labels("verify").observe(time.perf_counter() - start)
        return ok and bool(password_hash)

    def _check(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or "", password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @staticmethod
    def temporary() -> str:
        """A 12-character temporary password in three groups of four (``abcd-efgh-jkmn``)."""
        chars = "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(12))
        return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"
