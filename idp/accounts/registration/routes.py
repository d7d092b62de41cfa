"""Self-registration by SMS, "Je n'ai pas de compte" (DESIGN.md §4.3).

names + mobile → 6-digit SMS code → the children's birth dates → identifier shown and password
chosen → account ``active``, signed in (``amr`` pwd + sms) → the pending authorization resumes.

No enumeration: the first step answers the same page whatever the number (a decoy code is
issued, with the same limits, when the number does not match; a guardian who already has an
account is told so by SMS only). The progress token never says whether there was a match.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import otp
from idp.accounts.registration import steps as registration_steps
from idp.accounts.registration.service import has_account, matching_guardians
from idp.deps import State, client_ip
from idp.messaging.messenger import messenger
from idp.registry.identifiers import normalize_mobile
from idp.state import AppState

router = APIRouter(include_in_schema=False)
# Steps 3-4 (birth dates, password, account creation) live in their own module.
router.include_router(registration_steps.router)

KIND = "registration"
STEPS = 4
STARTS_PER_ADDRESS = 10
WINDOW = 3600


def _start_page(
    state: AppState,
    request: Request,
    auth: str | None,
    values: dict,
    errors: dict,
    status: int = 200,
) -> Response:
    return journey.page(
        state,
        request,
        "registration_start.html",
        {"values": values, "errors": errors, "hidden": journey.hidden(auth)},
        status,
    )


@router.get("/inscription")
def registration_start(request: Request, state: State, auth: str | None = None) -> Response:
    return _start_page(state, request, journey.valid_auth(state, auth), {}, {})


@router.post("/inscription")
async def registration_submit(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_submit, state, request, form)


def _submit(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    values = {
        name: form.get(name, "").strip()[:200] for name in ("given_name", "family_name", "mobile")
    }
    errors = {}
    if not values["family_name"]:
        errors["family_name"] = "Saisissez votre nom de famille, tel que l'école le connaît."
    if not values["given_name"]:
        errors["given_name"] = "Saisissez votre prénom."
    mobile = None
    try:
        mobile = normalize_mobile(values["mobile"]) if values["mobile"] else None
    except ValueError:
        errors["mobile"] = "Numéro de téléphone mobile incorrect. Exemple : 06 12 34 56 78"
    if mobile is None and "mobile" not in errors:
        errors["mobile"] = "Saisissez le numéro de téléphone mobile que vous avez donné à l'école."
    if errors:
        return _start_page(state, request, auth, values, errors, 400)
    with state.uow() as db:
        left = journey.throttled(
            state, db, f"register:ip:{client_ip(request)}", STARTS_PER_ADDRESS, WINDOW
        )
    if left:
        return journey.too_many(state, request, left, "/inscription")
    return _send_code(state, request, auth, values["given_name"], values["family_name"], mobile)


def _send_code(
    state: AppState,
    request: Request,
    auth: str | None,
    given: str,
    family: str,
    mobile: str,
    resent: bool = False,
) -> Response:
    with state.uow() as db:
        guardians = matching_guardians(db, given, family, mobile)
        existing = has_account(db, [g.id for g in guardians])
        try:
            challenge = otp.issue(
                state,
                db,
                otp.Purpose.registration,
                mobile,
                mobile,
                ip=client_ip(request),
                deliver=bool(guardians) and not existing,
            )
        except otp.OtpRateLimited as exc:
            return journey.too_many(state, request, exc.retry_after, "/inscription")
        if existing:
            messenger(state).sms(mobile, "registration_existing")
        state.audit.record(db, "registration.code_requested", ip=client_ip(request))
    token = journey.seal_progress(
        state, KIND, {"step": "code", "ch": challenge, "m": mobile, "g": given, "f": family}
    )
    return _code_page(state, request, auth, token, mobile, {}, resent=resent)


def _code_page(
    state: AppState,
    request: Request,
    auth: str | None,
    token: str,
    mobile: str,
    errors: dict,
    status: int = 200,
    resent: bool = False,
) -> Response:
    context = {
        "masked": otp.mask(mobile),
        "errors": errors,
        "resent": resent,
        "hidden": journey.hidden(auth, progress=token),
        "action": "/inscription/code",
        "resend_action": "/inscription/renvoyer",
        "step": (2, STEPS, "Code reçu par SMS", "Les dates de naissance de vos enfants"),
        "title": "Créer mon compte ÉduConnect",
        "intro": (
            "Si ce numéro est celui que vous avez donné à l'école et qu'il correspond à vos nom et"
            " prénom, vous allez recevoir un code par SMS."
        ),
    }
    return journey.page(state, request, "code.html", context, status)


@router.post("/inscription/renvoyer")
async def registration_resend(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_resend, state, request, form)


def _resend(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    progress = journey.open_progress(state, KIND, form.get("progress"), step="code")
    if progress is None:
        return journey.redirect("/inscription", auth)
    return _send_code(
        state, request, auth, progress["g"], progress["f"], progress["m"], resent=True
    )


@router.post("/inscription/code")
async def registration_code(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_code, state, request, form)


def _code(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    progress = journey.open_progress(state, KIND, form.get("progress"), step="code")
    if progress is None:
        return journey.redirect("/inscription", auth)
    with state.uow() as db:
        result = otp.verify(
            state,
            db,
            progress["ch"],
            form.get("code", ""),
            purpose=otp.Purpose.registration,
            subject=progress["m"],
        )
        if not result.ok:
            return _code_page(
                state,
                request,
                auth,
                form["progress"],
                progress["m"],
                {"code": journey.code_error(result)},
                400,
            )
        token = journey.seal_progress(state, KIND, {**progress, "step": "sms", "ch": None})
        return registration_steps.children_page(state, request, db, auth, token, progress, {}, {})
