"""The hosted login and consent pages (DESIGN.md §4.1; contract: fields ``username``,
``password`` and a CSRF field)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from idp.accounts.login.authentication import admit, check_password
from idp.accounts.login.steps import required_step
from idp.accounts.models import Account
from idp.accounts.sessions import open_session
from idp.deps import State, client_ip
from idp.oidc.authorize import authorize, current_session, deny, record_consent
from idp.oidc.interaction import set_session_cookie
from idp.oidc.logout import end_session
from idp.oidc.models import Client
from idp.security.csrf import checked_form
from idp.state import AppState

router = APIRouter(include_in_schema=False)


def _login_page(
    state: AppState,
    request: Request,
    sealed: str | None,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    pending = state.interactions.open(sealed)
    client_name = None
    if pending is not None:
        username = username or pending.params.get("login_hint", "")
        with state.uow(readonly=True) as db:
            client = db.get(Client, pending.params.get("client_id", ""))
            client_name = client.name if client else None
    # The pending authorization follows the person into the other journeys.
    carry = f"?{urlencode({'auth': sealed})}" if pending else ""
    links = {
        "forgot_username": "/identifiant-oublie" + carry,
        "forgot_password": "/mot-de-passe-oublie" + carry,
        "register": "/inscription" + carry,
    }
    franceconnect_url = None
    if state.settings.franceconnect_enabled:
        franceconnect_url = "/franceconnect/login" + (
            f"?{urlencode({'auth': sealed})}" if pending else ""
        )
    return state.templates.render(
        request,
        "login.html",
        {
            "client_name": client_name,
            "username": username,
            "error": error,
            "action": "/login",
            "hidden": {"auth": sealed} if pending else {},
            "franceconnect_url": franceconnect_url,
            "links": links,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/login")
def login_form(request: Request, state: State, auth: str | None = None) -> Response:
    return _login_page(state, request, auth)


@router.post("/login")
async def login_submit(request: Request, state: State) -> Response:
    form = await checked_form(request)
    return await run_in_threadpool(
        _login,
        state,
        request,
        str(form.get("username", "")),
        str(form.get("password", "")),
        form.get("auth"),
    )


def _login(
    state: AppState, request: Request, username: str, password: str, sealed: str | None
) -> Response:
    if not username.strip() or not password:
        return _login_page(
            state,
            request,
            sealed,
            username,
            "Saisissez votre identifiant et votre mot de passe.",
            400,
        )
    ip = client_ip(request)
    checked = check_password(state, username, password, ip)
    if checked.account_id is None:
        return _login_page(state, request, sealed, username, checked.error, 400)
    with state.uow() as db:  # admission and the new session commit together
        refused = admit(state, db, checked, password, ip)
        if refused:
            return _login_page(state, request, sealed, username, refused, 400)
        account = db.get(Account, checked.account_id)
        previous = current_session(state, db, request)
        if previous is not None:
            end_session(state, db, previous[0])
        token, session = open_session(state, db, request, account, amr=["pwd"])
        step = required_step(account, session)
    pending = state.interactions.open(sealed)
    if pending is not None:
        # This login satisfies prompt=login / max_age, even after a required step.
        pending.login_at = session.auth_time
    if step:
        query = urlencode({"auth": state.interactions.seal(pending)}) if pending else ""
        response: Response = RedirectResponse(
            step + (f"?{query}" if query else ""), status_code=303
        )
    elif pending is not None:
        with state.uow() as db:
            response = authorize(state, db, request, pending, token)
    else:
        response = RedirectResponse("/compte", status_code=303)
    set_session_cookie(response, state.settings, token)
    return response


@router.post("/consent")
async def consent_submit(request: Request, state: State) -> Response:
    form = await checked_form(request)
    return await run_in_threadpool(_consent, state, request, form.get("auth"), form.get("decision"))


def _consent(
    state: AppState, request: Request, sealed: str | None, decision: str | None
) -> Response:
    pending = state.interactions.open(sealed)
    if pending is None:
        return state.templates.error_page(
            request,
            "Demande expirée",
            "La demande de connexion a expiré. Retournez sur le service et recommencez.",
            400,
        )
    if decision != "allow":
        with state.uow() as db:
            return deny(state, db, request, pending)
    with state.uow() as db:
        found = current_session(state, db, request)
        if found is None:
            return RedirectResponse("/login?" + urlencode({"auth": sealed}), status_code=303)
        _, account = found
        client = db.get(Client, pending.params.get("client_id", ""))
        if client is None:
            return deny(state, db, request, pending)
        scope = client.get_allowed_scope(pending.params.get("scope"))
        record_consent(state, db, account.id, client.client_id, scope)
    pending.consented = True
    with state.uow() as db:
        return authorize(state, db, request, pending)
