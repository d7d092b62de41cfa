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

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from federation.connector import FranceConnectIdentity
from idp.accounts.franceconnect import seal
from idp.accounts.franceconnect.link import LinkRefused, PendingLink, complete_link
from idp.accounts.franceconnect.match import (
    children_birthdates,
    choose_mobile,
    select_by_birthdates,
)
from idp.accounts.franceconnect.pages import failed_page
from idp.accounts.franceconnect.wiring import sealer
from idp.accounts.journeys import otp
from idp.accounts.journeys.children import parse_date
from idp.accounts.journeys.code_step import code_error
from idp.accounts.sessions import ACR_FRANCECONNECT, sign_in
from idp.deps import CheckedForm, Db, ReadDb, State, client_ip
from idp.i18n import _
from idp.registry.models import Guardian
from idp.state import AppState

router = APIRouter(include_in_schema=False)

LINK_TTL = 20 * 60
MAX_BIRTHDATE_TRIES = 5
TRY_WINDOW = 3600
MIN_FIELDS = 3
MAX_FIELDS = 20

EXPIRED = _(
    "Le délai pour rattacher votre identité FranceConnect est dépassé. Veuillez recommencer."
)
NO_DATE = _("Indiquez la date de naissance d'au moins un enfant.")
BAD_DATE = _("Une des dates n'est pas valide. Utilisez le format jj/mm/aaaa.")
NO_MATCH = _(
    "Ces dates ne correspondent pas aux enfants connus des écoles sous votre nom. Indiquez la "
    "date de naissance de chacun de vos enfants scolarisés, et seulement d'eux."
)
TOO_MANY = _("Trop de tentatives. Réessayez dans une heure ou contactez l'école de votre enfant.")
NO_MOBILE = _(
    "Aucun numéro de téléphone mobile n'est connu des écoles pour vous : le code de vérification "
    "ne peut pas être envoyé. Demandez à l'école de votre enfant d'enregistrer votre numéro, "
    "ou utilisez les identifiants qu'elle vous a remis."
)
TOO_MANY_CODES = _("Trop de codes ont été demandés. Réessayez dans une heure.")
CODE_SENT = _("Un nouveau code vous a été envoyé.")


def _load(state: AppState, request: Request) -> PendingLink | None:
    return PendingLink.from_dict(
        sealer(state).open(seal.LINK, request.cookies.get(seal.COOKIES[seal.LINK]))
    )


def _save(state: AppState, response: Response, link: PendingLink) -> Response:
    sealed = sealer(state).seal(seal.LINK, link.to_dict(), LINK_TTL)
    seal.set_cookie(response, state.settings, seal.LINK, sealed, LINK_TTL)
    return response


def _failed(
    state: AppState, request: Request, message: str, auth: str | None, status: int = 400
) -> Response:
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
async def _posted_birthdates(request: Request, form: CheckedForm) -> list[str]:
    """Every ``birthdate`` field of the (CSRF-checked) form: ``CheckedForm`` keeps one."""
    return [str(v) for v in (await request.form()).getlist("birthdate")][:MAX_FIELDS]


PostedBirthdates = Annotated[list[str], Depends(_posted_birthdates)]


@router.get("/franceconnect/rattachement")
def birthdates_form(request: Request, state: State, db: ReadDb) -> Response:
    link = _load(state, request)
    if link is None:
        return _failed(state, request, EXPIRED, None)
    return _birthdates_page(state, db, request, link)


def _birthdates_page(
    state: AppState,
    db: Session,
    request: Request,
    link: PendingLink,
    values: list[str] | None = None,
    error: str | None = None,
) -> Response:
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
def birthdates_submit(request: Request, state: State, db: Db, values: PostedBirthdates) -> Response:
    link = _load(state, request)
    if link is None:
        return _failed(state, request, EXPIRED, None)
    filled = [v for v in values if v.strip()]
    parsed = [parse_date(v) for v in filled]
    if not filled:
        return _birthdates_page(state, db, request, link, values, NO_DATE)
    if None in parsed:
        return _birthdates_page(state, db, request, link, values, BAD_DATE)
    throttle = state.stores.throttle
    ip = client_ip(request)
    if throttle.hit(db, f"fclink:{link.sub}", TRY_WINDOW) > MAX_BIRTHDATE_TRIES:
        state.audit.record(db, "franceconnect.link_locked", ip=ip)
        return _failed(state, request, TOO_MANY, link.auth, 429)
    entered = {d for d in parsed if d is not None}
    selected = select_by_birthdates(children_birthdates(db, link.candidates), entered)
    if not selected:
        state.audit.record(db, "franceconnect.link_failed", ip=ip)
        return _birthdates_page(state, db, request, link, values, NO_MATCH)
    guardians = list(
        db.scalars(select(Guardian).where(Guardian.id.in_(selected)).order_by(Guardian.id))
    )
    chosen = choose_mobile(guardians)
    if chosen is None:
        return _failed(state, request, NO_MOBILE, link.auth, 409)
    mobile, holders = chosen
    try:
        challenge = _send_code(state, db, mobile, ip)
    except otp.OtpRateLimited:
        return _failed(state, request, TOO_MANY_CODES, link.auth, 429)
    throttle.reset(db, f"fclink:{link.sub}")
    link.selected = [g.id for g in holders]
    link.challenge = challenge
    link.mobile = mobile
    return _save(state, RedirectResponse("/franceconnect/code", status_code=303), link)


def _send_code(state: AppState, db: Session, mobile: str, ip: str) -> str:
    return otp.issue(
        state, db, otp.Purpose.franceconnect_link, subject=mobile, send_to=mobile, ip=ip
    )


# -- SMS code ------------------------------------------------------------------------------------
def _code_link(state: AppState, request: Request) -> PendingLink | Response:
    """The pending link, once a code was sent for it; else the page saying it expired."""
    link = _load(state, request)
    if link is None or not link.challenge or not link.mobile:
        return _failed(state, request, EXPIRED, link.auth if link else None)
    return link


@router.get("/franceconnect/code")
def code_form(request: Request, state: State) -> Response:
    link = _code_link(state, request)
    if isinstance(link, Response):
        return link
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
def code_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    link = _code_link(state, request)
    if isinstance(link, Response):
        return link
    assert link.challenge and link.mobile
    if form.get("action") == "resend":
        try:
            link.challenge = _send_code(state, db, link.mobile, client_ip(request))
        except otp.OtpRateLimited:
            return _code_page(state, request, link, TOO_MANY_CODES)
        return _save(state, _code_page(state, request, link, info=CODE_SENT), link)
    result = otp.verify(
        state,
        db,
        link.challenge,
        form.get("code", ""),
        purpose=otp.Purpose.franceconnect_link,
        subject=link.mobile,
    )
    if not result.ok:
        return _code_page(state, request, link, code_error(result))
    try:
        account = complete_link(state, db, link, link.mobile)
    except LinkRefused as refused:
        return _failed(state, request, refused.message, link.auth, 403)
    upstream = {"franceconnect_id_token": link.id_token}
    response = sign_in(
        state,
        db,
        request,
        account,
        link.auth,
        amr=["fc", "sms"],
        acr=ACR_FRANCECONNECT,
        upstream=upstream,
    )
    seal.clear_cookie(response, state.settings, seal.LINK)
    return response
