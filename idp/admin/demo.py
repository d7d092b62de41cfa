"""Demo staff for ``educonnect demo``: a director of the demo collège and école, and the
académie's assistance, each with a known password and a known TOTP secret, so that a person
can log in with an authenticator app (or compute the code with ``pyotp``)."""

from __future__ import annotations

import base64

from sqlalchemy import select, update

from idp.accounts.login import totp
from idp.accounts.models import Account
from idp.admin.models import StaffTotp
from idp.admin.roles import Role
from idp.admin.staff.service import StaffSpec, create_staff
from idp.db import transaction
from idp.demo.registry import COLLEGE_UAI, ECOLE_UAI
from idp.i18n import _
from idp.registry.models import School
from idp.security.sealing import derive_key
from idp.state import AppState

DIRECTOR = "directeur.demo"
ASSISTANCE = "assistance.demo"
PASSWORD = "Demo-administration-2026"


def demo_totp_secret(state: AppState, username: str) -> str:
    """Derived from the server secret: the same on every ``educonnect demo`` of a checkout."""
    digest = derive_key(state.settings.secrets["secret_key"], f"demo-totp/{username}", 20)
    return base64.b32encode(digest).decode()


def _ensure(state: AppState, spec: StaffSpec) -> None:
    with transaction(state.sessions) as db:
        account = db.scalar(select(Account).where(Account.username == spec.username))
        if account is None:
            account, _password = create_staff(state, db, spec)
        account.password_hash = state.passwords.hash(PASSWORD)
        account.force_password_change = False
        secret = demo_totp_secret(state, spec.username)
        row = db.get(StaffTotp, account.id)
        if row is None:
            totp.start_enrolment(state, db, account.id)
            row = db.get(StaffTotp, account.id)
        row.secret_encrypted = totp.seal_secret(state, secret, account.id)
        row.confirmed_at = row.confirmed_at or state.clock.now()


def seed_demo_staff(state: AppState) -> list[dict]:
    """Create (or refresh) the demo staff; return their logins for ``educonnect demo``."""
    academy = state.settings.academy_name
    with transaction(state.sessions) as db:
        # The demo exports carry no académie; the assistance's scope needs one.
        db.execute(
            update(School)
            .where(School.uai.in_([COLLEGE_UAI, ECOLE_UAI]), School.academy.is_(None))
            .values(academy=academy)
        )
    _ensure(
        state, StaffSpec(DIRECTOR, "Claire", "FONTAINE", Role.director, [COLLEGE_UAI, ECOLE_UAI])
    )
    _ensure(state, StaffSpec(ASSISTANCE, "Marc", "LAMBERT", Role.academy, academy=academy))
    logins = []
    director = _("directrice du collège et de l'école de démo (%(college)s, %(ecole)s)")
    for username, note in (
        (DIRECTOR, director % {"college": COLLEGE_UAI, "ecole": ECOLE_UAI}),
        (ASSISTANCE, _("assistance de l'académie (%(academy)s)") % {"academy": academy}),
    ):
        secret = demo_totp_secret(state, username)
        logins.append(
            {
                "kind": "staff",
                "username": username,
                "password": PASSWORD,
                "state": "active",
                "note": _("%(note)s ; /admin ; clé TOTP %(secret)s")
                % {"note": note, "secret": secret},
                "totp_secret": secret,
            }
        )
    return logins
