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
from idp.db import transaction
from idp.i18n import _, ngettext
from idp.state import AppState

BAD_CREDENTIALS = _("Identifiant ou mot de passe incorrect.")
DISABLED = _("Ce compte est désactivé. Contactez l'école ou l'établissement de votre enfant.")
RETIRED = _(
    "Ce compte a été regroupé avec un autre compte ÉduConnect : connectez-vous avec "
    "l'identifiant du compte que vous avez conservé."
)
EXPIRED = _(
    "Votre courrier de notification a expiré (validité de 3 mois). Demandez de nouveaux "
    "identifiants à l'école ou à l'établissement."
)


def too_many(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Trop de tentatives de connexion. Réessayez dans %(minutes)s minute.",
        "Trop de tentatives de connexion. Réessayez dans %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


@dataclass
class LoginResult:
    account_id: str | None
    error: str | None = None
    #: The throttle slots this attempt holds, given back by ``admit`` once admitted.
    slots: tuple[str, str] | None = None


def normalise_username(username: str) -> str:
    return username.strip().lower()[:64]


def authenticate(state: AppState, username: str, password: str, ip: str) -> LoginResult:
    """Check a password login and admit the account. Call it outside any unit of work."""
    checked = check_password(state, username, password, ip)
    if checked.account_id is None:
        return checked
    with transaction(state.sessions) as db:
        error = admit(state, db, checked, password, ip)
    return LoginResult(None if error else checked.account_id, error)


def check_password(state: AppState, username: str, password: str, ip: str) -> LoginResult:
    """Reserve the attempt, then verify the password. Call it outside any transaction: none
    (and no SQLite write lock) may be held during argon2, and the reservation must be visible
    to parallel attempts before the check. So a password login is the one journey in three
    transactions: the reservation and the account read here, a refusal's audit event here,
    and the admission (``admit``) in the caller's."""
    s = state.settings
    name = normalise_username(username)
    with transaction(state.sessions) as db:
        user_slot, user_wait = _reserve(state, db, f"acct:{name}", s.login_max_failures_account)
        ip_slot, ip_wait = _reserve(state, db, f"ip:{ip}", s.login_max_failures_address)
        if user_slot is None or ip_slot is None:
            for slot in (user_slot, ip_slot):
                if slot is not None:
                    state.stores.throttle.release(db, slot)
            if user_slot is None and user_wait.locked_now:
                _mark_locked(state, db, name, user_wait.seconds)
            wait = user_wait if user_slot is None else ip_wait
            if wait.locked_now:
                state.audit.record(
                    db, "login.locked", ip=ip, detail={"identifier": name, "seconds": wait.seconds}
                )
            return LoginResult(None, too_many(wait.seconds))
        found = db.execute(
            select(Account.id, Account.password_hash).where(Account.username == name)
        ).first()
    account_id, password_hash = found if found else (None, None)
    if not state.passwords.verify(password_hash, password) or account_id is None:
        with transaction(state.sessions) as db:
            state.audit.record(
                db, "login.failed", ip=ip, target_type="account", target_id=account_id
            )
        return LoginResult(None, BAD_CREDENTIALS)
    return LoginResult(account_id, None, (user_slot, ip_slot))


def admit(state: AppState, db: Session, checked: LoginResult, password: str, ip: str) -> str | None:
    """After a right password: give the slots back, check the account's state, record the
    login. Returns the French reason when the account may not log in."""
    user_slot, ip_slot = checked.slots
    # The identifier's failures are forgiven, the address's slot freed.
    state.stores.throttle.reset(db, user_slot)
    state.stores.throttle.release(db, ip_slot)
    account = db.get(Account, checked.account_id)
    error = _admit(state, account, password)
    if error is None:
        state.audit.record(
            db,
            "login.succeeded",
            actor_account_id=account.id,
            ip=ip,
            target_type="account",
            target_id=account.id,
        )
    return error


@dataclass
class _Wait:
    seconds: int
    locked_now: bool = False


def _reserve(state: AppState, db: Session, key: str, limit: int) -> tuple[str | None, _Wait]:
    """Take an attempt slot for ``key``; return the slot's counter, or ``None`` and the wait.

    Counters are per lock-out generation: locking bumps the generation, so attempts after the
    lock start a fresh count. The lock is set *before* the generation moves and checked *after*
    the hit, so an attempt racing a lock either lands on the full counter or sees the lock.
    """
    s = state.settings
    throttle = state.stores.throttle
    generation = throttle.count(db, f"lockouts:{key}")
    counter = f"login:{key}:{generation}"
    hits = throttle.hit(db, counter, s.login_lock_max_seconds)
    if left := throttle.locked_for(db, key):
        return None, _Wait(left)
    if hits > limit:
        seconds = min(s.login_lock_base_seconds * 2**generation, s.login_lock_max_seconds)
        throttle.lock(db, key, seconds)
        throttle.hit(db, f"lockouts:{key}", 24 * 3600)
        return None, _Wait(seconds, locked_now=True)
    return counter, _Wait(0)


def _admit(state: AppState, account: Account, password: str) -> str | None:
    """The state checks that follow a right password; updates the account when admitted."""
    now = state.clock.now()
    if account.state == AccountState.retired:
        return RETIRED
    if account.state == AccountState.disabled:
        return DISABLED
    if (
        account.state == AccountState.notified
        and account.notification_expires_at
        and account.notification_expires_at <= now
    ):
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


def _mark_locked(state: AppState, db: Session, name: str, seconds: int) -> None:
    """Directors see the lock (state ``locked``) and can lift it."""
    account = db.scalar(select(Account).where(Account.username == name))
    if account is not None and account.state == AccountState.active:
        account.state = AccountState.locked
        account.locked_until = state.clock.now() + timedelta(seconds=seconds)


def unlock(state: AppState, db: Session, username: str) -> None:
    """Lift a login lock and forgive the failures (an administrator's unlock, a reset)."""
    throttle = state.stores.throttle
    key = f"acct:{normalise_username(username)}"
    generation = throttle.count(db, f"lockouts:{key}")
    throttle.unlock(db, key)
    # Generations restart at 0, so every counter up to the current one must go.
    for older in range(generation + 1):
        throttle.reset(db, f"login:{key}:{older}")
    throttle.reset(db, f"lockouts:{key}")
