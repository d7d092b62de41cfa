"""The hosted login and consent pages (DESIGN.md §4.1; contract: fields ``username``,
``password`` and a CSRF field)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.accounts.login.authentication import admit, check_password
from idp.accounts.models import Account
from idp.accounts.sessions import sign_in
from idp.deps import CheckedForm, Db, ReadDb, State, client_ip
from idp.i18n import _
from idp.oidc.authorize import authorize, current_session, deny, record_consent
from idp.oidc.models import Client
from idp.state import AppState

router = APIRouter(include_in_schema=False)


def _login_page(
    state: AppState,
    db: Session,
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
        franceconnect_url = "/franceconnect/login" + carry
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
def login_form(request: Request, state: State, db: ReadDb, auth: str | None = None) -> Response:
    return _login_page(state, db, request, auth)


@router.post("/login")
def login_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    username, password = form.get("username", ""), form.get("password", "")
    sealed = form.get("auth")
    if not username.strip() or not password:
        error = _("Saisissez votre identifiant et votre mot de passe.")
        return _login_page(state, db, request, sealed, username, error, 400)
    ip = client_ip(request)
    # Transactions 1 and 2, of their own, before ``db`` is first used: the attempt's
    # reservation and account read, then argon2 outside any transaction (and a refusal's
    # audit event). See ``check_password``.
    checked = check_password(state, username, password, ip)
    if checked.account_id is None:
        return _login_page(state, db, request, sealed, username, checked.error, 400)
    # Transaction 3, the request's: the admission and the new session commit together.
    refused = admit(state, db, checked, password, ip)
    if refused:
        return _login_page(state, db, request, sealed, username, refused, 400)
    account = db.get(Account, checked.account_id)
    return sign_in(state, db, request, account, sealed, amr=["pwd"])


@router.post("/consent")
def consent_submit(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    sealed = form.get("auth")
    pending = state.interactions.open(sealed)
    if pending is None:
        return state.templates.error_page(
            request,
            _("Demande expirée"),
            _("La demande de connexion a expiré. Retournez sur le service et recommencez."),
            400,
        )
    if form.get("decision") != "allow":
        return deny(state, db, request, pending)
    found = current_session(state, db, request)
    if found is None:
        return RedirectResponse("/login?" + urlencode({"auth": sealed}), status_code=303)
    _session, account = found
    client = db.get(Client, pending.params.get("client_id", ""))
    if client is None:
        return deny(state, db, request, pending)
    scope = client.get_allowed_scope(pending.params.get("scope"))
    record_consent(state, db, account.id, client.client_id, scope)
    pending.consented = True
    return authorize(state, db, request, pending)
