"""Self-registration by SMS, steps 3-4: the children's birth dates, then the identifier and
the password; the account is created active and signed in (``amr`` pwd + sms), and the pending
authorization resumes from the last page. See ``registration_routes`` for steps 1-2.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.identifiers import allocate_username
from idp.accounts.journeys import common as journey
from idp.accounts.passwords_policy import problems
from idp.accounts.registration.service import create_account, has_account, matching_guardians
from idp.accounts.sessions import open_session
from idp.deps import State, client_ip
from idp.oidc.interaction import set_session_cookie
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "registration"
DATE_TRIES = 5
WINDOW = 3600
ALREADY = (
    "Vous avez déjà un compte ÉduConnect. Si vous avez oublié votre identifiant ou votre mot de "
    "passe, utilisez « Identifiant oublié » ou « Mot de passe oublié »."
)


def children_page(
    state, request, db, auth, token, progress, errors, values, status=200
) -> Response:
    guardians = matching_guardians(db, progress["g"], progress["f"], progress["m"])
    if not guardians or has_account(db, [g.id for g in guardians]):
        return journey.message(
            state,
            request,
            "Vous avez déjà un compte",
            ALREADY,
            [("Identifiant oublié", "/identifiant-oublie"), ("Se connecter", "/login")],
            409,
        )
    children = journey.children_of_guardians(db, [g.id for g in guardians])
    context = {
        "children": children,
        "errors": errors,
        "values": values,
        "hidden": journey.hidden(auth, progress=token),
    }
    return journey.page(state, request, "registration_children.html", context, status)


@router.post("/inscription/enfants")
async def registration_children(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_children, state, request, form)


def _children(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    progress = journey.open_progress(state, KIND, form.get("progress"), step="sms")
    if progress is None:
        return journey.redirect("/inscription", auth)
    key = f"register:dates:{progress['m']}"
    with state.uow() as db:
        if left := state.stores.throttle.locked_for(db, key):
            return journey.too_many(state, request, left, "/inscription")
        guardians = matching_guardians(db, progress["g"], progress["f"], progress["m"])
        children = journey.children_of_guardians(db, [g.id for g in guardians])
        values = {
            f"birthdate_{c.pupil_id}": form.get(f"birthdate_{c.pupil_id}", "") for c in children
        }
        errors = {}
        for child in children:
            raw = values[f"birthdate_{child.pupil_id}"]
            if not raw.strip():
                errors[f"birthdate_{child.pupil_id}"] = (
                    f"Saisissez la date de naissance de {child.given_name}."
                )
            elif journey.parse_date(raw) is None:
                errors[f"birthdate_{child.pupil_id}"] = (
                    "Date incorrecte. Format attendu : JJ/MM/AAAA."
                )
        if not errors and any(
            journey.parse_date(values[f"birthdate_{c.pupil_id}"]) != c.birthdate for c in children
        ):
            state.audit.record(db, "registration.birthdates_refused", ip=client_ip(request))
            if left := journey.throttled(state, db, f"{key}:tries", DATE_TRIES, WINDOW):
                state.stores.throttle.lock(db, key, left)
                return journey.too_many(state, request, left, "/inscription")
            errors["form"] = (
                "Au moins une date de naissance ne correspond pas à celle connue de l'école."
            )
        if errors:
            return children_page(
                state, request, db, auth, form["progress"], progress, errors, values, 400
            )
        token = journey.seal_progress(state, KIND, {**progress, "step": "children"})
        username = allocate_username(db, guardians[0].given_name, guardians[0].family_name)
        return _password_page(state, request, auth, token, username, {})


def _password_page(state, request, auth, token, username, errors, status=200) -> Response:
    context = {
        "username": username,
        "errors": errors,
        "hidden": journey.hidden(auth, progress=token, username=username),
    }
    return journey.page(state, request, "registration_password.html", context, status)


@router.post("/inscription/mot-de-passe")
async def registration_password(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_password, state, request, form)


def _password(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    progress = journey.open_progress(state, KIND, form.get("progress"), step="children")
    if progress is None:
        return journey.redirect("/inscription", auth)
    with state.uow() as db:
        guardians = matching_guardians(db, progress["g"], progress["f"], progress["m"])
        if not guardians or has_account(db, [g.id for g in guardians]):
            return journey.message(
                state,
                request,
                "Vous avez déjà un compte",
                ALREADY,
                [("Se connecter", "/login")],
                409,
            )
        children = journey.children_of_guardians(db, [g.id for g in guardians])
        username = form.get("username", "")
        personal = [username, progress["g"], progress["f"], *(c.given_name for c in children)]
        if found := problems(
            form.get("password", ""), form.get("password_confirm", ""), personal=personal
        ):
            return _password_page(
                state,
                request,
                auth,
                form["progress"],
                username,
                journey.password_errors(found),
                400,
            )
        account = create_account(
            state, db, guardians, progress["m"], state.passwords.hash(form["password"])
        )
        token, session = open_session(state, db, request, account, amr=["pwd", "sms"])
    pending = state.interactions.open(auth)
    next_url = "/"
    if pending is not None:
        pending.login_at = session.auth_time  # this registration is a fresh login for the request
        next_url = "/inscription/continuer?" + journey.urlencode(
            {"auth": state.interactions.seal(pending)}
        )
    response = journey.page(
        state,
        request,
        "registration_done.html",
        {
            "username": account.username,
            "next_url": next_url,
            "changed": account.username != username,
        },
    )
    set_session_cookie(response, state.settings, token)
    return response


@router.get("/inscription/continuer")
def registration_continue(request: Request, state: State, auth: str | None = None) -> Response:
    with state.uow() as db:
        return journey.resume(state, db, request, auth, journey.redirect("/"))
