"""Signing keys: created on first start, encrypted at rest, rotated with old keys published."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from idp.oidc.keys import ACTIVATION_DELAY, ALGORITHMS, JWKS_MAX_AGE, KeyManager
from idp.oidc.models import SigningKey
from tests.support.oidc import pkce


def _id_token(browser, rp):
    verifier, challenge = pkce()
    params = browser.code_flow(rp, code_challenge=challenge, code_challenge_method="S256")
    return browser.tokens(rp, params["code"], verifier).json()


def _kid(token: str) -> str:
    from joserfc.jws import extract_compact

    return extract_compact(token.encode()).protected["kid"]


class TestKeys:
    def test_private_keys_are_encrypted_at_rest(self, client, state):
        with state.sessions() as db:
            rows = list(db.scalars(select(SigningKey)))
        assert {r.alg for r in rows} == {"ES256", "RS256"}
        for row in rows:
            assert '"d"' not in row.private_jwk_encrypted
            assert "d" not in row.public_jwk

    def test_rotation_publishes_the_next_key_before_signing_with_it(
        self, browser, client, state, rp, account, clock
    ):
        before = _id_token(browser, rp)
        old_kid = jwt.decode(
            before["id_token"], KeySet.import_key_set(client.get("/jwks").json())
        ).header["kid"]
        new_kids = state.keys.rotate()
        # A relying party that fetched the JWKS just now already has the next keys...
        cached = KeySet.import_key_set(client.get("/jwks").json())
        assert old_kid in {k.kid for k in cached} and set(new_kids) <= {k.kid for k in cached}
        # ...and tokens are still signed with the old key until every cached JWKS expired.
        assert _kid(_id_token(browser, rp)["id_token"]) == old_kid
        assert state.keys.activation_time() - clock.now() >= timedelta(seconds=JWKS_MAX_AGE)
        clock.advance(ACTIVATION_DELAY.total_seconds())
        state.keys.reload()
        after = _id_token(browser, rp)
        assert jwt.decode(after["id_token"], cached).header["kid"] in new_kids
        jwt.decode(before["id_token"], KeySet.import_key_set(client.get("/jwks").json()))
        # Access tokens signed by the replaced key still work until they expire.
        assert (
            client.get(
                "/userinfo", headers={"Authorization": f"Bearer {before['access_token']}"}
            ).status_code
            == 200
        )

    def test_replaced_keys_disappear_after_retention(self, client, state, clock):
        old = {k["kid"] for k in client.get("/jwks").json()["keys"]}
        state.keys.rotate()
        clock.advance(ACTIVATION_DELAY.total_seconds())
        state.keys.ensure_keys()  # writes the switch down
        with state.sessions() as db:
            states = {k.kid: k.state for k in db.scalars(select(SigningKey))}
        assert {states[kid] for kid in old} == {"retired"}
        clock.advance(state.settings.key_retention - 1)
        state.keys.reload()
        assert old <= {k["kid"] for k in client.get("/jwks").json()["keys"]}
        clock.advance(2)
        state.keys.reload()
        now = {k["kid"] for k in client.get("/jwks").json()["keys"]}
        assert not (old & now) and len(now) == 2

    def test_a_next_key_appears_only_when_rotate_runs(self, client, state):
        state.keys.ensure_keys()
        first = state.keys.rotate()
        assert state.keys.rotate() == first  # still pending: no third key
        state.keys.ensure_keys()
        with state.sessions() as db:
            assert len(list(db.scalars(select(SigningKey)))) == 4

    def test_the_database_refuses_a_second_active_key(self, client, state):
        with state.sessions() as db:
            existing = db.scalars(select(SigningKey).where(SigningKey.state == "active")).first()
            twin = SigningKey(
                kid="twin",
                alg=existing.alg,
                state="active",
                private_jwk_encrypted=existing.private_jwk_encrypted,
                public_jwk=existing.public_jwk,
                created_at=existing.created_at,
            )
            db.add(twin)
            with pytest.raises(IntegrityError):
                db.commit()

    def test_sixteen_processes_starting_at_once_make_one_key_per_algorithm(
        self, settings, database_url, clock
    ):
        from idp.db import make_engine, make_session_factory

        engines = [make_engine(database_url) for _ in range(16)]
        managers = [KeyManager(settings, make_session_factory(e), clock) for e in engines]
        with make_session_factory(engines[0])() as db, db.begin():
            db.execute(delete(SigningKey))
        start = threading.Barrier(16)

        def first_start(manager):
            start.wait()
            manager.ensure_keys()
            return {alg: manager.signing_key(alg).kid for alg in ALGORITHMS}

        try:
            with ThreadPoolExecutor(16) as pool:
                chosen = list(pool.map(first_start, managers))
            with make_session_factory(engines[0])() as db:
                rows = list(db.scalars(select(SigningKey)))
        finally:
            for e in engines:
                e.dispose()
        assert sorted(r.alg for r in rows) == sorted(ALGORITHMS)
        assert all(c == chosen[0] for c in chosen)  # every process signs with the same keys

    def test_rs256_client(self, browser, client, state, account):
        from tests.support.oidc import make_rp

        rp = make_rp(state, id_token_signed_response_alg="RS256")
        token = _id_token(browser, rp)["id_token"]
        assert (
            jwt.decode(token, KeySet.import_key_set(client.get("/jwks").json())).header["alg"]
            == "RS256"
        )
