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
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from idp.accounts.journeys.common import read_form, redirect, resume, valid_auth
from idp.accounts.login import totp
from idp.accounts.login.steps import SECOND_FACTOR_AMR, STAFF_SECOND_FACTOR
from idp.accounts.models import Account, AccountKind
from idp.accounts.passwords_policy import problems
from idp.accounts.sessions import open_session
from idp.deps import State, client_ip
from idp.oidc.authorize import current_session
from idp.oidc.interaction import set_session_cookie
from idp.security.stores import SessionData
from idp.state import AppState

router = APIRouter(include_in_schema=False)

PASSWORD_PATH = "/connexion/nouveau-mot-de-passe"
MESSAGES = {
    "wrong": "Code incorrect. Saisissez le code à 6 chiffres affiché en ce moment "
    "par votre application.",
    "malformed": "Saisissez les 6 chiffres affichés par votre application, sans autre caractère.",
    "replayed": "Ce code a déjà été utilisé. Attendez le code suivant de votre application.",
    "not_enrolled": "La double authentification a changé entre-temps. Recommencez.",
}


def _locked_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return f"Trop de codes incorrects. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."


def _staff(state: AppState, request: Request) -> tuple[SessionData, Account] | None:
    with state.uow(readonly=True) as db:
        found = current_session(state, db, request)
    if found is None or found[1].kind != AccountKind.staff:
        return None
    return found


@router.get(STAFF_SECOND_FACTOR)
def second_factor_page(request: Request, state: State, auth: str | None = None) -> Response:
    auth = valid_auth(state, auth)
    found = _staff(state, request)
    if found is None:
        return redirect("/login", auth)
    session, account = found
    if SECOND_FACTOR_AMR in session.amr:
        with state.uow() as db:
            return resume(state, db, request, auth, RedirectResponse("/admin", status_code=303))
    return _page(state, request, account, auth)


def _page(
    state: AppState,
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
    with state.uow() as db:
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
async def second_factor_submit(request: Request, state: State) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_check_code, state, request, form)


def _check_code(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = valid_auth(state, form.get("auth"))
    found = _staff(state, request)
    if found is None:
        return redirect("/login", auth)
    session, account = found
    if SECOND_FACTOR_AMR in session.amr:
        with state.uow() as db:
            return resume(state, db, request, auth, RedirectResponse("/admin", status_code=303))
    if account.force_password_change:
        return redirect(STAFF_SECOND_FACTOR, auth)
    ip = client_ip(request)
    with state.uow() as db:
        enrolled = totp.is_enrolled(db, account.id)
        check = totp.verify(state, db, account.id, form.get("code", ""), confirm=not enrolled)
        if check.ok:
            event = "totp.verified" if enrolled else "totp.enrolled"
            state.audit.record(
                db,
                event,
                actor_account_id=account.id,
                target_type="account",
                target_id=account.id,
                ip=ip,
            )
            token = _upgrade(state, request, session, account)
        else:
            state.audit.record(
                db,
                "totp.failed",
                actor_account_id=account.id,
                target_type="account",
                target_id=account.id,
                ip=ip,
                detail={"reason": check.reason},
            )
    if not check.ok:
        message = (
            _locked_message(check.retry_after)
            if check.reason == "locked"
            else MESSAGES[check.reason or "wrong"]
        )
        status = 429 if check.reason == "locked" else 400
        return _page(state, request, account, auth, {"code": message}, status)
    with state.uow() as db:
        response = resume(
            state, db, request, auth, RedirectResponse("/admin", status_code=303), token
        )
    set_session_cookie(response, state.settings, token)
    return response


def _upgrade(state: AppState, request: Request, session: SessionData, account: Account) -> str:
    """A new session that records the second factor; the password-only one ends."""
    amr = list(dict.fromkeys([*session.amr, SECOND_FACTOR_AMR, "mfa"]))
    with state.uow() as db:
        token, _ = open_session(
            state, db, request, account, amr=amr, acr=session.acr or "urn:educonnect:loa:basic"
        )
        state.stores.sessions.end(db, session.sid)
    return token


@router.post(PASSWORD_PATH)
async def new_password_submit(request: Request, state: State) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_new_password, state, request, form)


def _new_password(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = valid_auth(state, form.get("auth"))
    found = _staff(state, request)
    if found is None:
        return redirect("/login", auth)
    _, account = found
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
        return _page(state, request, account, auth, {"password": " ".join(found_problems)}, 400)
    new_hash = state.passwords.hash(password)  # argon2 outside the transaction (SQLite lock)
    with state.uow() as db:
        row = db.get(Account, account.id)
        row.password_hash = new_hash
        row.force_password_change = False
        row.password_changed_at = row.updated_at = state.clock.now()
        state.audit.record(
            db,
            "password.changed",
            actor_account_id=row.id,
            target_type="account",
            target_id=row.id,
            ip=client_ip(request),
        )
    return redirect(STAFF_SECOND_FACTOR, auth)
