"""The forced password change (domain facts §2.10): after ``educonnect accounts
force-password-change``, ``required_step`` sends the next login to ``/mot-de-passe/renouveler``;
no service is reached before a new password is chosen, then the pending authorization resumes.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.passwords_policy import problems
from idp.accounts.recovery import service as recovery
from idp.deps import CheckedForm, Db, State
from idp.i18n import _
from idp.state import AppState

router = APIRouter(include_in_schema=False)


@router.get("/mot-de-passe/renouveler")
def forced_form(request: Request, state: State, db: Db, auth: str | None = None) -> Response:
    auth = journey.valid_auth(state, auth)
    found = journey.signed_in(state, db, request)
    if found is None:
        return journey.login_redirect(auth)
    if not found[1].force_password_change or found[1].password_hash is None:
        return journey.resume(state, db, request, auth, journey.redirect("/"))
    return _forced_page(state, request, auth, {})


def _forced_page(
    state: AppState, request: Request, auth: str | None, errors: dict, status: int = 200
) -> Response:
    context = {
        "title": _("Renouveler mon mot de passe"),
        "action": "/mot-de-passe/renouveler",
        "hidden": journey.hidden(auth),
        "errors": errors,
        "forced": True,
        "current": False,
    }
    return journey.page(state, request, "password_new.html", context, status)


@router.post("/mot-de-passe/renouveler")
def forced_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    found = journey.signed_in(state, db, request)
    if found is None:
        return journey.login_redirect(auth)
    session, account = found
    if account.force_password_change and account.password_hash:
        if found_problems := problems(
            form.get("password", ""),
            form.get("password_confirm", ""),
            personal=[account.username, account.given_name, account.family_name],
            current_hash=account.password_hash,
            passwords=state.passwords,
        ):
            errors = journey.password_errors(found_problems)
            return _forced_page(state, request, auth, errors, 400)
        new_hash = state.passwords.hash(form["password"])
        recovery.set_password(state, db, account, new_hash, reason="renewed", keep_sid=session.sid)
    done = journey.message(
        state,
        request,
        _("Mot de passe renouvelé"),
        _("Votre nouveau mot de passe est enregistré."),
        [(_("Continuer"), "/")],
    )
    return journey.resume(state, db, request, auth, done)
