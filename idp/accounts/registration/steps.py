"""Self-registration by SMS, steps 3-4: the children's birth dates, then the identifier and
the password; the account is created active and signed in (``amr`` pwd + sms), and the pending
authorization resumes from the last page. See ``registration.routes`` for steps 1-2.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from idp.accounts.identifiers import allocate_username
from idp.accounts.journeys import children as kids
from idp.accounts.journeys import common as journey
from idp.accounts.passwords_policy import problems
from idp.accounts.registration.service import has_account, matching_guardians, register
from idp.accounts.sessions import open_session
from idp.deps import CheckedForm, Db, State, client_ip
from idp.i18n import _
from idp.oidc.interaction import set_session_cookie
from idp.registry.models import Guardian
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "registration"
START = "/inscription"
DATE_TRIES = 5
WINDOW = 3600
ALREADY = _(
    "Vous avez déjà un compte ÉduConnect. Si vous avez oublié votre identifiant ou votre mot de "
    "passe, utilisez « Identifiant oublié » ou « Mot de passe oublié »."
)

CHILDREN_LINKS = [(_("Identifiant oublié"), "/identifiant-oublie"), (_("Se connecter"), "/login")]


def _guardians(
    state: AppState, db: Session, request: Request, progress: dict[str, Any], links: list
) -> list[Guardian] | Response:
    """The registry records the progress matches, or the page saying there is an account."""
    guardians = matching_guardians(db, progress["g"], progress["f"], progress["m"])
    if guardians and not has_account(db, [g.id for g in guardians]):
        return guardians
    title = _("Vous avez déjà un compte")
    return journey.message(state, request, title, ALREADY, links, 409)


def children_page(
    state: AppState,
    db: Session,
    request: Request,
    auth: str | None,
    token: str,
    progress: dict[str, Any],
    errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
) -> Response:
    guardians = _guardians(state, db, request, progress, CHILDREN_LINKS)
    if isinstance(guardians, Response):
        return guardians
    context = {
        "children": kids.children_of_guardians(db, [g.id for g in guardians]),
        "errors": errors or {},
        "values": values or {},
        "hidden": journey.hidden(auth, progress=token),
    }
    return journey.page(state, request, "registration_children.html", context, status)


@router.post("/inscription/enfants")
def registration_children(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    step = journey.posted_step(state, form, KIND, "sms", restart=START)
    if isinstance(step, Response):
        return step
    progress = step.data
    key = f"register:dates:{progress['m']}"
    if left := state.stores.throttle.locked_for(db, key):
        return journey.too_many(state, request, left, START)
    # The records may have changed since the code (or an account been made meanwhile).
    guardians = _guardians(state, db, request, progress, CHILDREN_LINKS)
    if isinstance(guardians, Response):
        return guardians
    children = kids.children_of_guardians(db, [g.id for g in guardians])
    values = kids.typed_birthdates(form, children)
    errors, mismatch = kids.check_birthdates(form, children)
    if not errors and mismatch:
        state.audit.record(db, "registration.birthdates_refused", ip=client_ip(request))
        if left := journey.throttled(state, db, f"{key}:tries", DATE_TRIES, WINDOW):
            state.stores.throttle.lock(db, key, left)
            return journey.too_many(state, request, left, START)
        errors["form"] = _(
            "Au moins une date de naissance ne correspond pas à celle connue de l'école."
        )
    if errors:
        return children_page(
            state, db, request, step.auth, step.token, progress, errors, values, 400
        )
    token = journey.seal_progress(state, KIND, {**progress, "step": "children"})
    username = allocate_username(db, guardians[0].given_name, guardians[0].family_name)
    return _password_page(state, request, step.auth, token, username, {})


def _password_page(
    state: AppState,
    request: Request,
    auth: str | None,
    token: str,
    username: str,
    errors: dict,
    status: int = 200,
) -> Response:
    context = {
        "username": username,
        "errors": errors,
        "hidden": journey.hidden(auth, progress=token, username=username),
    }
    return journey.page(state, request, "registration_password.html", context, status)


@router.post("/inscription/mot-de-passe")
def registration_password(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    step = journey.posted_step(state, form, KIND, "children", restart=START)
    if isinstance(step, Response):
        return step
    progress = step.data
    guardians = _guardians(state, db, request, progress, [(_("Se connecter"), "/login")])
    if isinstance(guardians, Response):
        return guardians
    children = kids.children_of_guardians(db, [g.id for g in guardians])
    username = form.get("username", "")
    personal = [username, progress["g"], progress["f"], *(c.given_name for c in children)]
    if found := problems(
        form.get("password", ""), form.get("password_confirm", ""), personal=personal
    ):
        errors = journey.password_errors(found)
        return _password_page(state, request, step.auth, step.token, username, errors, 400)
    password_hash = state.passwords.hash(form["password"])
    account = register(state, db, guardians, progress["m"], password_hash)
    token, session = open_session(state, db, request, account, amr=["pwd", "sms"])
    pending = state.interactions.open(step.auth)
    next_url = "/"
    if pending is not None:
        pending.login_at = session.auth_time  # this registration is a fresh login for the request
        next_url = "/inscription/continuer?" + urlencode({"auth": state.interactions.seal(pending)})
    context = {
        "username": account.username,
        "next_url": next_url,
        "changed": account.username != username,
    }
    response = journey.page(state, request, "registration_done.html", context)
    set_session_cookie(response, state.settings, token)
    return response


@router.get("/inscription/continuer")
def registration_continue(
    request: Request, state: State, db: Db, auth: str | None = None
) -> Response:
    return journey.resume(state, db, request, auth, journey.redirect("/"))
