"""Password login with throttling that cannot be raced.

Each attempt first *reserves* a slot in two atomic counters (per identifier, per address). Only
attempts that got a slot within the limit reach the password check, so parallel guesses never
exceed the limit. Past it, a lock is set whose length doubles with each lock-out of the day
(``login_lock_base_seconds`` … ``login_lock_max_seconds``). An unknown identifier goes through
exactly the same steps, including an argon2 verification, so neither the answer nor its timing
tells whether an account exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountState
from idp.state import AppState

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
DISABLED = "Ce compte est désactivé. Contactez l'école ou l'établissement de votre enfant."
EXPIRED = (
    "Votre courrier de notification a expiré (validité de 3 mois). Demandez de nouveaux "
    "identifiants à l'école ou à l'établissement de votre enfant."
)


def too_many(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Trop de tentatives de connexion. Réessayez dans {minutes} {unit}."


@dataclass
class LoginResult:
    account_id: str | None
    error: str | None = None


def normalise_username(username: str) -> str:
    return username.strip().lower()[:64]


def authenticate(state: AppState, username: str, password: str, ip: str) -> LoginResult:
    """Check a password login. Call it outside any unit of work: it runs short transactions of
    its own so that no transaction (and no SQLite write lock) is held during argon2."""
    s = state.settings
    throttle = state.stores.throttle
    name = normalise_username(username)
    user_key = f"acct:{name}"
    ip_key = f"ip:{ip}"

    for key in (user_key, ip_key):
        if left := throttle.locked_for(key):
            return LoginResult(None, too_many(left))

    user_hits = throttle.hit(f"login:{user_key}", s.login_lock_max_seconds)
    ip_hits = throttle.hit(f"login:{ip_key}", s.login_lock_max_seconds)
    if user_hits > s.login_max_failures_account or ip_hits > s.login_max_failures_address:
        key = user_key if user_hits > s.login_max_failures_account else ip_key
        seconds = _lock(state, key)
        with state.uow() as db:
            if key == user_key:
                _mark_locked(state, db, name, seconds)
            state.audit.record(db, "login.locked", ip=ip, detail={"key": key, "seconds": seconds})
        return LoginResult(None, too_many(seconds))

    with state.uow() as db:
        found = db.execute(select(Account.id, Account.password_hash).where(Account.username == name)).first()
    account_id, password_hash = found if found else (None, None)
    if not state.passwords.verify(password_hash, password) or account_id is None:
        state.audit.record_now("login.failed", ip=ip, target_type="account", target_id=account_id)
        return LoginResult(None, BAD_CREDENTIALS)

    # The password was right: give the slots back.
    throttle.reset(f"login:{user_key}")
    throttle.release(f"login:{ip_key}")
    with state.uow() as db:
        account = db.get(Account, account_id)
        error = _admit(state, account, password)
        if error is None:
            state.audit.record(db, "login.succeeded", actor_account_id=account.id, ip=ip, target_type="account", target_id=account.id)
    return LoginResult(None if error else account_id, error)


def _admit(state: AppState, account: Account, password: str) -> str | None:
    """The state checks that follow a right password; updates the account when admitted."""
    now = state.clock.now()
    if account.state in (AccountState.disabled, AccountState.retired):
        return DISABLED
    if account.state == AccountState.notified and account.notification_expires_at and account.notification_expires_at <= now:
        account.state = AccountState.expired
        return EXPIRED
    if account.state == AccountState.expired:
        return EXPIRED
    if account.password_hash and state.passwords.needs_rehash(account.password_hash):
        account.password_hash = state.passwords.hash(password)
    account.failed_logins = 0
    account.locked_until = None
    if account.state == AccountState.locked:
        account.state = AccountState.active
    account.last_login_at = now
    return None


def _lock(state: AppState, key: str) -> int:
    s = state.settings
    throttle = state.stores.throttle
    lockouts = throttle.hit(f"lockouts:{key}", 24 * 3600)
    seconds = min(s.login_lock_base_seconds * 2 ** (lockouts - 1), s.login_lock_max_seconds)
    throttle.lock(key, seconds)
    throttle.reset(f"login:{key}")
    return seconds


def _mark_locked(state: AppState, db: Session, name: str, seconds: int) -> None:
    """Directors see the lock (state ``locked``) and can lift it."""
    account = db.scalar(select(Account).where(Account.username == name))
    if account is not None and account.state == AccountState.active:
        account.state = AccountState.locked
        account.locked_until = state.clock.now() + timedelta(seconds=seconds)
