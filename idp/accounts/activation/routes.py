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

from dataclasses import dataclass

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from idp.accounts.activation import email_step as activation_email
from idp.accounts.journeys import children as kids
from idp.accounts.journeys import common as journey
from idp.accounts.journeys import email_links
from idp.accounts.journeys.models import LinkReport, LinkReportStatus
from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.passwords_policy import problems
from idp.accounts.steps import required_step
from idp.deps import CheckedForm, Db, State, client_ip
from idp.i18n import _
from idp.registry.identifiers import normalize_email
from idp.security.stores import SessionData
from idp.state import AppState

router = APIRouter(include_in_schema=False)
# Steps 3-4 (the e-mailed link) live in their own module.
router.include_router(activation_email.router)

KIND = "activation"
DATE_TRIES = 5
DATE_WINDOW = 3600
MISMATCH = _(
    "Au moins une date de naissance ne correspond pas à celle connue de l'école. Vérifiez-les, "
    "ou cochez « Je ne suis pas le représentant légal de cet élève » pour signaler une erreur."
)
NONE_CONFIRMED = _(
    "Confirmez la date de naissance d'au moins un enfant. Si aucun de ces élèves n'est votre "
    "enfant, n'activez pas ce compte et contactez l'école."
)


@dataclass(frozen=True)
class _Notified:
    auth: str | None
    session: SessionData
    account: Account


def _signed_in(
    state: AppState, db: Session, request: Request, auth: str | None
) -> _Notified | Response:
    """The notified account of the session, or where to go instead; ``auth`` as received."""
    auth = journey.valid_auth(state, auth)
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
    return _Notified(auth, session, account)


def _children(db: Session, account: Account) -> list[kids.Child]:
    return kids.children_of_guardians(db, kids.guardian_ids_of(db, account.id))


def _children_page(
    state: AppState,
    db: Session,
    request: Request,
    account: Account,
    auth: str | None,
    errors: dict,
    values: dict,
    status: int = 200,
) -> Response:
    return journey.page(
        state,
        request,
        "activation_children.html",
        {
            "children": _children(db, account),
            "errors": errors,
            "values": values,
            "hidden": journey.hidden(auth),
        },
        status,
    )


def _password_page(
    state: AppState,
    db: Session,
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
    pupil = account.kind == AccountKind.pupil
    context = {
        "account": account,
        "pupil": pupil,
        "email": email,
        "errors": errors or {},
        "hidden": journey.hidden(auth, progress=token),
        "steps": 2 if pupil or not _children(db, account) else 3,
    }
    return journey.page(state, request, "activation_password.html", context, status)


@router.get("/activation")
def activation_start(request: Request, state: State, db: Db, auth: str | None = None) -> Response:
    found = _signed_in(state, db, request, auth)
    if isinstance(found, Response):
        return found
    session, account, auth = found.session, found.account, found.auth
    if left := state.stores.throttle.locked_for(db, f"activation:{account.id}"):
        return journey.too_many(state, request, left)
    if account.kind == AccountKind.guardian and _children(db, account):
        return _children_page(state, db, request, account, auth, {}, {})
    return _password_page(state, db, request, session, account, auth)


@router.post("/activation/enfants")
def activation_children(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = _signed_in(state, db, request, form.get("auth"))
    if isinstance(found, Response):
        return found
    session, account, auth = found.session, found.account, found.auth
    key = f"activation:{account.id}"
    if left := state.stores.throttle.locked_for(db, key):
        return journey.too_many(state, request, left)
    children = _children(db, account)
    reported = [c for c in children if form.get(f"not_mine_{c.pupil_id}")]
    values = kids.typed_birthdates(form, children)
    values.update({f"not_mine_{c.pupil_id}": "1" for c in reported})
    errors, mismatch = kids.check_birthdates(form, [c for c in children if c not in reported])
    if not errors and len(reported) == len(children):
        errors["form"] = NONE_CONFIRMED
    if errors and not mismatch:
        return _children_page(state, db, request, account, auth, errors, values, 400)
    if mismatch:
        state.audit.record(
            db, "activation.birthdates_refused", actor_account_id=account.id, ip=client_ip(request)
        )
        if left := journey.throttled(state, db, f"{key}:dates", DATE_TRIES, DATE_WINDOW):
            state.stores.throttle.lock(db, key, left)
            return journey.too_many(state, request, left)
        errors["form"] = MISMATCH
        return _children_page(state, db, request, account, auth, errors, values, 400)
    for child in reported:
        _report(state, db, account, child)
    state.stores.throttle.reset(db, f"{key}:dates")
    state.audit.record(
        db,
        "activation.children_confirmed",
        actor_account_id=account.id,
        detail={"confirmed": len(children) - len(reported), "reported": len(reported)},
    )
    return _password_page(state, db, request, session, account, auth)


def _report(state: AppState, db: Session, account: Account, child: kids.Child) -> None:
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
def activation_password(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = _signed_in(state, db, request, form.get("auth"))
    if isinstance(found, Response):
        return found
    session, account, auth = found.session, found.account, found.auth
    step = journey.posted_step(
        state, form, KIND, "children", restart="/activation", session=session
    )
    if isinstance(step, Response):
        return step
    personal = [
        account.username,
        account.given_name,
        account.family_name,
        *(c.given_name for c in _children(db, account)),
    ]
    password = form.get("password", "")
    errors = journey.password_errors(
        problems(
            password,
            form.get("password_confirm", ""),
            personal=personal,
            current_hash=account.password_hash,
            passwords=state.passwords,
        )
    )
    email = form.get("email", "").strip()
    if account.kind == AccountKind.guardian:
        email, error = _email(email)
        if error:
            errors["email"] = error
    if errors:
        return _password_page(state, db, request, session, account, auth, errors, email, 400)
    password_hash = state.passwords.hash(password)
    if account.kind == AccountKind.pupil:
        activation_email.activate(state, db, account, password_hash, email=None)
        done = journey.message(
            state,
            request,
            activation_email.ACTIVATED,
            _("Vous pouvez maintenant utiliser votre compte ÉduConnect."),
            [(_("Continuer"), "/")],
        )
        return journey.resume(state, db, request, auth, done)
    payload = {"password_hash": password_hash, "auth": auth, "sid": session.sid}
    token = email_links.create(state, db, email_links.ACTIVATION, account.id, email, payload)
    activation_email.send_link(state, db, account, email, token)
    state.audit.record(db, "activation.email_sent", actor_account_id=account.id)
    return activation_email.sent_page(state, request, account, email)


def _email(raw: str) -> tuple[str, str | None]:
    """The address a guardian gave (normalised), or an error to show."""
    try:
        email = normalize_email(raw) if raw else ""
    except ValueError:
        return raw, _("Adresse électronique incorrecte. Exemple : nom@exemple.fr")
    if not email:
        return "", _(
            "Saisissez votre adresse électronique : elle sert à confirmer l'activation"
            " et à retrouver votre compte."
        )
    return email, None
