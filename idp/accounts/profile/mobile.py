"""Changing the mobile number of a signed-in account: a 6-digit SMS code to the new number.

The code's subject binds the account and the number, so a code sent for one number cannot
confirm another, and the progress token is bound to the session.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import otp
from idp.accounts.models import AccountState
from idp.deps import State, client_ip
from idp.registry.identifiers import normalize_mobile
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "mobile"
BACK = ("Retour à mon compte", "/compte")


def _account(state: AppState, db, request: Request):
    found = journey.signed_in(state, db, request)
    if found is None or found[1].state != AccountState.active:
        return None
    return found


def _form(
    state: AppState, request: Request, account, raw: str = "", error: str | None = None
) -> Response:
    context = {
        "account": account,
        "values": {"mobile": raw},
        "errors": {"mobile": error} if error else {},
        "hidden": {},
    }
    return journey.page(state, request, "profile_mobile.html", context, 400 if error else 200)


@router.get("/compte/mobile")
def mobile_form(request: Request, state: State) -> Response:
    with state.uow() as db:
        found = _account(state, db, request)
        if found is None:
            return journey.login_redirect(None)
        return _form(state, request, found[1])


@router.post("/compte/mobile")
async def mobile_submit(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(
        _submit, state, request, form.get("mobile", "").strip()[:40], None
    )


@router.post("/compte/mobile/renvoyer")
async def mobile_resend(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    progress = journey.open_progress(state, KIND, form.get("progress"), step="code")
    if progress is None:
        return journey.redirect("/compte/mobile")
    return await run_in_threadpool(_submit, state, request, progress["m"], progress)


def _submit(state: AppState, request: Request, raw: str, progress: dict | None) -> Response:
    with state.uow() as db:
        found = _account(state, db, request)
        if found is None:
            return journey.login_redirect(None)
        session, account = found
        if progress is not None and progress.get("sid") != session.sid:
            return journey.redirect("/compte/mobile")
        try:
            mobile = normalize_mobile(raw) if raw else None
        except ValueError:
            mobile = None
        if mobile is None:
            return _form(
                state,
                request,
                account,
                raw,
                "Numéro de téléphone mobile incorrect. Exemple : 06 12 34 56 78",
            )
        try:
            challenge = otp.issue(
                state,
                db,
                otp.Purpose.mobile_change,
                f"account:{account.id}:{mobile}",
                mobile,
                ip=client_ip(request),
            )
        except otp.OtpRateLimited as exc:
            return journey.too_many(state, request, exc.retry_after, "/compte/mobile")
    token = journey.seal_progress(
        state, KIND, {"step": "code", "ch": challenge, "m": mobile, "sid": session.sid}
    )
    return _code_page(state, request, token, mobile, {}, resent=progress is not None)


def _code_page(
    state: AppState,
    request: Request,
    token: str,
    mobile: str,
    errors: dict,
    status: int = 200,
    resent: bool = False,
) -> Response:
    context = {
        "title": "Changer mon numéro de mobile",
        "step": None,
        "masked": otp.mask(mobile),
        "errors": errors,
        "resent": resent,
        "hidden": {"progress": token},
        "action": "/compte/mobile/code",
        "resend_action": "/compte/mobile/renvoyer",
        "intro": (
            "Nous avons envoyé un code par SMS à votre nouveau numéro. Saisissez-le pour le "
            "confirmer."
        ),
    }
    return journey.page(state, request, "code.html", context, status)


@router.post("/compte/mobile/code")
async def mobile_code(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_code, state, request, form)


def _code(state: AppState, request: Request, form: dict[str, str]) -> Response:
    progress = journey.open_progress(state, KIND, form.get("progress"), step="code")
    with state.uow() as db:
        found = _account(state, db, request)
        if found is None:
            return journey.login_redirect(None)
        session, account = found
        if progress is None or progress.get("sid") != session.sid:
            return journey.redirect("/compte/mobile")
        subject = f"account:{account.id}:{progress['m']}"
        result = otp.verify(
            state,
            db,
            progress["ch"],
            form.get("code", ""),
            purpose=otp.Purpose.mobile_change,
            subject=subject,
        )
        if not result.ok:
            return _code_page(
                state,
                request,
                form["progress"],
                progress["m"],
                {"code": journey.code_error(result)},
                400,
            )
        account.phone_number, account.phone_number_verified = progress["m"], True
        account.updated_at = state.clock.now()
        state.audit.record(
            db,
            "mobile.changed",
            actor_account_id=account.id,
            target_type="account",
            target_id=account.id,
        )
    text = f"Votre numéro de mobile est maintenant le {otp.mask(progress['m'])}."
    return journey.message(state, request, "Numéro confirmé", text, [BACK])
