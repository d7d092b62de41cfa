"""Changes a signed-in person makes to the account ("Mon compte"); the forced password change
is in ``password_renewal``.

- password: the current one is required; the other sessions end;
- e-mail: confirmed by a link sent to the new address (24 h); the old address is told;
- mobile: confirmed by an SMS code sent to the new number.
Accounts without a password (FranceConnect only) are told where their password lives.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import email_links
from idp.accounts.login import password_renewal
from idp.accounts.models import Account, AccountState
from idp.accounts.passwords_policy import problems
from idp.accounts.profile import mobile as profile_mobile
from idp.accounts.profile.access import signed_in
from idp.accounts.recovery import service as recovery
from idp.deps import CheckedForm, Db, ReadDb, State
from idp.i18n import _
from idp.messaging.messenger import messenger
from idp.registry.identifiers import normalize_email
from idp.state import AppState

router = APIRouter(include_in_schema=False)

BACK = (_("Retour à mon compte"), "/compte")
FRANCECONNECT_ONLY = _(
    "Vous vous connectez avec FranceConnect : votre mot de passe se gère chez votre fournisseur "
    "d'identité (impots.gouv.fr, ameli.fr…)."
)


def _password_page(state: AppState, request: Request, errors: dict, status: int = 200) -> Response:
    context = {
        "title": _("Changer mon mot de passe"),
        "action": "/compte/mot-de-passe",
        "hidden": {},
        "errors": errors,
        "forced": False,
        "current": True,
    }
    return journey.page(state, request, "password_new.html", context, status)


def _franceconnect_only(state: AppState, request: Request) -> Response:
    return journey.message(state, request, _("Mot de passe"), FRANCECONNECT_ONLY, [BACK])


# -- password ----------------------------------------------------------------------------------
@router.get("/compte/mot-de-passe")
def password_form(request: Request, state: State, db: ReadDb) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    if found[1].password_hash is None:
        return _franceconnect_only(state, request)
    return _password_page(state, request, {})


@router.post("/compte/mot-de-passe")
def password_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    session, account = found
    if account.password_hash is None:
        return _franceconnect_only(state, request)
    key = f"profile:password:{account.id}"
    if left := state.stores.throttle.locked_for(db, key):
        return journey.too_many(state, request, left)
    if not state.passwords.verify(account.password_hash, form.get("current_password", "")):
        limit = state.settings.login_max_failures_account
        if left := journey.throttled(state, db, key, limit, 3600):
            return journey.too_many(state, request, left)
        errors = {"current_password": _("Mot de passe actuel incorrect.")}
        return _password_page(state, request, errors, 400)
    personal = [account.username, account.given_name, account.family_name]
    if found_problems := problems(
        form.get("password", ""),
        form.get("password_confirm", ""),
        personal=personal,
        current_hash=account.password_hash,
        passwords=state.passwords,
    ):
        return _password_page(state, request, journey.password_errors(found_problems), 400)
    new_hash = state.passwords.hash(form["password"])
    recovery.set_password(state, db, account, new_hash, reason="changed", keep_sid=session.sid)
    return journey.message(
        state,
        request,
        _("Mot de passe modifié"),
        _("Votre mot de passe a été modifié. Vos autres sessions ont été fermées."),
        [BACK],
    )


# -- e-mail ------------------------------------------------------------------------------------
def _email_page(
    state: AppState, request: Request, account: Account, raw: str = "", error: str | None = None
) -> Response:
    context = {
        "account": account,
        "values": {"email": raw} if raw else {},
        "errors": {"email": error} if error else {},
        "hidden": {},
    }
    return journey.page(state, request, "profile_email.html", context, 400 if error else 200)


@router.get("/compte/courriel")
def email_form(request: Request, state: State, db: ReadDb) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    return _email_page(state, request, found[1])


@router.post("/compte/courriel")
def email_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    account = found[1]
    raw = form.get("email", "").strip()[:320]
    try:
        email = normalize_email(raw) if raw else None
    except ValueError:
        email = None
    if email is None:
        error = _("Adresse électronique incorrecte. Exemple : nom@exemple.fr")
        return _email_page(state, request, account, raw, error)
    if left := journey.throttled(state, db, f"profile:email:{account.id}", 5, 3600):
        return journey.too_many(state, request, left, "/compte/courriel")
    token = email_links.create(state, db, email_links.EMAIL_CHANGE, account.id, email)
    url = email_links.url(state, "/compte/courriel/confirmer", token)
    messenger(state).mail(
        db, email, "email_change", given_name=account.given_name, url=url, hours=24
    )
    state.audit.record(db, "email.change_requested", actor_account_id=account.id)
    text = _(
        "Nous avons envoyé un lien à %(email)s. Ouvrez-le dans les 24 heures pour confirmer "
        "votre nouvelle adresse."
    ) % {"email": email}
    return journey.message(state, request, _("Confirmez votre nouvelle adresse"), text, [BACK])


@router.get("/compte/courriel/confirmer")
def email_link(request: Request, state: State, db: ReadDb, jeton: str | None = None) -> Response:
    return journey.email_link_page(
        state,
        db,
        request,
        email_links.EMAIL_CHANGE,
        jeton,
        "/compte/courriel/confirmer",
        activation=False,
        invalid=_invalid_link,
    )


@router.post("/compte/courriel/confirmer")
def email_confirm(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    link = email_links.consume(state, db, email_links.EMAIL_CHANGE, form.get("jeton"))
    account = db.get(Account, link.account_id) if link else None
    if link is None or account is None or account.state != AccountState.active:
        return _invalid_link(state, request)
    previous = account.email if account.email_verified else None
    account.email, account.email_verified = link.email, True
    account.updated_at = state.clock.now()
    state.audit.record(
        db,
        "email.changed",
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
    )
    if previous and previous.lower() != link.email.lower():
        messenger(state).mail(
            db, previous, "email_changed", given_name=account.given_name, new_email=link.email
        )
    return journey.message(
        state,
        request,
        _("Adresse confirmée"),
        _("Votre adresse électronique est maintenant %(email)s.") % {"email": link.email},
        [BACK],
    )


def _invalid_link(state: AppState, request: Request) -> Response:
    text = _(
        "Ce lien n'est plus valable : il a déjà servi, a expiré ou a été remplacé par un plus "
        "récent. Refaites la demande depuis votre compte."
    )
    return journey.invalid_link(state, request, text, "/compte/courriel")


# The mobile number change and the forced renewal live in their own modules.
router.include_router(profile_mobile.router)
router.include_router(password_renewal.router)
