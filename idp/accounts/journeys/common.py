"""What the account journeys (activation, self-registration, recovery, profile) share.

Multi-step forms keep their progress in a *progress token*: a small sealed, expiring JSON value
(``idp.security.sealing``) in a hidden field, naming the step just completed. Each step's
handler accepts only the token of the step before it, so no step can be reached by posting to
it directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.journeys import email_links
from idp.accounts.journeys.otp import Result
from idp.accounts.models import Account, AccountGuardian
from idp.oidc.authorize import authorize, current_session
from idp.registry.models import Guardianship, Pupil, PupilStatus
from idp.security.csrf import checked_form
from idp.security.stores import SessionData
from idp.state import AppState

PROGRESS_TTL = 30 * 60


def seal_progress(state: AppState, kind: str, data: dict[str, Any], ttl: int = PROGRESS_TTL) -> str:
    """Seal ``data`` for the journey ``kind`` (a token of one journey is refused by another)."""
    return state.seals.browser(f"journey/{kind}").seal(data, ttl)


def open_progress(
    state: AppState, kind: str, token: str | None, step: str | None = None
) -> dict[str, Any] | None:
    """The data of a valid, unexpired token of ``kind`` (and of ``step``, when given)."""
    data = state.seals.browser(f"journey/{kind}").open(token)
    if data is None or (step is not None and data.get("step") != step):
        return None
    return data


#: The posted form after the CSRF check (kept under this name for the journeys).
read_form = checked_form


def valid_auth(state: AppState, sealed: str | None) -> str | None:
    """The pending authorization blob if it is still valid, to carry along the steps."""
    return sealed if state.interactions.open(sealed) is not None else None


def hidden(auth: str | None, **values: str | None) -> dict[str, str]:
    fields = {name: value for name, value in values.items() if value}
    if auth:
        fields["auth"] = auth
    return fields


def page(
    state: AppState, request: Request, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    return state.templates.render(request, f"accounts/{template}", context, status_code=status)


def email_link_page(
    state: AppState,
    request: Request,
    purpose: str,
    token: str | None,
    action: str,
    *,
    activation: bool,
    invalid: Callable[[AppState, Request], Response],
) -> Response:
    """What an e-mailed link opens: a button that posts the token back, because mail scanners
    that open links must not use them up."""
    with state.uow(readonly=True) as db:
        link = email_links.peek(state, db, purpose, token)
    if link is None:
        return invalid(state, request)
    context = {
        "email": link.email,
        "action": action,
        "activation": activation,
        "hidden": {"jeton": token},
    }
    return page(state, request, "email_confirm.html", context)


def message(
    state: AppState,
    request: Request,
    title: str,
    text: str,
    links: list[tuple[str, str]],
    status: int = 200,
) -> Response:
    return state.templates.render(
        request,
        "message.html",
        {"title": title, "message": text, "links": links},
        status_code=status,
    )


def too_many(
    state: AppState, request: Request, seconds: int, back_url: str | None = None
) -> Response:
    minutes = max(1, -(-seconds // 60))
    unit = "minute" if minutes == 1 else "minutes"
    return state.templates.error_page(
        request,
        "Trop de tentatives",
        f"Vous avez fait trop de tentatives. Réessayez dans {minutes} {unit}.",
        429,
        back_url,
    )


def throttled(state: AppState, db: Session, key: str, limit: int, window: int) -> int:
    """Count one event; 0 while within ``limit`` per ``window``, else the seconds to wait."""
    throttle = state.stores.throttle
    if left := throttle.locked_for(db, key):
        return left
    if throttle.hit(db, key, window) > limit:
        throttle.lock(db, key, window)
        throttle.reset(db, key)
        return window
    return 0


def redirect(path: str, auth: str | None = None) -> Response:
    """A 303 to one of our pages, carrying the pending authorization along."""
    return RedirectResponse(
        path + (f"?{urlencode({'auth': auth})}" if auth else ""), status_code=303
    )


def login_redirect(auth: str | None) -> Response:
    return redirect("/login", auth)


def signed_in(state: AppState, db: Session, request: Request) -> tuple[SessionData, Account] | None:
    return current_session(state, db, request)


def resume(
    state: AppState,
    db: Session,
    request: Request,
    auth: str | None,
    fallback: Response,
    token: str | None = None,
) -> Response:
    """Go on with the pending authorization, if there is one still valid; else ``fallback``."""
    pending = state.interactions.open(auth)
    if pending is None:
        return fallback
    return authorize(state, db, request, pending, token)


def end_sessions(state: AppState, db: Session, account_id: str, keep_sid: str | None = None) -> int:
    """End the account's sessions (all but ``keep_sid``), with back-channel logout."""
    from idp.oidc.logout import end_session

    ended = 0
    for session in state.stores.sessions.for_account(db, account_id):
        if session.sid != keep_sid and end_session(state, db, session) is not None:
            ended += 1
    return ended


_DATE_FR = re.compile(r"^\s*(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})\s*$")


def parse_date(raw: str) -> date | None:
    """``2014-03-12`` (date fields) or ``12/03/2014`` (typed by hand)."""
    raw = raw.strip()
    try:
        if match := _DATE_FR.match(raw):
            day, month, year = (int(x) for x in match.groups())
            return date(year, month, day)
        return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return None


@dataclass(frozen=True)
class Child:
    pupil_id: str
    guardian_id: str
    given_name: str
    family_name: str
    birthdate: date
    school_uai: str
    school_name: str


def children_of_guardians(db: Session, guardian_ids: list[str]) -> list[Child]:
    """Enrolled pupils of these registry guardians, one entry per pupil."""
    if not guardian_ids:
        return []
    rows = db.execute(
        select(Guardianship.guardian_id, Pupil)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Guardianship.guardian_id.in_(guardian_ids), Pupil.status == PupilStatus.enrolled)
        .order_by(Pupil.birthdate, Pupil.given_name, Pupil.id)
    ).all()
    seen: dict[str, Child] = {}
    for guardian_id, pupil in rows:
        seen.setdefault(
            pupil.id,
            Child(
                pupil.id,
                guardian_id,
                pupil.given_name,
                pupil.family_name,
                pupil.birthdate,
                pupil.school_uai,
                pupil.school.name,
            ),
        )
    return list(seen.values())


def guardian_ids_of(db: Session, account_id: str) -> list[str]:
    return list(
        db.scalars(
            select(AccountGuardian.guardian_id).where(AccountGuardian.account_id == account_id)
        )
    )


def password_errors(problems: list[str]) -> dict[str, str]:
    """Form errors for ``passwords_policy.problems``: a mismatch belongs to the confirmation."""
    from idp.accounts.passwords_policy import MISMATCH

    errors = {}
    if rest := [p for p in problems if p != MISMATCH]:
        errors["password"] = " ".join(rest)
    if MISMATCH in problems:
        errors["password_confirm"] = MISMATCH
    return errors


CODE_ERRORS = {
    "malformed": "Saisissez les 6 chiffres du code reçu par SMS.",
    "expired": "Ce code a expiré. Demandez un nouveau code.",
    "exhausted": "Trop d'essais : ce code n'est plus valable. Demandez un nouveau code.",
    "used": "Ce code n'est plus valable. Demandez un nouveau code.",
    "unknown": "Ce code n'est plus valable. Demandez un nouveau code.",
}


def code_error(result: Result) -> str:
    if result.reason == "wrong":
        plural = "s" if result.attempts_left > 1 else ""
        return f"Code incorrect. Il vous reste {result.attempts_left} essai{plural}."
    return CODE_ERRORS.get(result.reason, CODE_ERRORS["unknown"])
