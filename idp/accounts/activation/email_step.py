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
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.journeys import common as journey
from idp.accounts.journeys import email_links
from idp.accounts.journeys.models import EmailLink
from idp.accounts.models import Account, AccountState, ActivationRoute
from idp.deps import State
from idp.messaging.messenger import messenger
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND = "activation"
RESENDS_PER_HOUR = 3


def send_link(state: AppState, account: Account, email: str, token: str) -> None:
    url = email_links.url(state, "/activation/courriel", token)
    messenger(state).mail(
        email, "activation_email", given_name=account.given_name, url=url, hours=24
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
async def activation_resend(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_resend, state, request, form)


def _resend(state: AppState, request: Request, form: dict[str, str]) -> Response:
    progress = journey.open_progress(state, KIND, form.get("progress"), step="sent")
    with state.uow() as db:
        found = journey.signed_in(state, db, request)
        if progress is None or found is None or found[1].id != progress.get("acct"):
            return journey.login_redirect(None)
        account = found[1]
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
        send_link(state, account, latest.email, token)
        state.audit.record(db, "activation.email_resent", actor_account_id=account.id)
        return sent_page(state, request, account, latest.email)


@router.get("/activation/courriel")
def activation_link(request: Request, state: State, jeton: str | None = None) -> Response:
    return journey.email_link_page(
        state,
        request,
        email_links.ACTIVATION,
        jeton,
        "/activation/courriel",
        activation=True,
        invalid=_invalid_link,
    )


@router.post("/activation/courriel")
async def activation_confirm(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_confirm, state, request, form.get("jeton"))


def _confirm(state: AppState, request: Request, token: str | None) -> Response:
    with state.uow() as db:
        link = email_links.consume(state, db, email_links.ACTIVATION, token)
        account = db.get(Account, link.account_id) if link else None
        if link is None or account is None or account.state != AccountState.notified:
            return _invalid_link(state, request)
        payload = link.payload or {}
        activate(state, db, account, payload["password_hash"], email=link.email)
        found = journey.signed_in(state, db, request)
    if found is not None and found[1].id == account.id:
        done = journey.message(
            state,
            request,
            "Votre compte est activé",
            "Votre adresse électronique est confirmée et votre compte ÉduConnect est activé.",
            [("Continuer", "/")],
        )
        with state.uow() as db:
            return journey.resume(state, db, request, payload.get("auth"), done)
    return journey.message(
        state,
        request,
        "Votre compte est activé",
        (
            "Votre adresse électronique est confirmée et votre compte ÉduConnect est activé. "
            "Connectez-vous avec votre identifiant et votre nouveau mot de passe."
        ),
        [("Se connecter", "/login")],
    )


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
    return state.templates.error_page(
        request,
        "Lien invalide ou expiré",
        (
            "Ce lien n'est plus valable : il a déjà servi, a expiré (24 heures) ou a été remplacé "
            "par un lien plus récent. "
            "Connectez-vous avec votre identifiant et votre mot de passe provisoire pour recevoir "
            "un nouveau lien."
        ),
        400,
        back_url="/login",
    )
