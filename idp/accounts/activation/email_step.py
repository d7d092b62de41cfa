"""Activation, last steps: the link e-mailed to the address given (DESIGN.md §4.2).

"Check your mailbox" (with a rate-limited resend) → the link shows a confirmation button (mail
scanners that open links must not use it) → the account becomes ``active`` with the password
chosen earlier, and the pending authorization resumes when the link is opened in the browser
that holds the session; elsewhere, the person is sent to the login page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import email_links
from idp.accounts.journeys.models import EmailLink
from idp.accounts.models import Account, AccountState, ActivationRoute
from idp.deps import CheckedForm, Db, ReadDb, State
from idp.i18n import _
from idp.messaging.messenger import messenger
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "activation"
RESENDS_PER_HOUR = 3
ACTIVATED = _("Votre compte est activé")
CONFIRMED = _("Votre adresse électronique est confirmée et votre compte ÉduConnect est activé.")


def send_link(state: AppState, db: Session, account: Account, email: str, token: str) -> None:
    url = email_links.url(state, "/activation/courriel", token)
    messenger(state).mail(
        db, email, "activation_email", given_name=account.given_name, url=url, hours=24
    )


def sent_page(state: AppState, request: Request, account: Account, email: str) -> Response:
    progress = journey.seal_progress(
        state, KIND, {"step": "sent", "acct": account.id}, ttl=24 * 3600
    )
    return journey.page(
        state,
        request,
        "activation_sent.html",
        {"email": email, "hidden": journey.hidden(None, progress=progress)},
    )


@router.post("/activation/renvoyer")
def activation_resend(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = journey.signed_in(state, db, request)
    if found is None:
        return journey.login_redirect(None)
    session, account = found
    step = journey.posted_step(state, form, KIND, "sent", restart="/login", session=session)
    if isinstance(step, Response):
        return step
    if left := journey.throttled(
        state, db, f"activation:resend:{account.id}", RESENDS_PER_HOUR, 3600
    ):
        return journey.too_many(state, request, left)
    latest = db.scalar(
        select(EmailLink)
        .where(
            EmailLink.account_id == account.id,
            EmailLink.purpose == email_links.ACTIVATION,
            EmailLink.used_at.is_(None),
        )
        .order_by(EmailLink.created_at.desc())
    )
    if latest is None or account.state != AccountState.notified:
        return journey.redirect("/activation")
    token = email_links.create(
        state, db, email_links.ACTIVATION, account.id, latest.email, dict(latest.payload or {})
    )
    send_link(state, db, account, latest.email, token)
    state.audit.record(db, "activation.email_resent", actor_account_id=account.id)
    return sent_page(state, request, account, latest.email)


@router.get("/activation/courriel")
def activation_link(
    request: Request, state: State, db: ReadDb, jeton: str | None = None
) -> Response:
    return journey.email_link_page(
        state,
        db,
        request,
        email_links.ACTIVATION,
        jeton,
        "/activation/courriel",
        activation=True,
        invalid=_invalid_link,
    )


@router.post("/activation/courriel")
def activation_confirm(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    used = email_links.consume_for(
        state, db, email_links.ACTIVATION, form.get("jeton"), AccountState.notified
    )
    if used is None:
        return _invalid_link(state, request)
    link, account = used
    payload = link.payload or {}
    activate(state, db, account, payload["password_hash"], email=link.email)
    found = journey.signed_in(state, db, request)
    if found is not None and found[1].id == account.id:
        done = journey.message(state, request, ACTIVATED, CONFIRMED, [(_("Continuer"), "/")])
        return journey.resume(state, db, request, payload.get("auth"), done)
    text = (
        CONFIRMED + " " + _("Connectez-vous avec votre identifiant et votre nouveau mot de passe.")
    )
    return journey.message(state, request, ACTIVATED, text, [(_("Se connecter"), "/login")])


def activate(
    state: AppState, db: Session, account: Account, password_hash: str, email: str | None
) -> None:
    now = state.clock.now()
    account.password_hash = password_hash
    account.password_changed_at = now
    account.force_password_change = False
    account.state = AccountState.active
    account.activated_at = now
    account.activation_route = ActivationRoute.letter
    account.updated_at = now
    if email:
        account.email = email
        account.email_verified = True
    state.audit.record(
        db,
        "account.activated",
        actor_account_id=account.id,
        target_type="account",
        target_id=account.id,
        detail={"route": "letter"},
    )


def _invalid_link(state: AppState, request: Request) -> Response:
    text = _(
        "Ce lien n'est plus valable : il a déjà servi, a expiré (24 heures) ou a été remplacé "
        "par un lien plus récent. Connectez-vous avec votre identifiant et votre mot de passe "
        "provisoire pour recevoir un nouveau lien."
    )
    return journey.invalid_link(state, request, text, "/login")
