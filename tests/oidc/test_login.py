"""The hosted login: no user enumeration, throttling that cannot be raced, argon2id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher

from idp.accounts.login.authentication import authenticate, unlock
from idp.accounts.models import Account, AccountState
from idp.db import transaction
from tests.support.oidc import PASSWORD, csrf_of, make_account


def _post_login(client, username, password):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def _strip(html: str) -> str:
    import re

    return re.sub(r'value="[^"]*"', 'value=""', html)


class TestLogin:
    def test_success_sets_a_safe_session_cookie(self, client, account):
        response = _post_login(client, "j.martin", PASSWORD)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert (
            "ec_session=" in cookie
            and "HttpOnly" in cookie
            and "SameSite=lax" in cookie.replace("Lax", "lax")
        )

    def test_identifier_is_case_insensitive(self, client, account):
        assert _post_login(client, "  J.Martin ", PASSWORD).status_code == 303

    def test_unknown_identifier_and_wrong_password_look_the_same(self, client, account):
        unknown = _post_login(client, "nobody", "whatever")
        wrong = _post_login(client, "j.martin", "whatever")
        assert unknown.status_code == wrong.status_code == 400
        assert _strip(unknown.text).replace("nobody", "X") == _strip(wrong.text).replace(
            "j.martin", "X"
        )

    def test_unknown_identifier_costs_an_argon2_verification(self, state, account):
        """Same work either way: the argon2 hasher runs once per attempt, known or not."""
        calls = []

        class CountingHasher:
            def __init__(self, inner):
                self.inner = inner

            def verify(self, hashed, password):
                calls.append(hashed)
                return self.inner.verify(hashed, password)

            def __getattr__(self, name):
                return getattr(self.inner, name)

        original = state.passwords._hasher
        state.passwords._hasher = CountingHasher(original)
        try:
            authenticate(state, "nobody", "not the password", "10.0.0.1")
            authenticate(state, "j.martin", "not the password", "10.0.0.1")
        finally:
            state.passwords._hasher = original
        assert len(calls) == 2 and all(h.startswith("$argon2id$") for h in calls)

    def test_login_without_csrf_is_refused(self, client, account):
        client.get("/login")
        response = client.post(
            "/login", data={"username": "j.martin", "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 403

    def test_disabled_account(self, client, state):
        make_account(state, "d.off", state=AccountState.disabled)
        response = _post_login(client, "d.off", PASSWORD)
        assert response.status_code == 400 and "désactivé" in response.text


class TestThrottling:
    def test_lock_after_too_many_failures_then_growing_delay(self, state, account):
        limit = state.settings.login_max_failures_account
        for _ in range(limit):
            assert authenticate(state, "j.martin", "bad", "10.0.0.2").error
        locked = authenticate(state, "j.martin", PASSWORD, "10.0.0.2")
        assert locked.account_id is None and "Trop de tentatives" in locked.error
        # Even the right password is refused while locked.
        assert authenticate(state, "j.martin", PASSWORD, "10.0.0.3").account_id is None
        with transaction(state.sessions) as db:
            assert db.get(Account, account.id).state == AccountState.locked

    def test_parallel_guesses_never_exceed_the_limit(self, state, account):
        limit = state.settings.login_max_failures_account
        checked = []
        original = state.passwords.verify

        def counting_verify(password_hash, password):
            checked.append(1)
            return original(password_hash, password)

        state.passwords.verify = counting_verify
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda i: authenticate(state, "j.martin", f"guess{i}", f"10.1.0.{i}"),
                    range(3 * limit),
                )
            )
        assert len(checked) <= limit

    def test_unlock_lifts_the_lock(self, state, account):
        for _ in range(state.settings.login_max_failures_account + 1):
            authenticate(state, "j.martin", "bad", "10.0.0.5")
        assert authenticate(state, "j.martin", PASSWORD, "10.0.0.5").account_id is None
        with transaction(state.sessions) as db:
            unlock(state, db, "j.martin")
        assert authenticate(state, "j.martin", PASSWORD, "10.0.0.5").account_id == account.id

    def test_per_address_limit_covers_many_identifiers(self, state):
        limit = state.settings.login_max_failures_address
        results = [authenticate(state, f"user{i}", "bad", "10.9.9.9") for i in range(limit + 2)]
        assert "Trop de tentatives" in results[-1].error

    def test_success_resets_the_account_counter(self, state, account):
        limit = state.settings.login_max_failures_account
        for _ in range(limit - 1):
            authenticate(state, "j.martin", "bad", "10.0.0.4")
        assert authenticate(state, "j.martin", PASSWORD, "10.0.0.4").account_id == account.id
        for _ in range(limit - 1):
            authenticate(state, "j.martin", "bad", "10.0.0.4")
        assert authenticate(state, "j.martin", PASSWORD, "10.0.0.4").account_id == account.id


class TestPasswordHashing:
    def test_argon2id_with_owasp_defaults(self):
        from idp.accounts.passwords import Passwords
        from idp.settings import Settings

        passwords = Passwords(
            Settings(env="test", secret_key="x" * 40, key_encryption_key="y" * 40)
        )
        hashed = passwords.hash("secret")
        assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")

    def test_rehash_when_parameters_change(self, client, state, account):
        weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
        with transaction(state.sessions) as db:
            db.get(Account, account.id).password_hash = weak
        assert _post_login(client, "j.martin", PASSWORD).status_code == 303
        with transaction(state.sessions) as db:
            assert db.get(Account, account.id).password_hash != weak
