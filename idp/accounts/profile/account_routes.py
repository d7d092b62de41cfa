""" "Mon compte": identity, children, connected services, sessions, grouping (DESIGN.md §4.5).

    GET  /compte                      overview (session required, else /login)
    POST /compte/services/revoquer    revoke a service's grants and consent
    POST /compte/sessions/terminer    end one of the account's other sessions
    GET  /compte/rattacher            "Ajouter des élèves depuis un autre compte"
    POST /compte/rattacher            prove control of the other account, merge it into this one

The profile changes (password, e-mail, mobile) live in ``profile.routes``. Every form carries
the CSRF token; every action is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.grouping.service import merge_accounts, merge_problem
from idp.accounts.login.authentication import admit, check_password
from idp.accounts.models import Account, AccountKind
from idp.accounts.profile import overview
from idp.accounts.profile.access import signed_in
from idp.deps import CheckedForm, Db, ReadDb, State, client_ip
from idp.i18n import _
from idp.oidc.logout import end_session
from idp.state import AppState

router = APIRouter(include_in_schema=False)

#: Confirmations shown after an action (``/compte?fait=…``).
NOTICES = {
    "service": _(
        "L'accès du service a été révoqué. Il devra vous demander à nouveau l'autorisation."
    ),
    "session": _("La session a été fermée."),
    "rattachement": _(
        "Les élèves de l'autre compte ont été ajoutés à votre compte. L'autre compte est fermé."
    ),
}
MISSING_CREDENTIALS = _("Saisissez l'identifiant et le mot de passe de l'autre compte.")
GUARDIANS_ONLY = _("Seuls les comptes de représentant légal peuvent regrouper des élèves.")


def _done(what: str) -> Response:
    return RedirectResponse(f"/compte?fait={what}", status_code=303)


@router.get("/compte")
def account_page(request: Request, state: State, db: ReadDb, fait: str | None = None) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    session, account = found
    context = {
        "account": account,
        "is_guardian": account.kind == AccountKind.guardian,
        "children": overview.children(db, account),
        "services": overview.services(state, db, account.id),
        "franceconnect": overview.has_franceconnect(db, account.id),
        "sessions": overview.active_sessions(state, db, account.id, session.sid),
        "notice": NOTICES.get(fait or ""),
        "format_date": overview.format_date,
        "format_datetime": overview.format_datetime,
    }
    return state.templates.render(request, "account/overview.html", context)


@router.post("/compte/services/revoquer")
def revoke_service(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    overview.revoke_service(state, db, found[1].id, form.get("client_id", ""))
    return _done("service")


@router.post("/compte/sessions/terminer")
def end_one_session(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    current, account = found
    sid = form.get("sid", "")
    if sid == current.sid:
        # This browser's own session: the full logout, which also ends FranceConnect's.
        return RedirectResponse("/logout", status_code=303)
    sessions = state.stores.sessions.for_account(db, account.id)
    target = next((s for s in sessions if s.sid == sid), None)
    if target is not None:
        end_session(state, db, target)
    return _done("session")


@router.get("/compte/rattacher")
def group_form(request: Request, state: State, db: ReadDb) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    return _group_page(state, request, found[1])


def _group_page(
    state: AppState,
    request: Request,
    account: Account,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    if account.kind != AccountKind.guardian:
        error, status = GUARDIANS_ONLY, 403
    return state.templates.render(
        request,
        "account/group.html",
        {
            "username": username,
            "error": error,
            "allowed": account.kind == AccountKind.guardian,
            "action": "/compte/rattacher",
        },
        status_code=status,
    )


@router.post("/compte/rattacher")
def group_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    found = signed_in(state, db, request)
    if isinstance(found, Response):
        return found
    account = found[1]
    username, password = form.get("username", ""), form.get("password", "")
    if account.kind != AccountKind.guardian:
        return _group_page(state, request, account)
    if not username.strip() or not password:
        return _group_page(state, request, account, username, MISSING_CREDENTIALS, 400)
    # The same throttled check as the login form (guessing another account's password from
    # here is no easier than from the login page), with the same transactions: this read
    # ends first, because ``check_password`` runs its own, with argon2 outside any.
    db.commit()
    ip = client_ip(request)
    checked = check_password(state, username, password, ip)
    refused = checked.error or admit(state, db, checked, password, ip)
    if refused:
        return _group_page(state, request, account, username, refused, 400)
    other = db.get(Account, checked.account_id)
    problem = merge_problem(db, account, other)
    if problem:
        state.audit.record(
            db,
            "grouping.refused",
            actor_account_id=account.id,
            target_type="account",
            target_id=other.id,
            ip=ip,
        )
        return _group_page(state, request, account, username, problem, 400)
    merge_accounts(state, db, account, other, ip)
    return _done("rattachement")
