"""What the account journeys (activation, self-registration, recovery, profile) share.

Multi-step forms keep their progress in a *progress token*: a small sealed, expiring JSON value
(``idp.security.sealing``) in a hidden field, naming the step just completed. Each step's
handler accepts only the token of the step before it (``posted_step``), so no step can be
reached by posting to it directly.

Every helper takes the request's session (``db``) and only flushes; the endpoint's ``Db``
dependency commits. Birth dates live in ``children``, one-time code pages in ``code_step``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.journeys import email_links
from idp.accounts.models import Account
from idp.accounts.passwords_policy import MISMATCH
from idp.i18n import _, ngettext
from idp.oidc.authorize import authorize, current_session
from idp.oidc.logout import end_session
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


#: The posted form after the CSRF check (for endpoints not yet declaring ``CheckedForm``).
read_form = checked_form


@dataclass(frozen=True)
class Step:
    """A posted step of a journey: the pending authorization carried along, and the progress
    of the step before (``data``; ``token`` as posted, to show the same step again)."""

    auth: str | None
    data: dict[str, Any]
    token: str


def posted_step(
    state: AppState,
    form: dict[str, str],
    kind: str,
    step: str,
    *,
    restart: str,
    session: SessionData | None = None,
) -> Step | Response:
    """The progress of ``step`` posted in ``form``, or a redirect to ``restart`` when it is
    missing, forged, expired or of another step. A token bound to a session or an account
    (it carries ``sid`` or ``acct``) is accepted only from that ``session``."""
    auth = valid_auth(state, form.get("auth"))
    data = open_progress(state, kind, form.get("progress"), step=step)
    if data is None or (session is not None and not _bound_to(data, session)):
        return redirect(restart, auth)
    return Step(auth, data, form["progress"])


def _bound_to(data: dict[str, Any], session: SessionData) -> bool:
    return data.get("sid", session.sid) == session.sid and (
        data.get("acct", session.account_id) == session.account_id
    )


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
    db: Session,
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


def invalid_link(state: AppState, request: Request, text: str, back_url: str) -> Response:
    """The page of a link (or code) that is no longer valid; ``text`` says what to do."""
    return state.templates.error_page(
        request, _("Lien invalide ou expiré"), text, 400, back_url=back_url
    )


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
    text = ngettext(
        "Vous avez fait trop de tentatives. Réessayez dans %(minutes)s minute.",
        "Vous avez fait trop de tentatives. Réessayez dans %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}
    return state.templates.error_page(request, _("Trop de tentatives"), text, 429, back_url)


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
    ended = 0
    for session in state.stores.sessions.for_account(db, account_id):
        if session.sid != keep_sid and end_session(state, db, session) is not None:
            ended += 1
    return ended


def password_errors(problems: list[str]) -> dict[str, str]:
    """Form errors for ``passwords_policy.problems``: a mismatch belongs to the confirmation."""
    errors = {}
    if rest := [p for p in problems if p != MISMATCH]:
        errors["password"] = " ".join(rest)
    if MISMATCH in problems:
        errors["password_confirm"] = MISMATCH
    return errors
