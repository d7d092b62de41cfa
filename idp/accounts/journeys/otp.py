"""One-time codes sent by SMS (or e-mail): self-registration, recovery, mobile change,
FranceConnect linking.

Public API (stable; other journeys build on it)::

    challenge_id = otp.issue(state, db, otp.Purpose.registration, subject="+33612345678",
                             send_to="+33612345678", ip=client_ip(request))
    result = otp.verify(state, db, challenge_id, code, purpose=otp.Purpose.registration)
    if result.ok: ...     # result.subject is what the code proved control of
    else: result.reason   # wrong | expired | exhausted | used | unknown | malformed

Rules:
- 6 random digits (``secrets``); only ``HMAC-SHA256(server key, challenge id + code)`` is stored,
  so a database dump does not give the codes away (a bare hash of 6 digits would).
- Valid 10 minutes, 3 wrong attempts kill the challenge, single use; the comparison is
  constant-time and the attempt counter grows with one atomic ``UPDATE ... RETURNING``, so
  parallel guesses cannot exceed the limit.
- Issuing a new code for the same purpose and subject kills the previous one.
- At most 3 codes per hour to one destination and 20 per hour from one address (throttle store,
  shared by every instance); past that ``OtpRateLimited`` is raised *before* anything is stored.
- ``deliver=False`` issues a decoy: same rows, same limits, nothing sent. Pages that must not
  reveal whether a number is known issue one when it is not, so the flows stay identical.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.journeys.models import OtpChallenge
from idp.security.sealing import derive_key
from idp.state import AppState

TTL_SECONDS = 10 * 60
MAX_ATTEMPTS = 3
SENDS_PER_DESTINATION = 3
SENDS_PER_ADDRESS = 20
SEND_WINDOW = 3600


class Purpose(enum.StrEnum):
    registration = "registration"
    recovery = "recovery"
    mobile_change = "mobile_change"
    franceconnect_link = "franceconnect_link"


class OtpRateLimited(Exception):
    """Too many codes asked for; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many codes; retry in {retry_after}s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Result:
    ok: bool
    reason: str  # ok | wrong | expired | exhausted | used | unknown | malformed
    attempts_left: int = 0
    subject: str | None = None


def _key(state: AppState) -> bytes:
    return derive_key(state.settings.secrets["secret_key"], "otp")


