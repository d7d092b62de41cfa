"""Forgotten identifier and forgotten password (DESIGN.md §4.6).

Both answer the same page whether or not an account exists (and whatever the channel used):
the messages say what the pages do not. A password reset ends every session and revokes every
grant of the account. Pupils recover through their school or a guardian (said on the pages).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import email_links, otp
from idp.accounts.models import Account
from idp.accounts.passwords_policy import problems
from idp.accounts.recovery import service as recovery
from idp.deps import State, client_ip
from idp.messaging.messenger import messenger
from idp.registry.identifiers import normalize_email, normalize_mobile
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "recovery"
PER_ADDRESS = 10
PER_TARGET = 3
WINDOW = 3600
SENT_USERNAME = (
    "Si un compte ÉduConnect correspond à ces informations, vous allez recevoir votre identifiant "
    "par SMS ou par courriel dans quelques minutes."
)


def _limited(state: AppState, request: Request, target: str, back: str) -> Response | None:
    for key, limit in (
        (f"recover:ip:{client_ip(request)}", PER_ADDRESS),
        (f"recover:{back}:{target}", PER_TARGET),
    ):
        with state.uow() as db:
            left = journey.throttled(state, db, key, limit, WINDOW)
        if left:
            return journey.too_many(state, request, left, back)
    return None


# -- forgotten identifier ----------------------------------------------------------------------
@router.get("/identifiant-oublie")
def forgot_username(request: Request, state: State) -> Response:
    return journey.page(
        state, request, "forgot_username.html", {"values": {}, "errors": {}, "hidden": {}}
    )


@router.post("/identifiant-oublie")
async def forgot_username_submit(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(
        _forgot_username, state, request, form.get("contact", "").strip()[:320]
    )


def _forgot_username(state: AppState, request: Request, raw: str) -> Response:
    try:
        contact = (normalize_email(raw) if "@" in raw else normalize_mobile(raw)) if raw else None
    except ValueError:
        contact = None
    if contact is None:
        error = (
            "Saisissez un numéro de téléphone mobile (06 12 34 56 78) ou une adresse électronique "
            "(nom@exemple.fr)."
        )
        return journey.page(
            state,
            request,
            "forgot_username.html",
            {"values": {"contact": raw}, "errors": {"contact": error}, "hidden": {}},
            400,
        )
    if refused := _limited(state, request, contact.lower(), "/identifiant-oublie"):
        return refused
    with state.uow() as db:
        accounts = recovery.accounts_for_contact(db, contact)
        usernames = [a.username for a in accounts]
        if accounts and "@" in contact:
            # To the address as confirmed, not as typed (the local part may differ in case).
            messenger(state).mail(accounts[0].email, "forgot_username", usernames=usernames)
        elif accounts:
            messenger(state).sms(contact, "forgot_username", usernames=usernames)
        state.audit.record(
            db,
            "recovery.username_requested",
            ip=client_ip(request),
            detail={"found": len(usernames)},
        )
    return journey.message(
        state,
        request,
        "Demande enregistrée",
        SENT_USERNAME,
        [("Se connecter", "/login"), ("Mot de passe oublié", "/mot-de-passe-oublie")],
    )


# -- forgotten password ------------------------------------------------------------------------
@router.get("/mot-de-passe-oublie")
def forgot_password(request: Request, state: State) -> Response:
    return journey.page(
        state, request, "forgot_password.html", {"values": {}, "errors": {}, "hidden": {}}
    )


@router.post("/mot-de-passe-oublie")
async def forgot_password_submit(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(
        _forgot_password, state, request, form.get("username", "").strip()[:64], False
    )


@router.post("/mot-de-passe-oublie/renvoyer")
async def forgot_password_resend(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    progress = journey.open_progress(state, KIND, form.get("progress"), step="code")
    if progress is None:
        return journey.redirect("/mot-de-passe-oublie")
    return await run_in_threadpool(_forgot_password, state, request, progress["u"], True)


def _forgot_password(state: AppState, request: Request, username: str, resent: bool) -> Response:
    if not username:
        errors = {"username": "Saisissez votre identifiant ÉduConnect (par exemple j.martin12)."}
        return journey.page(
            state,
            request,
            "forgot_password.html",
            {"values": {}, "errors": errors, "hidden": {}},
            400,
        )
    if refused := _limited(state, request, username.lower(), "/mot-de-passe-oublie"):
        return refused
    with state.uow() as db:
        account = recovery.recoverable_account(db, username)
        where = (
            recovery.reset_destination(db, account) if account and account.password_hash else None
        )
        challenge = _issue(state, db, request, username, account, where)
        state.audit.record(
            db,
            "recovery.password_requested",
            ip=client_ip(request),
            target_type="account",
            target_id=account.id if account else None,
        )
    token = journey.seal_progress(state, KIND, {"step": "code", "ch": challenge, "u": username})
    context = {
        "title": "Mot de passe oublié",
        "step": None,
        "masked": username,
        "masked_label": "Compte",
        "errors": {},
        "resent": resent,
        "hidden": {"progress": token},
        "action": "/mot-de-passe-oublie/code",
        "resend_action": "/mot-de-passe-oublie/renvoyer",
        "intro": (
            "Si ce compte existe, nous avons envoyé un code par SMS au numéro de mobile "
            "enregistré, ou un lien par courriel à l'adresse enregistrée. Saisissez le code "
            "ci-dessous, ou ouvrez le lien reçu."
        ),
    }
    return journey.page(state, request, "code.html", context)


def _issue(
    state: AppState,
    db,
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
                where[1], "password_reset", username=account.username, url=url, minutes=30
            )
        return otp.issue(
            state, db, otp.Purpose.recovery, "account:-", f"decoy:{username.lower()}", deliver=False
        )
    except otp.OtpRateLimited:
        return ""  # the same page answers; no new code is sent (said nowhere, on purpose)


@router.post("/mot-de-passe-oublie/code")
async def forgot_password_code(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_code, state, request, form)


def _code(state: AppState, request: Request, form: dict[str, str]) -> Response:
    progress = journey.open_progress(state, KIND, form.get("progress"), step="code")
    if progress is None:
        return journey.redirect("/mot-de-passe-oublie")
    with state.uow() as db:
        result = otp.verify(
            state, db, progress["ch"] or "-", form.get("code", ""), purpose=otp.Purpose.recovery
        )
        account_id = (result.subject or "").removeprefix("account:")
        if not result.ok or db.get(Account, account_id) is None:
            context = {
                "title": "Mot de passe oublié",
                "step": None,
                "masked": progress["u"],
                "masked_label": "Compte",
                "errors": {"code": journey.code_error(result)},
                "hidden": {"progress": form["progress"]},
                "action": "/mot-de-passe-oublie/code",
                "resend_action": "/mot-de-passe-oublie/renvoyer",
                "intro": "Saisissez le code reçu par SMS, ou ouvrez le lien reçu par courriel.",
            }
            return journey.page(state, request, "code.html", context, 400)
    token = journey.seal_progress(
        state, KIND, {"step": "verified", "acct": account_id}, ttl=15 * 60
    )
    return _new_password_page(state, request, {"progress": token}, {})


@router.get("/mot-de-passe-oublie/lien")
def forgot_password_link(request: Request, state: State, jeton: str | None = None) -> Response:
    with state.uow() as db:
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
        "title": "Choisir un nouveau mot de passe",
        "forced": False,
    }
    return journey.page(state, request, "password_new.html", context, status)


@router.post("/mot-de-passe-oublie/nouveau")
async def forgot_password_new(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_new_password, state, request, form)


def _new_password(state: AppState, request: Request, form: dict[str, str]) -> Response:
    link_token = form.get("jeton")
    with state.uow() as db:
        if link_token:
            link = email_links.peek(state, db, email_links.PASSWORD_RESET, link_token)
            account_id, hidden = (link.account_id if link else None), {"jeton": link_token}
        else:
            progress = journey.open_progress(state, KIND, form.get("progress"), step="verified")
            account_id, hidden = (
                (progress or {}).get("acct"),
                {"progress": form.get("progress", "")},
            )
        account = db.get(Account, account_id) if account_id else None
        if account is None or account.state not in recovery.RECOVERABLE:
            return _invalid_link(state, request)
        personal = [account.username, account.given_name, account.family_name]
        if found := problems(
            form.get("password", ""), form.get("password_confirm", ""), personal=personal
        ):
            return _new_password_page(state, request, hidden, journey.password_errors(found), 400)
        if (
            link_token
            and email_links.consume(state, db, email_links.PASSWORD_RESET, link_token) is None
        ):
            return _invalid_link(state, request)
        if not link_token and not _use_once(state, form["progress"]):
            return _invalid_link(state, request)
        recovery.set_password(
            state, db, account, state.passwords.hash(form["password"]), reason="reset"
        )
    return journey.message(
        state,
        request,
        "Mot de passe modifié",
        (
            "Votre mot de passe a été modifié. Par sécurité, vous avez été déconnecté de tous les "
            "services : connectez-vous avec votre nouveau mot de passe."
        ),
        [("Se connecter", "/login")],
    )


def _use_once(state: AppState, token: str) -> bool:
    """A verified-code token sets one password: the first use locks it out for its lifetime."""
    import hashlib

    key = "recover:used:" + hashlib.sha256(token.encode()).hexdigest()
    with state.uow() as db:
        return state.stores.throttle.hit(db, key, 15 * 60) == 1


def _invalid_link(state: AppState, request: Request) -> Response:
    return state.templates.error_page(
        request,
        "Lien invalide ou expiré",
        (
            "Ce lien ou ce code n'est plus valable : il a déjà servi, a expiré ou a été remplacé "
            "par un plus récent. Recommencez la demande."
        ),
        400,
        back_url="/mot-de-passe-oublie",
    )
