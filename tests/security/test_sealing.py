"""One key derivation, browser seals and seals at rest (idp.security.sealing)."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.security.sealing import AtRest, BrowserSeal, Seals, derive_key

SECRET = "s" * 43


class FakeNow:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


class TestDeriveKey:
    def test_one_key_per_purpose(self):
        assert derive_key(SECRET, "a") != derive_key(SECRET, "b")
        assert derive_key(SECRET, "a") == derive_key(SECRET, "a")
        assert len(derive_key(SECRET, "a", 20)) == 20

    def test_keys_at_rest_before_this_module_still_open(self):
        """Private keys and TOTP secrets were sealed with HKDF(info=educonnect/<purpose>)."""
        old = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"educonnect/jwk-at-rest")
        nonce = os.urandom(12)
        blob = base64.b64encode(
            nonce + AESGCM(old.derive(SECRET.encode())).encrypt(nonce, b"{}", b"kid1")
        ).decode()
        assert AtRest(SECRET, "jwk-at-rest").open(blob, "kid1") == b"{}"


class TestBrowserSeal:
    def test_round_trip_and_expiry(self):
        now = FakeNow()
        seal = BrowserSeal(SECRET, "journey/x", now=now)
        token = seal.seal({"step": "sms", "m": "+33611223344"}, ttl=60)
        assert seal.open(token) == {"step": "sms", "m": "+33611223344"}
        assert "+336" not in base64.urlsafe_b64decode(token.split(".")[3] + "==").decode("latin1")
        now.t += 61
        assert seal.open(token) is None

    def test_another_purpose_or_secret_refuses_it(self):
        token = BrowserSeal(SECRET, "a").seal({"v": 1}, 60)
        assert BrowserSeal(SECRET, "b").open(token) is None
        assert BrowserSeal("t" * 43, "a").open(token) is None

    @pytest.mark.parametrize("bad", [None, "", "x", "a.b.c.d.e", "é" * 10, "a" * 20000])
    def test_garbage_is_refused(self, bad):
        assert BrowserSeal(SECRET, "a").open(bad) is None

    def test_tampering_is_refused(self):
        seal = BrowserSeal(SECRET, "a")
        token = seal.seal({"v": 1}, 60)
        parts = token.split(".")
        parts[3] = parts[3][:-2] + ("AA" if parts[3][-2:] != "AA" else "BB")
        assert seal.open(".".join(parts)) is None


class TestAtRest:
    def test_bound_to_its_row(self):
        box = AtRest(SECRET, "totp-at-rest", compress=True)
        blob = box.seal(b"JBSWY3DPEHPK3PXP", "account-1")
        assert box.open(blob, "account-1") == b"JBSWY3DPEHPK3PXP"
        with pytest.raises(InvalidTag):
            box.open(blob, "account-2")

    def test_seals_are_made_once_per_purpose(self):
        seals = Seals(SECRET, "k" * 43)
        assert seals.browser("a") is seals.browser("a")
        assert seals.at_rest("a") is seals.at_rest("a")
        assert seals.browser("a") is not seals.browser("b")
