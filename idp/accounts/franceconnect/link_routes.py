"""First FranceConnect login: from a verified identity to a linked account (DESIGN.md §4.4).

    callback → /franceconnect/rattachement  the children's birth dates pick the registry
                                            records (franceconnect_match)
             → /franceconnect/code          a code sent by SMS to the records' mobile
             → link (franceconnect_link), session, resume the pending request

The identity waits in a sealed, HttpOnly cookie (``ec_fc_link``), so nothing is stored for
people who give up. Wrong birth dates are throttled per FranceConnect subject (a replayed
cookie does not reset the count); codes are limited by ``idp.accounts.journeys.otp``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from federation.connector import FranceConnectIdentity
from idp.accounts.franceconnect import seal
from idp.accounts.franceconnect.link import LinkRefused, PendingLink, complete_link
from idp.accounts.franceconnect.match import (
    children_birthdates,
    choose_mobile,
    parse_birthdate,
    select_by_birthdates,
)
from idp.accounts.journeys import otp
from idp.deps import State, client_ip
from idp.registry.models import Guardian
from idp.security.csrf import verify_csrf
from idp.state import AppState

router = APIRouter(include_in_schema=False)

LINK_TTL = 20 * 60
MAX_BIRTHDATE_TRIES = 5
TRY_WINDOW = 3600
MIN_FIELDS = 3

EXPIRED = "Le délai pour rattacher votre identité FranceConnect est dépassé. Veuillez recommencer."
NO_DATE = "Indiquez la date de naissance d'au moins un enfant."
BAD_DATE = "Une des dates n'est pas valide. Utilisez le format jj/mm/aaaa."
NO_MATCH = (
    "Ces dates ne correspondent pas aux enfants connus des écoles sous votre nom. Indiquez la "
    "date de naissance de chacun de vos enfants scolarisés, et seulement d'eux."
)
TOO_MANY = "Trop de tentatives. Réessayez dans une heure ou contactez l'école de votre enfant."
NO_MOBILE = (
    "Aucun numéro de téléphone mobile n'est connu des écoles pour vous : le code de vérification "
    "ne peut pas être envoyé. Demandez à l'école de votre enfant d'enregistrer votre numéro, "
    "ou utilisez les identifiants qu'elle vous a remis."
)
TOO_MANY_CODES = "Trop de codes ont été demandés. Réessayez dans une heure."
CODE_ERRORS = {
    "malformed": "Le code est composé de 6 chiffres.",
    "wrong": "Code incorrect. Vérifiez le code reçu par SMS.",
}
CODE_DEAD = "Ce code n'est plus valable. Demandez un nouveau code."
CODE_SENT = "Un nouveau code vous a été envoyé."


def _sealer(state: AppState) -> seal.Sealer:
    return seal.Sealer(state.seals)


def _load(state: AppState, request: Request) -> PendingLink | None:
    return PendingLink.from_dict(
        _sealer(state).open(seal.LINK, request.cookies.get(seal.COOKIES[seal.LINK]))
    )


def _save(state: AppState, response: Response, link: PendingLink) -> Response:
    sealed = _sealer(state).seal(seal.LINK, link.to_dict(), LINK_TTL)
    seal.set_cookie(response, state.settings, seal.LINK, sealed, LINK_TTL)
    return response


def _failed(
    state: AppState, request: Request, message: str, auth: str | None, status: int = 400
) -> Response:
    from idp.accounts.franceconnect.routes import failed_page

    response = failed_page(state, request, message, auth, status)
    seal.clear_cookie(response, state.settings, seal.LINK)
    return response


def _cancel_url(link: PendingLink) -> str:
    return "/login" + (f"?{urlencode({'auth': link.auth})}" if link.auth else "")


def start_link(
    state: AppState,
    request: Request,
    identity: FranceConnectIdentity,
    candidates: list[Guardian],
    auth: str | None,
) -> Response:
    link = PendingLink.start(identity, candidates, auth)
    return _save(state, RedirectResponse("/franceconnect/rattachement", status_code=303), link)


# -- birth dates ---------------------------------------------------------------------------------
@router.get("/franceconnect/rattachement")
def birthdates_form(request: Request, state: State) -> Response:
    link = _load(state, request)
    if link is None:
        return _failed(state, request, EXPIRED, None)
    return _birthdates_page(state, request, link)


def _birthdates_page(
    state: AppState,
    request: Request,
    link: PendingLink,
    values: list[str] | None = None,
    error: str | None = None,
) -> Response:
    with state.uow(readonly=True) as db:
        children = children_birthdates(db, link.candidates)
    # At least a few fields whatever the family, so the form says little about the records.
    count = max([MIN_FIELDS, *(len(dates) for dates in children.values())])
    values = (values or []) + [""] * count
    return state.templates.render(
        request,
        "franceconnect/birthdates.html",
        {
            "name": f"{link.given_name} {link.family_name}".strip(),
            "values": values[:count],
            "error": error,
            "action": "/franceconnect/rattachement",
            "cancel_url": _cancel_url(link),
        },
        status_code=400 if error else 200,
    )


@router.post("/franceconnect/rattachement")
async def birthdates_submit(request: Request, state: State) -> Response:
    form = await request.form()
    verify_csrf(request, form.get("csrf_token"))
    values = [str(v) for v in form.getlist("birthdate")][:20]
    return await run_in_threadpool(_birthdates, state, request, values)


def _birthdates(state: AppState, request: Request, values: list[str]) -> Response:
    link = _load(state, request)
    if link is None:
        return _failed(state, request, EXPIRED, None)
    filled = [v for v in values if v.strip()]
    parsed = [parse_birthdate(v) for v in filled]
    entered = {d for d in parsed if d is not None}
    if not filled:
        return _birthdates_page(state, request, link, values, NO_DATE)
    if None in parsed:
        return _birthdates_page(state, request, link, values, BAD_DATE)
    throttle = state.stores.throttle
    with state.uow() as db:
        if throttle.hit(db, f"fclink:{link.sub}", TRY_WINDOW) > MAX_BIRTHDATE_TRIES:
            state.audit.record(db, "franceconnect.link_locked", ip=client_ip(request))
            return _failed(state, request, TOO_MANY, link.auth, 429)
        selected = select_by_birthdates(children_birthdates(db, link.candidates), entered)
        if not selected:
            state.audit.record(db, "franceconnect.link_failed", ip=client_ip(request))
            return _birthdates_page(state, request, link, values, NO_MATCH)
        guardians = list(
            db.scalars(select(Guardian).where(Guardian.id.in_(selected)).order_by(Guardian.id))
        )
        chosen = choose_mobile(guardians)
        if chosen is None:
            return _failed(state, request, NO_MOBILE, link.auth, 409)
        mobile, holders = chosen
        try:
            challenge = otp.issue(
                state,
                db,
                otp.Purpose.franceconnect_link,
                subject=mobile,
                send_to=mobile,
                ip=client_ip(request),
            )
        except otp.OtpRateLimited:
            return _failed(state, request, TOO_MANY_CODES, link.auth, 429)
        throttle.reset(db, f"fclink:{link.sub}")
    link.selected = [g.id for g in holders]
    link.challenge = challenge
    link.mobile = mobile
    return _save(state, RedirectResponse("/franceconnect/code", status_code=303), link)


# -- SMS code ------------------------------------------------------------------------------------
@router.get("/franceconnect/code")
def code_form(request: Request, state: State) -> Response:
    link = _load(state, request)
    if link is None or not link.challenge or not link.mobile:
        return _failed(state, request, EXPIRED, link.auth if link else None)
    return _code_page(state, request, link)


def _code_page(
    state: AppState,
    request: Request,
    link: PendingLink,
    error: str | None = None,
    info: str | None = None,
) -> Response:
    return state.templates.render(
        request,
        "franceconnect/code.html",
        {
            "masked": otp.mask(link.mobile or ""),
            "error": error,
            "info": info,
            "action": "/franceconnect/code",
            "cancel_url": _cancel_url(link),
        },
        status_code=400 if error else 200,
    )


@router.post("/franceconnect/code")
async def code_submit(request: Request, state: State) -> Response:
    form = await request.form()
    verify_csrf(request, form.get("csrf_token"))
    code, action = str(form.get("code", "")), str(form.get("action", ""))
    return await run_in_threadpool(_code, state, request, code, action)


def _code(state: AppState, request: Request, code: str, action: str) -> Response:
    link = _load(state, request)
    if link is None or not link.challenge or not link.mobile:
        return _failed(state, request, EXPIRED, link.auth if link else None)
    if action == "resend":
        return _resend(state, request, link)
    from idp.accounts.franceconnect.routes import sign_in

    with state.uow() as db:
        result = otp.verify(
            state,
            db,
            link.challenge,
            code,
            purpose=otp.Purpose.franceconnect_link,
            subject=link.mobile,
        )
        if not result.ok:
            return _code_page(state, request, link, CODE_ERRORS.get(result.reason, CODE_DEAD))
        try:
            account = complete_link(state, db, link, link.mobile)
        except LinkRefused as refused:
            return _failed(state, request, refused.message, link.auth, 403)
    response = sign_in(state, request, account.id, link.id_token, link.auth, amr=["fc", "sms"])
    seal.clear_cookie(response, state.settings, seal.LINK)
    return response


def _resend(state: AppState, request: Request, link: PendingLink) -> Response:
    assert link.mobile
    try:
        with state.uow() as db:
            link.challenge = otp.issue(
                state,
                db,
                otp.Purpose.franceconnect_link,
                subject=link.mobile,
                send_to=link.mobile,
                ip=client_ip(request),
            )
    except otp.OtpRateLimited:
        return _code_page(state, request, link, TOO_MANY_CODES)
    return _save(state, _code_page(state, request, link, info=CODE_SENT), link)
