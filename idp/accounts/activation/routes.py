"""Activation of a notified account (DESIGN.md §4.2), after the first login with the
temporary password of the school's letter.

Guardians: 1. confirm each child's birth date (or report "not my child") → 2. choose a password
and give an e-mail address → 3. open the link e-mailed to that address: only then is the account
``active`` (as EduConnect requires) and the pending authorization resumes.
Pupils: choose a password → ``active``.

The letter's temporary password stays valid until the confirmation, which also applies the new
password (kept hashed with the link until then): a person who never confirms is simply asked
again at the next login. The birth-date step allows 5 tries an hour per account.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from idp.accounts.activation import email_step as activation_email
from idp.accounts.journeys import common as journey
from idp.accounts.journeys import email_links
from idp.accounts.journeys.models import LinkReport, LinkReportStatus
from idp.accounts.login.steps import required_step
from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.passwords_policy import problems
from idp.deps import State, client_ip
from idp.registry.identifiers import normalize_email
from idp.security.stores import SessionData
from idp.state import AppState

router = APIRouter(include_in_schema=False)
# Steps 3-4 (the e-mailed link) live in their own module.
router.include_router(activation_email.router)

KIND = "activation"
DATE_TRIES = 5
DATE_WINDOW = 3600
MISMATCH = (
    "Au moins une date de naissance ne correspond pas à celle connue de l'école. Vérifiez-les, "
    "ou cochez « Je ne suis pas le représentant légal de cet élève » pour signaler une erreur."
)
NONE_CONFIRMED = (
    "Confirmez la date de naissance d'au moins un enfant. Si aucun de ces élèves n'est votre "
    "enfant, n'activez pas ce compte et contactez l'école."
)


def _signed_in(
    state: AppState, db: Session, request: Request, auth: str | None
) -> tuple[SessionData, Account] | Response:
    """The notified account of the session, or where to go instead."""
    found = journey.signed_in(state, db, request)
    if found is None:
        return journey.login_redirect(auth)
    session, account = found
    if account.state != AccountState.notified:
        step = required_step(account)
        return (
            journey.redirect(step, auth)
            if step
            else journey.resume(state, db, request, auth, journey.redirect("/"))
        )
    return session, account


def _children_page(
    state: AppState,
    request: Request,
    db: Session,
    account: Account,
    auth: str | None,
    errors: dict,
    values: dict,
    status: int = 200,
) -> Response:
    children = journey.children_of_guardians(db, journey.guardian_ids_of(db, account.id))
    return journey.page(
        state,
        request,
        "activation_children.html",
        {"children": children, "errors": errors, "values": values, "hidden": journey.hidden(auth)},
        status,
    )


def _password_page(
    state: AppState,
    request: Request,
    session: SessionData,
    account: Account,
    auth: str | None,
    errors: dict | None = None,
    email: str = "",
    status: int = 200,
) -> Response:
    token = journey.seal_progress(
        state, KIND, {"step": "children", "acct": account.id, "sid": session.sid}
    )
    context = {
        "account": account,
        "pupil": account.kind == AccountKind.pupil,
        "email": email,
        "errors": errors or {},
    }
    context["hidden"] = journey.hidden(auth, progress=token)
    context["steps"] = (
        2 if account.kind == AccountKind.pupil or not _has_children(state, account) else 3
    )
    return journey.page(state, request, "activation_password.html", context, status)


def _has_children(state: AppState, account: Account) -> bool:
    with state.uow() as db:
        return bool(journey.children_of_guardians(db, journey.guardian_ids_of(db, account.id)))


@router.get("/activation")
def activation_start(request: Request, state: State, auth: str | None = None) -> Response:
    auth = journey.valid_auth(state, auth)
    with state.uow() as db:
        found = _signed_in(state, db, request, auth)
        if isinstance(found, Response):
            return found
        session, account = found
        if left := state.stores.throttle.locked_for(db, f"activation:{account.id}"):
            return journey.too_many(state, request, left)
        if account.kind == AccountKind.guardian and _has_children(state, account):
            return _children_page(state, request, db, account, auth, {}, {})
        return _password_page(state, request, session, account, auth)


@router.post("/activation/enfants")
async def activation_children(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_children, state, request, form)


def _children(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    with state.uow() as db:
        found = _signed_in(state, db, request, auth)
        if isinstance(found, Response):
            return found
        session, account = found
        key = f"activation:{account.id}"
        if left := state.stores.throttle.locked_for(db, key):
            return journey.too_many(state, request, left)
        children = journey.children_of_guardians(db, journey.guardian_ids_of(db, account.id))
        errors: dict[str, str] = {}
        values = {
            f"birthdate_{c.pupil_id}": form.get(f"birthdate_{c.pupil_id}", "") for c in children
        }
        reported = [c for c in children if form.get(f"not_mine_{c.pupil_id}")]
        values.update({f"not_mine_{c.pupil_id}": "1" for c in reported})
        mismatch = False
        for child in children:
            if child in reported:
                continue
            raw = form.get(f"birthdate_{child.pupil_id}", "")
            given = journey.parse_date(raw)
            if not raw.strip():
                errors[f"birthdate_{child.pupil_id}"] = (
                    f"Saisissez la date de naissance de {child.given_name}."
                )
            elif given is None:
                errors[f"birthdate_{child.pupil_id}"] = (
                    "Date incorrecte. Format attendu : JJ/MM/AAAA."
                )
            elif given != child.birthdate:
                mismatch = True
        if not errors and len(reported) == len(children):
            errors["form"] = NONE_CONFIRMED
        if errors and not mismatch:
            return _children_page(state, request, db, account, auth, errors, values, 400)
        if mismatch:
            state.audit.record(
                db,
                "activation.birthdates_refused",
                actor_account_id=account.id,
                ip=client_ip(request),
            )
            if left := journey.throttled(state, db, f"{key}:dates", DATE_TRIES, DATE_WINDOW):
                state.stores.throttle.lock(db, key, left)
                return journey.too_many(state, request, left)
            return _children_page(
                state, request, db, account, auth, {**errors, "form": MISMATCH}, values, 400
            )
        for child in reported:
            _report(state, db, account, child)
        state.stores.throttle.reset(db, f"{key}:dates")
        state.audit.record(
            db,
            "activation.children_confirmed",
            actor_account_id=account.id,
            detail={"confirmed": len(children) - len(reported), "reported": len(reported)},
        )
        return _password_page(state, request, session, account, auth)


def _report(state: AppState, db: Session, account: Account, child: journey.Child) -> None:
    exists = db.scalar(
        select(LinkReport.id).where(
            LinkReport.account_id == account.id,
            LinkReport.pupil_id == child.pupil_id,
            LinkReport.status == LinkReportStatus.open,
        )
    )
    if exists:
        return
    db.add(
        LinkReport(
            account_id=account.id,
            guardian_id=child.guardian_id,
            pupil_id=child.pupil_id,
            school_uai=child.school_uai,
            created_at=state.clock.now(),
            status=LinkReportStatus.open,
        )
    )
    state.audit.record(
        db,
        "link.reported",
        actor_account_id=account.id,
        target_type="pupil",
        target_id=child.pupil_id,
        school_uai=child.school_uai,
    )


@router.post("/activation/mot-de-passe")
async def activation_password(request: Request, state: State) -> Response:
    form = await journey.read_form(request)
    return await run_in_threadpool(_password, state, request, form)


def _password(state: AppState, request: Request, form: dict[str, str]) -> Response:
    auth = journey.valid_auth(state, form.get("auth"))
    with state.uow() as db:
        found = _signed_in(state, db, request, auth)
        if isinstance(found, Response):
            return found
        session, account = found
        progress = journey.open_progress(state, KIND, form.get("progress"), step="children")
        if (
            progress is None
            or progress.get("acct") != account.id
            or progress.get("sid") != session.sid
        ):
            return journey.redirect("/activation", auth)
        children = journey.children_of_guardians(db, journey.guardian_ids_of(db, account.id))
        personal = [
            account.username,
            account.given_name,
            account.family_name,
            *(c.given_name for c in children),
        ]
        password = form.get("password", "")
        errors: dict[str, str] = {}
        if found_problems := problems(
            password,
            form.get("password_confirm", ""),
            personal=personal,
            current_hash=account.password_hash,
            passwords=state.passwords,
        ):
            errors.update(journey.password_errors(found_problems))
        email = form.get("email", "").strip()
        if account.kind == AccountKind.guardian:
            try:
                email = normalize_email(email) if email else ""
            except ValueError:
                errors["email"] = "Adresse électronique incorrecte. Exemple : nom@exemple.fr"
            if not email and "email" not in errors:
                errors["email"] = (
                    "Saisissez votre adresse électronique : elle sert à confirmer l'activation"
                    " et à retrouver votre compte."
                )
        if errors:
            return _password_page(state, request, session, account, auth, errors, email, 400)
        password_hash = state.passwords.hash(password)
        if account.kind == AccountKind.pupil:
            activation_email.activate(state, db, account, password_hash, email=None)
            done = journey.message(
                state,
                request,
                "Votre compte est activé",
                "Vous pouvez maintenant utiliser votre compte ÉduConnect.",
                [("Continuer", "/")],
            )
            return journey.resume(state, db, request, auth, done)
        payload = {"password_hash": password_hash, "auth": auth, "sid": session.sid}
        token = email_links.create(state, db, email_links.ACTIVATION, account.id, email, payload)
        activation_email.send_link(state, account, email, token)
        state.audit.record(db, "activation.email_sent", actor_account_id=account.id)
        return activation_email.sent_page(state, request, account, email)
