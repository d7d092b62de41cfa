"""Forgotten identifier and forgotten password (DESIGN.md §4.6).

Both answer the same page whether or not an account exists (and whatever the channel used):
the messages say what the pages do not. A password reset ends every session and revokes every
grant of the account. Pupils recover through their school or a guardian (said on the pages).
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import email_links, otp
from idp.accounts.journeys.code_step import CodePage
from idp.accounts.models import Account
from idp.accounts.passwords_policy import problems
from idp.accounts.recovery import service as recovery
from idp.deps import CheckedForm, Db, ReadDb, State, client_ip
from idp.i18n import _
from idp.messaging.messenger import messenger
from idp.registry.identifiers import normalize_email, normalize_mobile
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "recovery"
START = "/mot-de-passe-oublie"
PER_ADDRESS = 10
PER_TARGET = 3
WINDOW = 3600
VERIFIED_TTL = 15 * 60
SENT_USERNAME = _(
    "Si un compte ÉduConnect correspond à ces informations, vous allez recevoir votre identifiant "
    "par SMS ou par courriel dans quelques minutes."
)
CODE_PAGE = CodePage(
    title=_("Mot de passe oublié"),
    path=START,
    intro=_(
        "Si ce compte existe, nous avons envoyé un code par SMS au numéro de mobile "
        "enregistré, ou un lien par courriel à l'adresse enregistrée. Saisissez le code "
        "ci-dessous, ou ouvrez le lien reçu."
    ),
    purpose=otp.Purpose.recovery,
    shown=lambda progress: progress["u"],
    masked_label=_("Compte"),
    retry_intro=_("Saisissez le code reçu par SMS, ou ouvrez le lien reçu par courriel."),
)


def _limited(
    state: AppState, db: Session, request: Request, target: str, back: str
) -> Response | None:
    for key, limit in (
        (f"recover:ip:{client_ip(request)}", PER_ADDRESS),
        (f"recover:{back}:{target}", PER_TARGET),
    ):
        if left := journey.throttled(state, db, key, limit, WINDOW):
            return journey.too_many(state, request, left, back)
    return None


def _form_page(
    state: AppState, request: Request, template: str, field: str, raw: str, error: str
) -> Response:
    context = {"values": {field: raw}, "errors": {field: error}, "hidden": {}}
    return journey.page(state, request, template, context, 400)


# -- forgotten identifier ----------------------------------------------------------------------
@router.get("/identifiant-oublie")
def forgot_username(request: Request, state: State) -> Response:
    return journey.page(
        state, request, "forgot_username.html", {"values": {}, "errors": {}, "hidden": {}}
    )


@router.post("/identifiant-oublie")
def forgot_username_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    raw = form.get("contact", "").strip()[:320]
    try:
        contact = (normalize_email(raw) if "@" in raw else normalize_mobile(raw)) if raw else None
    except ValueError:
        contact = None
    if contact is None:
        error = _(
            "Saisissez un numéro de téléphone mobile (06 12 34 56 78) ou une adresse électronique "
            "(nom@exemple.fr)."
        )
        return _form_page(state, request, "forgot_username.html", "contact", raw, error)
    if refused := _limited(state, db, request, contact.lower(), "/identifiant-oublie"):
        return refused
    accounts = recovery.accounts_for_contact(db, contact)
    usernames = [a.username for a in accounts]
    if accounts and "@" in contact:
        # To the address as confirmed, not as typed (the local part may differ in case).
        messenger(state).mail(db, accounts[0].email, "forgot_username", usernames=usernames)
    elif accounts:
        messenger(state).sms(db, contact, "forgot_username", usernames=usernames)
    state.audit.record(
        db, "recovery.username_requested", ip=client_ip(request), detail={"found": len(usernames)}
    )
    return journey.message(
        state,
        request,
        _("Demande enregistrée"),
        SENT_USERNAME,
        [(_("Se connecter"), "/login"), (_("Mot de passe oublié"), START)],
    )


# -- forgotten password ------------------------------------------------------------------------
@router.get("/mot-de-passe-oublie")
def forgot_password(request: Request, state: State) -> Response:
    return journey.page(
        state, request, "forgot_password.html", {"values": {}, "errors": {}, "hidden": {}}
    )


@router.post("/mot-de-passe-oublie")
def forgot_password_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    username = form.get("username", "").strip()[:64]
    if not username:
        error = _("Saisissez votre identifiant ÉduConnect (par exemple j.martin12).")
        return _form_page(state, request, "forgot_password.html", "username", "", error)
    return _send_code(state, db, request, username)


@router.post("/mot-de-passe-oublie/renvoyer")
def forgot_password_resend(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    step = journey.posted_step(state, form, KIND, "code", restart=START)
    if isinstance(step, Response):
        return step
    return _send_code(state, db, request, step.data["u"], resent=True)


def _send_code(
    state: AppState, db: Session, request: Request, username: str, resent: bool = False
) -> Response:
    if refused := _limited(state, db, request, username.lower(), START):
        return refused
    account = recovery.recoverable_account(db, username)
    where = recovery.reset_destination(db, account) if account and account.password_hash else None
    challenge = _issue(state, db, request, username, account, where)
    state.audit.record(
        db,
        "recovery.password_requested",
        ip=client_ip(request),
        target_type="account",
        target_id=account.id if account else None,
    )
    data = {"ch": challenge, "u": username}
    return CODE_PAGE.sent(state, request, KIND, None, data, resent=resent)


def _issue(
    state: AppState,
    db: Session,
    request: Request,
    username: str,
    account: Account | None,
    where: tuple[str, str] | None,
) -> str:
    """Send the code (or the link) and return a challenge id: a decoy when no code is sent, so
    every answer carries the same kind of token. Decoys are limited per identifier, like the
    page itself, so they never trip a limit that a real request would not."""
    ip = client_ip(request)
    try:
        if account is not None and where is not None and where[0] == "sms":
            return otp.issue(
                state, db, otp.Purpose.recovery, f"account:{account.id}", where[1], ip=ip
            )
        if account is not None and where is not None:
            token = email_links.create(state, db, email_links.PASSWORD_RESET, account.id, where[1])
            url = email_links.url(state, "/mot-de-passe-oublie/lien", token)
            messenger(state).mail(
                db, where[1], "password_reset", username=account.username, url=url, minutes=30
            )
        return otp.issue(
            state, db, otp.Purpose.recovery, "account:-", f"decoy:{username.lower()}", deliver=False
        )
    except otp.OtpRateLimited:
        return ""  # the same page answers; no new code is sent (said nowhere, on purpose)


@router.post("/mot-de-passe-oublie/code")
def forgot_password_code(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    step = journey.posted_step(state, form, KIND, "code", restart=START)
    if isinstance(step, Response):
        return step
    result = CODE_PAGE.verify(state, db, request, step, form)
    if isinstance(result, Response):
        return result
    account_id = (result.subject or "").removeprefix("account:")
    if db.get(Account, account_id) is None:  # a decoy's code, or the account is gone
        return CODE_PAGE.refused(state, request, step, otp.Result(False, "unknown"))
    progress = {"step": "verified", "acct": account_id}
    token = journey.seal_progress(state, KIND, progress, ttl=VERIFIED_TTL)
    return _new_password_page(state, request, {"progress": token}, {})


@router.get("/mot-de-passe-oublie/lien")
def forgot_password_link(
    request: Request, state: State, db: ReadDb, jeton: str | None = None
) -> Response:
    if email_links.peek(state, db, email_links.PASSWORD_RESET, jeton) is None:
        return _invalid_link(state, request)
    return _new_password_page(state, request, {"jeton": jeton or ""}, {})


def _new_password_page(
    state: AppState, request: Request, hidden: dict, errors: dict, status: int = 200
) -> Response:
    context = {
        "hidden": hidden,
        "errors": errors,
        "action": "/mot-de-passe-oublie/nouveau",
        "title": _("Choisir un nouveau mot de passe"),
        "forced": False,
    }
    return journey.page(state, request, "password_new.html", context, status)


@router.post("/mot-de-passe-oublie/nouveau")
def forgot_password_new(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    link_token = form.get("jeton")
    if link_token:
        link = email_links.peek(state, db, email_links.PASSWORD_RESET, link_token)
        account_id, hidden = (link.account_id if link else None), {"jeton": link_token}
    else:
        progress = journey.open_progress(state, KIND, form.get("progress"), step="verified")
        account_id, hidden = (progress or {}).get("acct"), {"progress": form.get("progress", "")}
    account = db.get(Account, account_id) if account_id else None
    if account is None or account.state not in recovery.RECOVERABLE:
        return _invalid_link(state, request)
    personal = [account.username, account.given_name, account.family_name]
    if found := problems(
        form.get("password", ""), form.get("password_confirm", ""), personal=personal
    ):
        return _new_password_page(state, request, hidden, journey.password_errors(found), 400)
    if link_token:
        used = email_links.consume(state, db, email_links.PASSWORD_RESET, link_token) is not None
    else:
        used = _use_once(state, db, form["progress"])
    if not used:
        return _invalid_link(state, request)
    recovery.set_password(
        state, db, account, state.passwords.hash(form["password"]), reason="reset"
    )
    text = _(
        "Votre mot de passe a été modifié. Par sécurité, vous avez été déconnecté de tous les "
        "services : connectez-vous avec votre nouveau mot de passe."
    )
    return journey.message(
        state, request, _("Mot de passe modifié"), text, [(_("Se connecter"), "/login")]
    )


def _use_once(state: AppState, db: Session, token: str) -> bool:
    """A verified-code token sets one password: the first use locks it out for its lifetime."""
    key = "recover:used:" + hashlib.sha256(token.encode()).hexdigest()
    return state.stores.throttle.hit(db, key, VERIFIED_TTL) == 1


def _invalid_link(state: AppState, request: Request) -> Response:
    text = _(
        "Ce lien ou ce code n'est plus valable : il a déjà servi, a expiré ou a été remplacé "
        "par un plus récent. Recommencez la demande."
    )
    return journey.invalid_link(state, request, text, START)
