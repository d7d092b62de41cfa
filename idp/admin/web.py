"""What every ``/admin`` page shares: who is signed in, the menu, rendering, form reading.

A page is reachable only with an SSO session of a staff account whose second factor was
checked in that session (``amr`` contains ``otp``). Without a session: the login page; without
the second factor: the TOTP page; a session of a guardian or pupil: 404, as if ``/admin`` did
not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import Account, AccountKind
from idp.accounts.steps import SECOND_FACTOR_AMR, STAFF_SECOND_FACTOR
from idp.admin.roles import ROLE_LABELS, Action, Staff
from idp.deps import client_ip
from idp.oidc.authorize import current_session
from idp.security.csrf import checked_form, verify_csrf
from idp.security.stores import SessionData
from idp.state import AppState

#: Pages show times in metropolitan France's time zone (the overseas académies are few).
TIME_ZONE = ZoneInfo("Europe/Paris")

#: The menu: (label, path, action needed).
MENU = (
    ("Accueil", "/admin", Action.read),
    ("Rechercher un compte", "/admin/personnes", Action.read),
    ("Notifier des comptes", "/admin/notifier", Action.notify),
    ("Statistiques", "/admin/statistiques", Action.read),
    ("Signalements « pas mon enfant »", "/admin/signalements", Action.reports),
    ("Demandes d'assistance", "/admin/assistance", Action.tickets),
    ("Journal des actions", "/admin/journal", Action.audit),
    ("Personnels", "/admin/personnels", Action.staff),
)


class Redirect(Exception):
    """Raised by ``signed_in`` when the page cannot be shown yet."""

    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass
class Ctx:
    """The request's staff member, session and client address."""

    staff: Staff
    session: SessionData
    account: Account
    ip: str


def signed_in(state: AppState, request: Request, action: Action = Action.read) -> Ctx:
    """The signed-in staff member allowed ``action`` somewhere; raises ``Redirect`` or 404."""
    with state.uow(readonly=True) as db:
        found = current_session(state, db, request)
    if found is None:
        raise Redirect(RedirectResponse("/login", status_code=303))
    session, account = found
    if account.kind != AccountKind.staff:
        raise HTTPException(404)
    if SECOND_FACTOR_AMR not in session.amr:
        raise Redirect(RedirectResponse(STAFF_SECOND_FACTOR, status_code=303))
    staff = Staff.of(account)
    if staff is None or not staff.can(action):
        raise HTTPException(404)
    return Ctx(staff, session, account, client_ip(request))


def render(
    state: AppState,
    request: Request,
    ctx: Ctx,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    current: str | None = None,
) -> Response:
    menu = [(label, path) for label, path, action in MENU if ctx.staff.can(action)]
    values = {
        "staff": ctx.staff,
        "role_labels": ROLE_LABELS,
        "menu": menu,
        "current": current or request.url.path,
        "tz": TIME_ZONE,
        **context,
    }
    name = template if "/" in template else f"admin/{template}"
    return state.templates.render(request, name, values, status_code=status)


#: The posted form after the CSRF check.
form = checked_form


async def form_lists(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The form's fields, and the repeated ones (checkboxes) as lists."""
    data = await request.form()
    verify_csrf(request, data.get("csrf_token"))
    lists: dict[str, list[str]] = {}
    for key, value in data.multi_items():
        lists.setdefault(key, []).append(str(value))
    return {key: str(value) for key, value in data.items()}, lists


def guarded(endpoint):
    """Turn a ``Redirect`` raised by ``signed_in`` into its response (sync or async endpoint)."""
    import functools
    import inspect

    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args, **kwargs):
            try:
                return await endpoint(*args, **kwargs)
            except Redirect as redirect:
                return redirect.response

        return run_async

    @functools.wraps(endpoint)
    def run(*args, **kwargs):
        try:
            return endpoint(*args, **kwargs)
        except Redirect as redirect:
            return redirect.response

    return run
