"""argon2id password hashing (RFC 9106 / OWASP parameters) and temporary passwords."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from idp.settings import Settings

# Easy to read from paper and type on a phone: no 0/O, 1/l/I, no symbols that need a shift.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )
        # Verified against when the identifier is unknown, so both answers cost the same time.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash to check."""
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and bool(
                password_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @staticmethod
    def temporary() -> str:
        """A 12-character temporary password in three groups of four (``abcd-efgh-jkmn``)."""
        chars = "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(12))
        return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"
