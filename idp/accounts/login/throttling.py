"""Login throttling: per account, per address, per (address, identifier) pair.

Numbers and reasons in docs/operations.md ("Login throttling"). In short:

- **Per account** (identifier): an attempt first *reserves* a slot in an atomic counter, so
  parallel guesses never exceed ``login_max_failures_account``. Past it, a lock whose length
  doubles with each lock-out of the day. An attempt refused during a lock is not counted: a
  parent who keeps trying does not lengthen her own lock.
- **Per address**: only failures count, in a short window (``login_address_window_seconds``),
  and the allowance is high (``login_max_failures_address``) because a collège's 300 parents
  or a mobile operator's customers share one address. Past the allowance there is no hard
  block but a pace: one attempt per delay, the delay growing by a second per failure past the
  allowance up to ``login_address_max_delay_seconds``. The pace is taken atomically (the first
  attempt of each pacing window), so parallel attempts cannot beat it.
- **Per pair**: only the first ``login_max_failures_account`` failures of one identifier from
  one address count toward the address, so a person mistyping her own password spends her
  account's budget, not her school's; a spraying run (many identifiers, one password each)
  spends the address's.

Windows are measured with the injected clock on both stores (database and Redis).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.observability.metrics import THROTTLE_BLOCKS
from idp.state import AppState


@dataclass
class Wait:
    seconds: int
    locked_now: bool = False


class LoginThrottle:
    def __init__(self, state: AppState) -> None:
        self._s = state.settings
        self._store = state.stores.throttle
        self._clock = state.clock

    # -- per address ---------------------------------------------------------------------------
    def _window(self) -> int:
        return self._clock.timestamp() // self._s.login_address_window_seconds

    def address_delay(self, db: Session, ip: str) -> int:
        """The pace now imposed on ``ip`` (0 within its allowance)."""
        failures = self._store.count(db, f"ipfail:{ip}:{self._window()}")
        over = failures - self._s.login_max_failures_address
        return 0 if over < 0 else min(over + 1, self._s.login_address_max_delay_seconds)

    def address_wait(self, db: Session, ip: str) -> int:
        """0 if an attempt from ``ip`` may go ahead now (taking the pace's slot), else the
        seconds to wait."""
        delay = self.address_delay(db, ip)
        if delay == 0 or self._store.hit(db, f"ippace:{ip}", delay) == 1:
            return 0
        THROTTLE_BLOCKS.labels("address").inc()
        return delay

    def address_failed(self, db: Session, ip: str, name: str) -> None:
        window = self._s.login_address_window_seconds
        pair = self._store.hit(db, f"pairfail:{ip}:{name}:{self._window()}", window)
        if pair <= self._s.login_max_failures_account:
            self._store.hit(db, f"ipfail:{ip}:{self._window()}", window)

    # -- per account ---------------------------------------------------------------------------
    def reserve_account(self, db: Session, name: str) -> tuple[str | None, Wait]:
        """Take an attempt slot for the identifier; return the slot's counter, or ``None`` and
        the wait.

        Counters are per lock-out generation: locking bumps the generation, so attempts after
        the lock start a fresh count. A lock is checked before the hit (a refused attempt
        counts nothing) and again after it (an attempt racing the lock gives its hit back),
        so no attempt past the limit ever reaches the password check.
        """
        key = f"acct:{name}"
        if left := self._store.locked_for(db, key):
            THROTTLE_BLOCKS.labels("account").inc()
            return None, Wait(left)
        generation = self._store.count(db, f"lockouts:{key}")
        counter = f"login:{key}:{generation}"
        hits = self._store.hit(db, counter, self._s.login_lock_max_seconds)
        if left := self._store.locked_for(db, key):
            self._store.release(db, counter)
            THROTTLE_BLOCKS.labels("account").inc()
            return None, Wait(left)
        if hits > self._s.login_max_failures_account:
            seconds = min(
                self._s.login_lock_base_seconds * 2**generation, self._s.login_lock_max_seconds
            )
            self._store.lock(db, key, seconds)
            self._store.hit(db, f"lockouts:{key}", 24 * 3600)
            THROTTLE_BLOCKS.labels("account").inc()
            return None, Wait(seconds, locked_now=True)
        return counter, Wait(0)

    def succeeded(self, db: Session, slot: str) -> None:
        """A right password: the identifier's failures are forgiven."""
        self._store.reset(db, slot)

    def unlock(self, db: Session, name: str) -> None:
        """Lift the identifier's lock and forgive its failures (a staff unlock, a reset)."""
        key = f"acct:{name}"
        generation = self._store.count(db, f"lockouts:{key}")
        self._store.unlock(db, key)
        # Generations restart at 0, so every counter up to the current one must go.
        for older in range(generation + 1):
            self._store.reset(db, f"login:{key}:{older}")
        self._store.reset(db, f"lockouts:{key}")
