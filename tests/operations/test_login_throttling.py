"""Login throttling that protects without locking out schools (issue 9 §2), with the injected
clock: numbers as documented in docs/operations.md ("Login throttling")."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from idp.accounts.login.authentication import authenticate, unlock
from idp.app import create_app
from idp.clock import FrozenClock
from idp.db import transaction
from tests.support.oidc import PASSWORD, make_account

SCHOOL = "192.0.2.10"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def state(settings, engine, clock):
    app = create_app(settings, clock=clock, background=False)
    with TestClient(app, base_url="http://localhost"):
        yield app.state.idp


def _lock(state, username: str, ip: str = "198.51.100.1") -> None:
    for _ in range(state.settings.login_max_failures_account + 1):
        authenticate(state, username, "bad", ip)
    assert authenticate(state, username, PASSWORD, ip).account_id is None


def _blocks(scope: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("educonnect_throttle_blocks_total", {"scope": scope}) or 0.0


def _too_many(result) -> bool:
    return result.account_id is None and "Trop de tentatives" in (result.error or "")


class TestAccount:
    def test_attempts_refused_during_a_lock_do_not_extend_it(self, state, clock):
        account = make_account(state, "p.insists")
        _lock(state, "p.insists")
        for _ in range(20):  # she keeps trying while locked
            assert _too_many(authenticate(state, "p.insists", PASSWORD, "198.51.100.1"))
            clock.advance(1)
        clock.advance(state.settings.login_lock_base_seconds)
        assert authenticate(state, "p.insists", PASSWORD, "198.51.100.1").account_id == account.id

    def test_a_password_reset_lifts_the_lock(self, state):
        from idp.accounts.models import Account
        from idp.accounts.recovery.service import set_password

        account = make_account(state, "r.eset")
        _lock(state, "r.eset")
        with transaction(state.sessions) as db:
            row = db.get(Account, account.id)
            set_password(state, db, row, state.passwords.hash("new password 2026"), reason="reset")
        assert authenticate(state, "r.eset", "new password 2026", "198.51.100.1").account_id

    def test_a_staff_unlock_lifts_the_lock(self, state):
        account = make_account(state, "s.taff")
        _lock(state, "s.taff")
        with transaction(state.sessions) as db:
            unlock(state, db, "s.taff")
        assert authenticate(state, "s.taff", PASSWORD, "198.51.100.1").account_id == account.id


class TestAddress:
    def test_a_school_address_is_not_locked_out(self, state):
        """A collège's parents share one address: 90 mistyped passwords in a few minutes, one
        parent who hammers her own account, and everyone else still logs in at once."""
        for i in range(90):
            authenticate(state, f"parent{i}", "typo", SCHOOL)
        for _ in range(12):
            authenticate(state, "p.hammer", "typo", SCHOOL)  # her account locks, not the school
        account = make_account(state, "p.late")
        assert authenticate(state, "p.late", PASSWORD, SCHOOL).account_id == account.id

    def test_past_the_allowance_a_growing_delay_not_a_block(self, state, clock):
        allowance = state.settings.login_max_failures_address
        for i in range(allowance):
            assert not _too_many(authenticate(state, f"u{i}", "bad", SCHOOL))
        assert not _too_many(authenticate(state, "x1", "bad", SCHOOL))  # delay 1 s starts
        blocks = _blocks("address")
        assert _too_many(authenticate(state, "x2", "bad", SCHOOL))
        assert _blocks("address") == blocks + 1
        clock.advance(1)
        assert not _too_many(authenticate(state, "x3", "bad", SCHOOL))  # delay now 2 s
        clock.advance(1)
        assert _too_many(authenticate(state, "x4", "bad", SCHOOL))
        clock.advance(1)
        account = make_account(state, "p.waits")
        assert authenticate(state, "p.waits", PASSWORD, SCHOOL).account_id == account.id
        # Other addresses are not affected at all.
        assert not _too_many(authenticate(state, "x5", "bad", "198.51.100.99"))

    def test_password_spraying_is_slowed_to_the_documented_rate(self, state, clock):
        """One address, a new identifier every second for 20 minutes, one password each: at most
        the allowance plus the paced attempts reach the password check per window."""
        s = state.settings
        window, allowance = s.login_address_window_seconds, s.login_max_failures_address
        seconds = 2 * window
        checked = 0
        for i in range(seconds):
            if not _too_many(authenticate(state, f"victim{i}", "Printemps2026!", "203.0.113.66")):
                checked += 1
            clock.advance(1)
        # Paced attempts k = 1, 2, … wait 1 + 2 + … + k seconds: k(k+1)/2 <= window.
        paced = max(k for k in range(1, window) if k * (k + 1) // 2 <= window)
        bound = (seconds // window + 1) * (allowance + paced)
        assert 2 * allowance < checked <= bound, (checked, bound)
        assert checked < seconds / 3  # without throttling every attempt would be checked
