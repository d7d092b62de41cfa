"""The forced password change (domain facts §2.10): after ``educonnect accounts
force-password-change``, ``required_step`` sends the next login to ``/mot-de-passe/renouveler``;
no service is reached before a new password is chosen, then the pending authorization resumes.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.passwords_policy import problems
from idp.accounts.recovery import service as recovery
from idp.deps import State
from idp.state import AppState

router = APIRouter(include_in_schema=False)


@router.get("/mot-de-passe/renouveler")
def forced_form(request: Request, state: State, auth: str | None = None) -> Response:
    auth = journey.valid_auth(state, auth)
    with state.uow() as db:
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
        "title": "Renouveler mon mot de passe",
        "action": "/mot-de-passe/renouveler",
        "hidden": journey.hidden(auth),
        "errors": errors,
        "forced": True,
        "current": False,
    }
    return journey.page(state, request, "password_new.html", context, status)


@router.post("/mot-de-passe/renouveler")
async def forced_submit(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_forced, state, request, form)


def _forced(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    with state.uow() as db:
        found = journey.signed_in(state, db, request)
        if found is None:
            return journey.login_redirect(auth)
        session, account = found
        if account.force_password_change and account.password_hash:
            personal = [account.username, account.given_name, account.family_name]
            if found_problems := problems(
                form.get("password", ""),
                form.get("password_confirm", ""),
                personal=personal,
                current_hash=account.password_hash,
                passwords=state.passwords,
            ):
                return _forced_page(
                    state, request, auth, journey.password_errors(found_problems), 400
                )
            recovery.set_password(
                state,
                db,
                account,
                state.passwords.hash(form["password"]),
                reason="renewed",
                keep_sid=session.sid,
            )
    done = journey.message(
        state,
        request,
        "Mot de passe renouvelé",
        "Votre nouveau mot de passe est enregistré.",
        [("Continuer", "/")],
    )
    with state.uow() as db:
        return journey.resume(state, db, request, auth, done)
