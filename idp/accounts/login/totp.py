"""The staff second factor: TOTP codes from an authenticator app (RFC 6238, RFC 4226).
https://www.rfc-editor.org/rfc/rfc6238

- The secret is 160 random bits (RFC 4226 §4 R6), shown once as base32 text and as a QR code
  of its ``otpauth://`` URI, and kept encrypted (AES-256-GCM, key stretched from the
  key-encryption key, the account id as associated data).
- Enrolment is confirmed by a first right code; until then it can start again.
- A code is accepted for the current 30-second step and one step either side (clock drift,
  RFC 6238 §5.2), and only once: the highest accepted step is stored with one conditional
  UPDATE, so two parallel submissions of one code cannot both pass.
- Attempts are throttled per account in the shared throttle store: more than ``MAX_FAILURES``
  without a right code within ``WINDOW`` lock the second factor for ``LOCK_SECONDS``.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from idp.admin.models import StaffTotp
from idp.i18n import _
from idp.state import AppState

STEP = 30
DIGITS = 6
DRIFT_STEPS = 1
MAX_FAILURES = 5
WINDOW = 15 * 60
LOCK_SECONDS = 15 * 60
#: The name authenticator apps show beside the codes.
ISSUER_LABEL = _("ÉduConnect")
_CODE = re.compile(r"^\d{6}$")


@dataclass
class Check:
    ok: bool
    #: ``wrong`` | ``malformed`` | ``locked`` | ``replayed`` | ``not_enrolled``
    reason: str | None = None
    retry_after: int = 0


def _sealer(state: AppState):
    return state.seals.at_rest("totp-at-rest")


def seal_secret(state: AppState, secret: str, account_id: str) -> str:
    return _sealer(state).seal(secret.encode(), account_id)


def secret_of(state: AppState, db: Session, account_id: str) -> str:
    """The secret in clear (benchmarks and the demo compute codes with it)."""
    return _sealer(state).open(db.get(StaffTotp, account_id).secret_encrypted, account_id).decode()


def is_enrolled(db: Session, account_id: str) -> bool:
    row = db.get(StaffTotp, account_id)
    return row is not None and row.confirmed_at is not None


def start_enrolment(state: AppState, db: Session, account_id: str) -> str:
    """The secret to show: the pending one if enrolment already started, else a new one."""
    row = db.get(StaffTotp, account_id)
    if row is not None and row.confirmed_at is not None:
        raise ValueError("already enrolled")
    if row is not None:
        return _sealer(state).open(row.secret_encrypted, account_id).decode()
    secret = pyotp.random_base32(32)
    db.add(
        StaffTotp(
            account_id=account_id,
            secret_encrypted=seal_secret(state, secret, account_id),
            created_at=state.clock.now(),
        )
    )
    db.flush()
    return secret


def reset(db: Session, account_id: str) -> bool:
    """Forget the secret (a lost phone): the next login enrols again."""
    row = db.get(StaffTotp, account_id)
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER_LABEL) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG ``data:`` URI (the CSP allows ``img-src data:``; no script)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, dark="#161616", light="#ffffff")


def grouped(secret: str) -> str:
    """``ABCD EFGH …``: easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_code(secret: str, timestamp: int) -> str:
    """The code an app shows at ``timestamp`` (demo and tests)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).at(timestamp)


def verify(
    state: AppState, db: Session, account_id: str, code: str, *, confirm: bool = False
) -> Check:
    """Check a code (``confirm``: the code that ends enrolment). Writes in ``db``."""
    code = re.sub(r"\s", "", code or "")
    throttle = state.stores.throttle
    key = f"totp:{account_id}"
    if left := throttle.locked_for(db, key):
        return Check(False, "locked", left)
    if not _CODE.match(code):
        return Check(False, "malformed")
    row = db.get(StaffTotp, account_id)
    if row is None or (row.confirmed_at is None) != confirm:
        return Check(False, "not_enrolled")
    # Reserve the attempt before checking it, so parallel guesses cannot pass the limit; a
    # right code gives the whole count back.
    attempts = f"totp-attempts:{account_id}"
    if throttle.hit(db, attempts, WINDOW) > MAX_FAILURES:
        throttle.lock(db, key, LOCK_SECONDS)
        throttle.reset(db, attempts)
        state.audit.record(
            db,
            "totp.locked",
            actor_account_id=account_id,
            target_type="account",
            target_id=account_id,
        )
        return Check(False, "locked", LOCK_SECONDS)
    secret = _sealer(state).open(row.secret_encrypted, account_id).decode()
    step = _matching_step(secret, code, state.clock.timestamp())
    if step is None:
        return Check(False, "wrong")
    now = state.clock.now()
    claimed = db.execute(
        update(StaffTotp)
        .where(
            StaffTotp.account_id == account_id,
            or_(StaffTotp.last_step.is_(None), StaffTotp.last_step < step),
        )
        .values(last_step=step, last_used_at=now, **({"confirmed_at": now} if confirm else {}))
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return Check(False, "replayed")
    db.expire(row)
    throttle.reset(db, attempts)
    return Check(True)


def _matching_step(secret: str, code: str, timestamp: int) -> int | None:
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    now_step = timestamp // STEP
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None
