"""Changing the mobile number of a signed-in account: a 6-digit SMS code to the new number.

The code's subject binds the account and the number, so a code sent for one number cannot
confirm another, and the progress token is bound to the session.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import otp
from idp.accounts.journeys.code_step import CodePage
from idp.accounts.models import Account, AccountState
from idp.deps import CheckedForm, Db, ReadDb, State, client_ip
from idp.i18n import _
from idp.registry.identifiers import normalize_mobile
from idp.security.stores import SessionData
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "mobile"
START = "/compte/mobile"
BACK = (_("Retour à mon compte"), "/compte")
CODE_PAGE = CodePage(
    title=_("Changer mon numéro de mobile"),
    path=START,
    intro=_(
        "Nous avons envoyé un code par SMS à votre nouveau numéro. Saisissez-le pour le confirmer."
    ),
    purpose=otp.Purpose.mobile_change,
    shown=lambda progress: otp.mask(progress["m"]),
)


def _account(state: AppState, db: Session, request: Request) -> tuple[SessionData, Account] | None:
    found = journey.signed_in(state, db, request)
    if found is None or found[1].state != AccountState.active:
        return None
    return found


def _form(
    state: AppState, request: Request, account: Account, raw: str = "", error: str | None = None
) -> Response:
    context = {
        "account": account,
        "values": {"mobile": raw},
        "errors": {"mobile": error} if error else {},
        "hidden": {},
    }
    return journey.page(state, request, "profile_mobile.html", context, 400 if error else 200)


@router.get("/compte/mobile")
def mobile_form(request: Request, state: State, db: ReadDb) -> Response:
    found = _account(state, db, request)
    if found is None:
        return journey.login_redirect(None)
    return _form(state, request, found[1])


@router.post("/compte/mobile")
def mobile_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = _account(state, db, request)
    if found is None:
        return journey.login_redirect(None)
    session, account = found
    raw = form.get("mobile", "").strip()[:40]
    try:
        mobile = normalize_mobile(raw) if raw else None
    except ValueError:
        mobile = None
    if mobile is None:
        error = _("Numéro de téléphone mobile incorrect. Exemple : 06 12 34 56 78")
        return _form(state, request, account, raw, error)
    return _send_code(state, db, request, session.sid, account, mobile)


def _posted(
    state: AppState, db: Session, request: Request, form: dict[str, str]
) -> tuple[journey.Step, Account] | Response:
    """The code step posted by the signed-in account whose session it is bound to."""
    found = _account(state, db, request)
    if found is None:
        return journey.login_redirect(None)
    session, account = found
    step = journey.posted_step(state, form, KIND, "code", restart=START, session=session)
    return step if isinstance(step, Response) else (step, account)


@router.post("/compte/mobile/renvoyer")
def mobile_resend(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    posted = _posted(state, db, request, form)
    if isinstance(posted, Response):
        return posted
    step, account = posted
    return _send_code(state, db, request, step.data["sid"], account, step.data["m"], resent=True)


def _send_code(
    state: AppState,
    db: Session,
    request: Request,
    sid: str,
    account: Account,
    mobile: str,
    resent: bool = False,
) -> Response:
    try:
        challenge = otp.issue(
            state,
            db,
            otp.Purpose.mobile_change,
            _subject(account, mobile),
            mobile,
            ip=client_ip(request),
        )
    except otp.OtpRateLimited as exc:
        return journey.too_many(state, request, exc.retry_after, START)
    data = {"ch": challenge, "m": mobile, "sid": sid}
    return CODE_PAGE.sent(state, request, KIND, None, data, resent=resent)


def _subject(account: Account, mobile: str) -> str:
    return f"account:{account.id}:{mobile}"


@router.post("/compte/mobile/code")
def mobile_code(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    posted = _posted(state, db, request, form)
    if isinstance(posted, Response):
        return posted
    step, account = posted
    mobile = step.data["m"]
    result = CODE_PAGE.verify(state, db, request, step, form, subject=_subject(account, mobile))
    if isinstance(result, Response):
        return result
    account.phone_number, account.phone_number_verified = mobile, True
    account.updated_at = state.clock.now()
    state.audit.record(
        db,
        "mobile.changed",
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
    )
    text = _("Votre numéro de mobile est maintenant le %(number)s.") % {"number": otp.mask(mobile)}
    return journey.message(state, request, _("Numéro confirmé"), text, [BACK])
