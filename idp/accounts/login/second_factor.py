"""The staff second factor, after the hosted login (``required_step`` sends staff here).

    GET  /connexion/double-authentification   new password (first login), TOTP enrolment, or
                                              the code of this login
    POST /connexion/double-authentification   check the code; the session gets ``otp`` in its
                                              ``amr``, then the pending authorization resumes
                                              (or ``/admin``)
    POST /connexion/nouveau-mot-de-passe      replace the temporary password (first login)

A right code replaces the session with a new one (new cookie, ``amr`` pwd + otp + mfa): what
was reachable with the password alone is not reachable with the upgraded cookie's predecessor.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.accounts.journeys.common import redirect, resume, valid_auth
from idp.accounts.login import totp
from idp.accounts.models import Account, AccountKind
from idp.accounts.passwords_policy import problems
from idp.accounts.sessions import open_session
from idp.accounts.steps import SECOND_FACTOR_AMR, STAFF_SECOND_FACTOR
from idp.deps import CheckedForm, Db, State, client_ip
from idp.i18n import _, ngettext
from idp.oidc.authorize import current_session
from idp.oidc.interaction import set_session_cookie
from idp.security.stores import SessionData
from idp.state import AppState

router = APIRouter(include_in_schema=False)

PASSWORD_PATH = "/connexion/nouveau-mot-de-passe"
MESSAGES = {
    "wrong": _(
        "Code incorrect. Saisissez le code à 6 chiffres affiché en ce moment par votre application."
    ),
    "malformed": _(
        "Saisissez les 6 chiffres affichés par votre application, sans autre caractère."
    ),
    "replayed": _("Ce code a déjà été utilisé. Attendez le code suivant de votre application."),
    "not_enrolled": _("La double authentification a changé entre-temps. Recommencez."),
}


def _locked_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return ngettext(
        "Trop de codes incorrects. Réessayez dans %(minutes)s minute.",
        "Trop de codes incorrects. Réessayez dans %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def _staff(
    state: AppState, db: Session, request: Request, auth: str | None
) -> tuple[SessionData, Account] | Response:
    """The staff session and its account, or the login page."""
    found = current_session(state, db, request)
    if found is None or found[1].kind != AccountKind.staff:
        return redirect("/login", auth)
    return found


def _to_admin(state: AppState, db: Session, request: Request, auth: str | None) -> Response:
    """Where a checked second factor leads: the pending request, or the admin tool."""
    return resume(state, db, request, auth, RedirectResponse("/admin", status_code=303))


@router.get(STAFF_SECOND_FACTOR)
def second_factor_page(request: Request, state: State, db: Db, auth: str | None = None) -> Response:
    auth = valid_auth(state, auth)
    found = _staff(state, db, request, auth)
    if isinstance(found, Response):
        return found
    if SECOND_FACTOR_AMR in found[0].amr:
        return _to_admin(state, db, request, auth)
    return _page(state, db, request, found[1], auth)


def _page(
    state: AppState,
    db: Session,
    request: Request,
    account: Account,
    auth: str | None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    hidden = {"auth": auth} if auth else {}
    if account.force_password_change:
        context = {"hidden": hidden, "errors": errors or {}, "action": PASSWORD_PATH}
        return state.templates.render(
            request, "admin/staff_password.html", context, status_code=status
        )
    enrolled = totp.is_enrolled(db, account.id)
    secret = None if enrolled else totp.start_enrolment(state, db, account.id)
    context = {
        "hidden": hidden,
        "errors": errors or {},
        "action": STAFF_SECOND_FACTOR,
        "enrolled": enrolled,
    }
    if secret:
        uri = totp.provisioning_uri(secret, account.username)
        context.update(secret=totp.grouped(secret), qr=totp.qr_data_uri(uri))
    return state.templates.render(request, "admin/second_factor.html", context, status_code=status)


@router.post(STAFF_SECOND_FACTOR)
def second_factor_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    auth = valid_auth(state, form.get("auth"))
    found = _staff(state, db, request, auth)
    if isinstance(found, Response):
        return found
    session, account = found
    if SECOND_FACTOR_AMR in session.amr:
        return _to_admin(state, db, request, auth)
    if account.force_password_change:
        return redirect(STAFF_SECOND_FACTOR, auth)
    enrolled = totp.is_enrolled(db, account.id)
    check = totp.verify(state, db, account.id, form.get("code", ""), confirm=not enrolled)
    event = ("totp.verified" if enrolled else "totp.enrolled") if check.ok else "totp.failed"
    state.audit.record(
        db,
        event,
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
        ip=client_ip(request),
        detail=None if check.ok else {"reason": check.reason},
    )
    if not check.ok:
        locked = check.reason == "locked"
        message = (
            _locked_message(check.retry_after) if locked else MESSAGES[check.reason or "wrong"]
        )
        return _page(state, db, request, account, auth, {"code": message}, 429 if locked else 400)
    token = _upgrade(state, db, request, session, account)
    response = resume(state, db, request, auth, RedirectResponse("/admin", status_code=303), token)
    set_session_cookie(response, state.settings, token)
    return response


def _upgrade(
    state: AppState, db: Session, request: Request, session: SessionData, account: Account
) -> str:
    """A new session that records the second factor; the password-only one ends."""
    amr = list(dict.fromkeys([*session.amr, SECOND_FACTOR_AMR, "mfa"]))
    acr = session.acr or "urn:educonnect:loa:basic"
    token, _session = open_session(state, db, request, account, amr=amr, acr=acr)
    state.stores.sessions.end(db, session.sid)
    return token


@router.post(PASSWORD_PATH)
def new_password_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    auth = valid_auth(state, form.get("auth"))
    found = _staff(state, db, request, auth)
    if isinstance(found, Response):
        return found
    account = found[1]
    if not account.force_password_change:
        return redirect(STAFF_SECOND_FACTOR, auth)
    password = form.get("password", "")
    found_problems = problems(
        password,
        form.get("password_confirm", ""),
        personal=[account.username, account.given_name, account.family_name],
        current_hash=account.password_hash,
        passwords=state.passwords,
    )
    if found_problems:
        errors = {"password": " ".join(found_problems)}
        return _page(state, db, request, account, auth, errors, 400)
    account.password_hash = state.passwords.hash(password)
    account.force_password_change = False
    account.password_changed_at = account.updated_at = state.clock.now()
    state.audit.record(
        db,
        "password.changed",
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
        ip=client_ip(request),
    )
    return redirect(STAFF_SECOND_FACTOR, auth)
