"""The same argon2 work for every wrong password, whatever the account's hash (issue 9 §3):
counted by parameter set, not timed."""

from __future__ import annotations

from collections import Counter

import pytest
from starlette.testclient import TestClient

from idp.accounts.passwords import TEMPORARY, Passwords, parameters
from idp.app import create_app
from tests.support.oidc import make_account


@pytest.fixture
def state(settings, engine):
    app = create_app(settings, background=False)
    with TestClient(app, base_url="http://localhost"):
        yield app.state.idp


def _work(passwords: Passwords, password_hash: str | None) -> Counter:
    """The argon2 parameter sets verified for one wrong password."""
    seen: Counter = Counter()
    inner = passwords._hasher

    class Counting:
        def verify(self, hashed, password):
            seen[parameters(hashed)] += 1
            return inner.verify(hashed, password)

        def __getattr__(self, name):
            return getattr(inner, name)

    passwords._hasher = Counting()
    try:
        assert passwords.verify(password_hash, "wrong password") is False
    finally:
        passwords._hasher = inner
    return seen


def test_temporary_known_and_unknown_cost_the_same(state):
    passwords = state.passwords
    temporary = passwords.hash_temporary(passwords.temporary())
    chosen = passwords.hash("a chosen password")
    assert parameters(temporary) != parameters(chosen)  # two parameter sets in use
    unknown = _work(passwords, None)
    assert _work(passwords, temporary) == unknown == _work(passwords, chosen)
    assert set(unknown) == {parameters(temporary), parameters(chosen)}


def test_issued_letters_use_the_temporary_parameters(state):
    """The director's tool hashes through Passwords, so the dummy of its set exists."""
    from idp.admin.schools import issuing

    account = make_account(state, "t.emporary")
    with state.sessions() as db, db.begin():
        row = db.merge(account)
        issuing._stamp(state, row, "abcd-efgh-jkmn")
        stored = row.password_hash
    expected = f"m={TEMPORARY['memory_cost']},t={TEMPORARY['time_cost']},p=1"
    assert parameters(stored) == expected
    assert _work(state.passwords, stored) == _work(state.passwords, None)
    assert state.passwords.verify(stored, "abcd-efgh-jkmn")
