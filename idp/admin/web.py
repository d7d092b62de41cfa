"""What every ``/admin`` page shares: who is signed in, the menu, rendering, form reading.

A page is reachable only with an SSO session of a staff account whose second factor was
checked in that session (``amr`` contains ``otp``). Without a session: the login page; without
the second factor: the TOTP page; a session of a guardian or pupil: 404, as if ``/admin`` did
not exist.

Every page handler opens the same way::

    @router.get("/admin/…")
    @guarded
    def page(request: Request, state: State, db: ReadDb) -> Response:
        ctx = signed_in(state, db, request, Action.x)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import Account, AccountKind
from idp.accounts.steps import SECOND_FACTOR_AMR, STAFF_SECOND_FACTOR
from idp.admin.roles import ROLE_LABELS, Action, Staff
from idp.deps import client_ip
from idp.i18n import _
from idp.oidc.authorize import current_session
from idp.security.csrf import FIELD_NAME, verify_csrf
from idp.security.stores import SessionData
from idp.state import AppState

#: Pages show times in metropolitan France's time zone (the overseas académies are few).
TIME_ZONE = ZoneInfo("Europe/Paris")

#: The menu: (label, path, action needed).
MENU = (
    (_("Accueil"), "/admin", Action.read),
    (_("Rechercher un compte"), "/admin/personnes", Action.read),
    (_("Notifier des comptes"), "/admin/notifier", Action.notify),
    (_("Statistiques"), "/admin/statistiques", Action.read),
    (_("Signalements « pas mon enfant »"), "/admin/signalements", Action.reports),
    (_("Demandes d'assistance"), "/admin/assistance", Action.tickets),
    (_("Journal des actions"), "/admin/journal", Action.audit),
    (_("Personnels"), "/admin/personnels", Action.staff),
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


def signed_in(state: AppState, db: Session, request: Request, action: Action = Action.read) -> Ctx:
    """The signed-in staff member allowed ``action`` somewhere; raises ``Redirect`` or 404."""
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


def guarded(endpoint):
    """Turn a ``Redirect`` raised by ``signed_in`` into its response."""

    @functools.wraps(endpoint)
    def run(*args, **kwargs):
        try:
            return endpoint(*args, **kwargs)
        except Redirect as redirect:
            return redirect.response

    return run


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


async def checked_form_lists(request: Request) -> dict[str, list[str]]:
    """Every value of every posted field (checkboxes repeat), after the CSRF check."""
    data = await request.form()
    verify_csrf(request, data.get(FIELD_NAME))
    lists: dict[str, list[str]] = {}
    for key, value in data.multi_items():
        lists.setdefault(key, []).append(str(value))
    return lists


#: The posted form with repeated fields as lists (``CheckedForm`` keeps the first of each).
CheckedFormLists = Annotated[dict[str, list[str]], Depends(checked_form_lists)]
