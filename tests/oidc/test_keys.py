"""Signing keys: created on first start, encrypted at rest, rotated with old keys published."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.oidc.models import SigningKey
from tests.support.oidc import pkce


def _id_token(browser, rp):
    verifier, challenge = pkce()
    params = browser.code_flow(rp, code_challenge=challenge, code_challenge_method="S256")
    return browser.tokens(rp, params["code"], verifier).json()


class TestKeys:
    def test_private_keys_are_encrypted_at_rest(self, client, state):
        with state.uow() as db:
            rows = list(db.scalars(select(SigningKey)))
        assert {r.alg for r in rows} == {"ES256", "RS256"}
        for row in rows:
            assert '"d"' not in row.private_jwk_encrypted
            assert "d" not in row.public_jwk

    def test_rotation_keeps_old_tokens_verifiable(self, browser, client, state, rp, account):
        before = _id_token(browser, rp)
        old_kid = jwt.decode(
            before["id_token"], KeySet.import_key_set(client.get("/jwks").json())
        ).header["kid"]
        new_kids = state.keys.rotate()
        jwks = KeySet.import_key_set(client.get("/jwks").json())
        published = {k.kid for k in jwks}
        assert old_kid in published and set(new_kids) <= published
        jwt.decode(before["id_token"], jwks)  # still verifiable
        after = _id_token(browser, rp)
        new_header = jwt.decode(after["id_token"], jwks).header
        assert new_header["kid"] in new_kids
        # Access tokens signed by the retired key still work until they expire.
        assert (
            client.get(
                "/userinfo", headers={"Authorization": f"Bearer {before['access_token']}"}
            ).status_code
            == 200
        )

    def test_retired_keys_disappear_after_retention(self, client, state, clock):
        old = {k["kid"] for k in client.get("/jwks").json()["keys"]}
        state.keys.rotate()
        clock.advance(state.settings.key_retention + 1)
        state.keys.reload()
        now = {k["kid"] for k in client.get("/jwks").json()["keys"]}
        assert not (old & now) and len(now) == 2

    def test_rs256_client(self, browser, client, state, account):
        from tests.support.oidc import make_rp

        rp = make_rp(state, id_token_signed_response_alg="RS256")
        token = _id_token(browser, rp)["id_token"]
        assert (
            jwt.decode(token, KeySet.import_key_set(client.get("/jwks").json())).header["alg"]
            == "RS256"
        )
