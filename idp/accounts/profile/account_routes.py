""" "Mon compte": identity, children, connected services, sessions, grouping (DESIGN.md §4.5).

    GET  /compte                      overview (session required, else /login)
    POST /compte/services/revoquer    revoke a service's grants and consent
    POST /compte/sessions/terminer    end one of the account's other sessions
    GET  /compte/rattacher            "Ajouter des élèves depuis un autre compte"
    POST /compte/rattacher            prove control of the other account, merge it into this one

The profile changes (password, e-mail, mobile) live in ``profile_routes``. Every form carries
the CSRF token; every action is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from idp.accounts.grouping.service import merge_accounts, merge_problem
from idp.accounts.login.authentication import authenticate
from idp.accounts.login.steps import required_step
from idp.accounts.models import Account, AccountKind
from idp.accounts.profile import overview
from idp.deps import State, client_ip
from idp.oidc.authorize import current_session
from idp.oidc.logout import end_session
from idp.security.csrf import verify_csrf
from idp.security.stores import SessionData
from idp.state import AppState

router = APIRouter(include_in_schema=False)

#: Confirmations shown after an action (``/compte?fait=…``).
NOTICES = {
    "service": "L'accès du service a été révoqué. Il devra vous demander à nouveau l'autorisation.",
    "session": "La session a été fermée.",
    "rattachement": (
        "Les élèves de l'autre compte ont été ajoutés à votre compte. L'autre compte est fermé."
    ),
}
MISSING_CREDENTIALS = "Saisissez l'identifiant et le mot de passe de l'autre compte."
GUARDIANS_ONLY = "Seuls les comptes de représentant légal peuvent regrouper des élèves."


def _signed_in(state: AppState, request: Request) -> tuple[SessionData, Account] | Response:
    """The session and its account, or the redirect that comes first (login, pending step)."""
    with state.uow(readonly=True) as db:
        found = current_session(state, db, request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    step = required_step(found[1])
    if step:
        return RedirectResponse(step, status_code=303)
    return found


def _done(what: str) -> Response:
    return RedirectResponse(f"/compte?fait={what}", status_code=303)


@router.get("/compte")
def account_page(request: Request, state: State, fait: str | None = None) -> Response:
    found = _signed_in(state, request)
    if isinstance(found, Response):
        return found
    session, account = found
    with state.uow(readonly=True) as db:
        context = {
            "account": account,
            "is_guardian": account.kind == AccountKind.guardian,
            "children": overview.children(db, account),
            "services": overview.services(state, db, account.id),
            "franceconnect": overview.has_franceconnect(db, account.id),
            "sessions": overview.active_sessions(state, db, account.id, session.sid),
        }
    context.update(
        notice=NOTICES.get(fait or ""),
        format_date=overview.format_date,
        format_datetime=overview.format_datetime,
    )
    return state.templates.render(request, "account/overview.html", context)


@router.post("/compte/services/revoquer")
async def revoke_service(request: Request, state: State) -> Response:
    form = await request.form()
    verify_csrf(request, form.get("csrf_token"))
    return await run_in_threadpool(_revoke_service, state, request, str(form.get("client_id", "")))


def _revoke_service(state: AppState, request: Request, client_id: str) -> Response:
    found = _signed_in(state, request)
    if isinstance(found, Response):
        return found
    with state.uow() as db:
        overview.revoke_service(state, db, found[1].id, client_id)
    return _done("service")


@router.post("/compte/sessions/terminer")
async def end_one_session(request: Request, state: State) -> Response:
    form = await request.form()
    verify_csrf(request, form.get("csrf_token"))
    return await run_in_threadpool(_end_session, state, request, str(form.get("sid", "")))


def _end_session(state: AppState, request: Request, sid: str) -> Response:
    found = _signed_in(state, request)
    if isinstance(found, Response):
        return found
    current, account = found
    if sid == current.sid:
        # This browser's own session: the full logout, which also ends FranceConnect's.
        return RedirectResponse("/logout", status_code=303)
    with state.uow() as db:
        sessions = state.stores.sessions.for_account(db, account.id)
        target = next((s for s in sessions if s.sid == sid), None)
        if target is not None:
            end_session(state, db, target)
    return _done("session")


@router.get("/compte/rattacher")
def group_form(request: Request, state: State) -> Response:
    found = _signed_in(state, request)
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
async def group_submit(request: Request, state: State) -> Response:
    form = await request.form()
    verify_csrf(request, form.get("csrf_token"))
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    return await run_in_threadpool(_group, state, request, username, password)


def _group(state: AppState, request: Request, username: str, password: str) -> Response:
    found = _signed_in(state, request)
    if isinstance(found, Response):
        return found
    account = found[1]
    if account.kind != AccountKind.guardian:
        return _group_page(state, request, account)
    if not username.strip() or not password:
        return _group_page(state, request, account, username, MISSING_CREDENTIALS, 400)
    # The same throttled check as the login form: guessing another account's password from
    # here is no easier than from the login page.
    ip = client_ip(request)
    result = authenticate(state, username, password, ip)
    if result.account_id is None:
        return _group_page(state, request, account, username, result.error, 400)
    with state.uow() as db:
        into = db.get(Account, account.id)
        other = db.get(Account, result.account_id)
        problem = merge_problem(db, into, other)
        if problem is None:
            merge_accounts(state, db, into, other, ip)
        if problem:
            state.audit.record(
                db,
                "grouping.refused",
                actor_account_id=account.id,
                target_type="account",
                target_id=result.account_id,
                ip=ip,
            )
    if problem:
        return _group_page(state, request, account, username, problem, 400)
    return _done("rattachement")
