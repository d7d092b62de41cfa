"""Self-registration by SMS, "Je n'ai pas de compte" (DESIGN.md §4.3).

names + mobile → 6-digit SMS code → the children's birth dates → identifier shown and password
chosen → account ``active``, signed in (``amr`` pwd + sms) → the pending authorization resumes.

No enumeration: the first step answers the same page whatever the number (a decoy code is
issued, with the same limits, when the number does not match; a guardian who already has an
account is told so by SMS only). The progress token never says whether there was a match.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import otp
from idp.accounts.journeys.code_step import CodePage
from idp.accounts.registration import steps as registration_steps
from idp.accounts.registration.service import has_account, matching_guardians
from idp.deps import CheckedForm, Db, State, client_ip
from idp.i18n import _
from idp.messaging.messenger import messenger
from idp.registry.identifiers import normalize_mobile
from idp.state import AppState

router = APIRouter(include_in_schema=False)
# Steps 3-4 (birth dates, password, account creation) live in their own module.
router.include_router(registration_steps.router)

KIND = registration_steps.KIND
START = "/inscription"
STEPS = 4
STARTS_PER_ADDRESS = 10
WINDOW = 3600
CODE_PAGE = CodePage(
    title=_("Créer mon compte ÉduConnect"),
    path=START,
    intro=_(
        "Si ce numéro est celui que vous avez donné à l'école et qu'il correspond à vos nom et"
        " prénom, vous allez recevoir un code par SMS."
    ),
    purpose=otp.Purpose.registration,
    shown=lambda progress: otp.mask(progress["m"]),
    step=(2, STEPS, _("Code reçu par SMS"), _("Les dates de naissance de vos enfants")),
)


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
def registration_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    values = {
        name: form.get(name, "").strip()[:200] for name in ("given_name", "family_name", "mobile")
    }
    errors = {}
    if not values["family_name"]:
        errors["family_name"] = _("Saisissez votre nom de famille, tel que l'école le connaît.")
    if not values["given_name"]:
        errors["given_name"] = _("Saisissez votre prénom.")
    mobile = None
    try:
        mobile = normalize_mobile(values["mobile"]) if values["mobile"] else None
    except ValueError:
        errors["mobile"] = _("Numéro de téléphone mobile incorrect. Exemple : 06 12 34 56 78")
    if mobile is None and "mobile" not in errors:
        errors["mobile"] = _(
            "Saisissez le numéro de téléphone mobile que vous avez donné à l'école."
        )
    if errors:
        return _start_page(state, request, auth, values, errors, 400)
    key = f"register:ip:{client_ip(request)}"
    if left := journey.throttled(state, db, key, STARTS_PER_ADDRESS, WINDOW):
        return journey.too_many(state, request, left, START)
    return _send_code(state, db, request, auth, values["given_name"], values["family_name"], mobile)


def _send_code(
    state: AppState,
    db: Session,
    request: Request,
    auth: str | None,
    given: str,
    family: str,
    mobile: str,
    resent: bool = False,
) -> Response:
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
        return journey.too_many(state, request, exc.retry_after, START)
    if existing:
        messenger(state).sms(db, mobile, "registration_existing")
    state.audit.record(db, "registration.code_requested", ip=client_ip(request))
    data = {"ch": challenge, "m": mobile, "g": given, "f": family}
    return CODE_PAGE.sent(state, request, KIND, auth, data, resent=resent)


@router.post("/inscription/renvoyer")
def registration_resend(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    step = journey.posted_step(state, form, KIND, "code", restart=START)
    if isinstance(step, Response):
        return step
    data = step.data
    return _send_code(state, db, request, step.auth, data["g"], data["f"], data["m"], True)


@router.post("/inscription/code")
def registration_code(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    step = journey.posted_step(state, form, KIND, "code", restart=START)
    if isinstance(step, Response):
        return step
    result = CODE_PAGE.verify(state, db, request, step, form, subject=step.data["m"])
    if isinstance(result, Response):
        return result
    token = journey.seal_progress(state, KIND, {**step.data, "step": "sms", "ch": None})
    return registration_steps.children_page(state, db, request, step.auth, token, step.data)
