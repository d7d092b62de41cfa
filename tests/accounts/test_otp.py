"""One-time codes: hashing, expiry, attempts, single use, limits (idp.accounts.journeys.otp)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.accounts.journeys import otp
from idp.accounts.journeys.models import OtpChallenge
from idp.db import transaction
from tests.accounts import helpers as h

NUMBER = "+33611111111"


def _issue(state, subject=NUMBER, send_to=NUMBER, **kwargs):
    with transaction(state.sessions) as db:
        return otp.issue(state, db, otp.Purpose.registration, subject, send_to, **kwargs)


def _verify(state, challenge, code, **kwargs):
    with transaction(state.sessions) as db:
        return otp.verify(state, db, challenge, code, **kwargs)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


class TestOtp:
    def test_code_is_sent_and_stored_hashed(self, state):
        challenge = _issue(state)
        code = h.last_code(state, NUMBER)
        assert len(code) == 6
        with transaction(state.sessions) as db:
            row = db.get(OtpChallenge, challenge)
            assert code not in row.code_hash and len(row.code_hash) == 64
        result = _verify(
            state, challenge, f" {code[:3]} {code[3:]} ", purpose="registration", subject=NUMBER
        )
        assert result.ok and result.subject == NUMBER

    def test_single_use(self, state):
        challenge = _issue(state)
        code = h.last_code(state, NUMBER)
        assert _verify(state, challenge, code).ok
        assert _verify(state, challenge, code).reason == "used"

    def test_three_wrong_attempts_kill_the_code(self, state):
        challenge = _issue(state)
        code = h.last_code(state, NUMBER)
        assert [_verify(state, challenge, _wrong(code)).attempts_left for _ in range(2)] == [2, 1]
        assert _verify(state, challenge, _wrong(code)).reason == "exhausted"
        assert _verify(state, challenge, code).reason == "exhausted"

    def test_expires_after_ten_minutes(self, state, clock):
        challenge = _issue(state)
        code = h.last_code(state, NUMBER)
        clock.advance(otp.TTL_SECONDS + 1)
        assert _verify(state, challenge, code).reason == "expired"

    def test_a_new_code_replaces_the_previous_one(self, state):
        first = _issue(state)
        first_code = h.last_code(state, NUMBER)
        second = _issue(state)
        assert _verify(state, first, first_code).reason in ("used", "unknown")
        assert _verify(state, second, h.last_code(state, NUMBER)).ok

    def test_purpose_and_subject_must_match(self, state):
        challenge = _issue(state)
        code = h.last_code(state, NUMBER)
        assert _verify(state, challenge, code, purpose="recovery").reason == "unknown"
        assert _verify(state, challenge, code, subject="+33700000000").reason == "unknown"
        assert _verify(state, challenge, code, purpose="registration").ok

    def test_malformed_and_unknown(self, state):
        challenge = _issue(state)
        assert _verify(state, challenge, "12a456").reason == "malformed"
        assert _verify(state, "nope", "123456").reason == "unknown"

    def test_sends_per_number_are_limited(self, state):
        for _ in range(otp.SENDS_PER_DESTINATION):
            _issue(state)
        with pytest.raises(otp.OtpRateLimited):
            _issue(state)
        assert len(h.outbox(state, "otp", NUMBER)) == otp.SENDS_PER_DESTINATION

    def test_sends_per_address_are_limited(self, state):
        for i in range(otp.SENDS_PER_ADDRESS):
            _issue(state, subject=f"s{i}", send_to=f"+3361111{i:04d}", ip="192.0.2.1")
        with pytest.raises(otp.OtpRateLimited):
            _issue(state, subject="last", send_to="+33622222222", ip="192.0.2.1")

    def test_decoy_is_stored_but_not_sent(self, state):
        challenge = _issue(state, deliver=False)
        assert h.outbox(state) == []
        with transaction(state.sessions) as db:
            assert db.scalar(select(OtpChallenge.id).where(OtpChallenge.id == challenge))

    def test_code_by_email(self, state):
        challenge = _issue(state, subject="x", send_to="parent@example.fr")
        mail = h.outbox(state, "otp", "parent@example.fr")[-1]
        assert mail.channel == "email" and mail.subject.startswith("Votre code")
        assert _verify(state, challenge, h.last_code(state, "parent@example.fr")).ok

    def test_mask(self):
        assert otp.mask("+33612345678") == "06 •• •• •• 78"
        assert otp.mask("jeanne@example.fr") == "j•••@example.fr"