def _digest(state: AppState, challenge_id: str, code: str) -> str:
    return hmac.new(_key(state), f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _check_limits(state: AppState, db: Session, send_to: str, ip: str | None) -> None:
    throttle = state.stores.throttle
    keys = [(f"otp:to:{send_to}", SENDS_PER_DESTINATION)]
    if ip:
        keys.append((f"otp:ip:{ip}", SENDS_PER_ADDRESS))
    for key, _ in keys:
        if left := throttle.locked_for(db, key):
            raise OtpRateLimited(left)
    for key, limit in keys:
        if throttle.hit(db, key, SEND_WINDOW) > limit:
            throttle.lock(db, key, SEND_WINDOW)
            raise OtpRateLimited(SEND_WINDOW)


def issue(
    state: AppState,
    db: Session,
    purpose: Purpose | str,
    subject: str,
    send_to: str,
    *,
    ip: str | None = None,
    deliver: bool = True,
) -> str:
    """Create a challenge and send its code to ``send_to`` (E.164 number, or an e-mail address
    when it contains ``@``). Returns the challenge id to keep (in a signed form field, say)."""
    from idp.messaging.messenger import messenger

    purpose = Purpose(purpose)
    _check_limits(state, db, send_to, ip)
    now = state.clock.now()
    db.execute(
        update(OtpChallenge)
        .where(
            OtpChallenge.purpose == purpose.value,
            OtpChallenge.subject == subject,
            OtpChallenge.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    challenge = OtpChallenge(
        purpose=purpose.value,
        subject=subject,
        code_hash="",
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(seconds=TTL_SECONDS),
    )
    db.add(challenge)
    db.flush()
    code = f"{secrets.randbelow(10**6):06d}"
    challenge.code_hash = _digest(state, challenge.id, code)
    state.audit.record(
        db,
        "otp.issued",
        ip=ip,
        target_type="otp",
        target_id=challenge.id,
        detail={"purpose": purpose.value, "sent": deliver},
    )
    if deliver:
        send = messenger(state).mail if "@" in send_to else messenger(state).sms
        send(db, send_to, "otp", code=code, minutes=TTL_SECONDS // 60, purpose=purpose.value)
    return challenge.id


def normalise_code(raw: str) -> str | None:
    """The six digits typed, spaces removed; ``None`` when it is not six digits."""
    code = "".join(raw.split())
    return code if len(code) == 6 and code.isascii() and code.isdigit() else None


def verify(
    state: AppState,
    db: Session,
    challenge_id: str,
    code: str,
    *,
    purpose: Purpose | str | None = None,
    subject: str | None = None,
) -> Result:
    """Check a code. Counts the attempt (atomically), consumes the challenge on success."""
    digits = normalise_code(code)
    if digits is None:
        return Result(False, "malformed", attempts_left=_left(db, challenge_id))
    table = OtpChallenge
    conditions = [
        table.id == challenge_id,
        table.consumed_at.is_(None),
        table.attempts < MAX_ATTEMPTS,
    ]
    if purpose is not None:
        conditions.append(table.purpose == Purpose(purpose).value)
    if subject is not None:
        conditions.append(table.subject == subject)
    row = db.execute(
        update(table)
        .where(*conditions)
        .values(attempts=table.attempts + 1)
        .returning(table.code_hash, table.attempts, table.expires_at, table.subject)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return _why_not(db, challenge_id, purpose, subject)
    code_hash, attempts, expires_at, found_subject = row
    now = state.clock.now()
    left = MAX_ATTEMPTS - attempts
    if expires_at <= now:
        return Result(False, "expired")
    if not hmac.compare_digest(code_hash, _digest(state, challenge_id, digits)):
        state.audit.record(
            db, "otp.failed", target_type="otp", target_id=challenge_id, detail={"left": left}
        )
        return Result(False, "wrong" if left else "exhausted", attempts_left=left)
    consumed = db.execute(
        update(table)
        .where(table.id == challenge_id, table.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if consumed != 1:
        return Result(False, "used")
    state.audit.record(db, "otp.verified", target_type="otp", target_id=challenge_id)
    return Result(True, "ok", attempts_left=left, subject=found_subject)


def _left(db: Session, challenge_id: str) -> int:
    attempts = db.scalar(select(OtpChallenge.attempts).where(OtpChallenge.id == challenge_id))
    return 0 if attempts is None else max(0, MAX_ATTEMPTS - attempts)


def _why_not(
    db: Session, challenge_id: str, purpose: Purpose | str | None, subject: str | None
) -> Result:
    row = db.execute(
        select(
            OtpChallenge.consumed_at,
            OtpChallenge.attempts,
            OtpChallenge.purpose,
            OtpChallenge.subject,
        ).where(OtpChallenge.id == challenge_id)
    ).first()
    if row is None:
        return Result(False, "unknown")
    consumed_at, attempts, found_purpose, found_subject = row
    if (purpose is not None and found_purpose != Purpose(purpose).value) or (
        subject is not None and found_subject != subject
    ):
        return Result(False, "unknown")
    if attempts >= MAX_ATTEMPTS:
        return Result(False, "exhausted")
    return Result(False, "used" if consumed_at is not None else "unknown")


def mask(send_to: str) -> str:
    """What a page may show of a destination: ``06 •• •• •• 78``, ``j•••@example.fr``."""
    if "@" in send_to:
        local, _, domain = send_to.partition("@")
        return f"{local[:1]}•••@{domain}"
    national = "0" + send_to[3:] if send_to.startswith("+33") and len(send_to) == 12 else send_to
    return f"{national[:2]} •• •• •• {national[-2:]}"
