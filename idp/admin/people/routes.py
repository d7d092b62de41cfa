"""Pages: search the people of one's schools, one person's account and history, and the actions
on it (notify, reset, unlock, disable/enable, show the identifier).

    GET  /admin/personnes                       search (GET form: shareable, no side effect)
    GET  /admin/{eleves|responsables}/{id}      a person, their account, its history
    POST /admin/{eleves|responsables}/{id}/{notifier|reinitialiser|debloquer|desactiver|
         reactiver|identifiant}
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import AccountKind
from idp.admin.labels import EVENT_LABELS, STATE_BADGES, STATE_LABELS
from idp.admin.people import actions, search
from idp.admin.people import records as people
from idp.admin.roles import Action
from idp.admin.schools import batches
from idp.admin.web import Ctx, guarded, render, signed_in
from idp.deps import CheckedForm, Db, ReadDb, State
from idp.i18n import _
from idp.outbox import views as outbox_views
from idp.registry.models import Pupil
from idp.state import AppState

router = APIRouter(include_in_schema=False)

KIND_SLUGS = {"eleves": AccountKind.pupil, "responsables": AccountKind.guardian}
SLUG_OF = {kind: slug for slug, kind in KIND_SLUGS.items()}
#: slug → (service, action needed, confirmation shown afterwards)
ACTIONS = {
    "notifier": (actions.notify, Action.notify, None),
    "reinitialiser": (actions.reset_password, Action.reset, None),
    "debloquer": (
        actions.unlock,
        Action.unlock,
        _("Le compte est débloqué : la personne peut se connecter à nouveau."),
    ),
    "desactiver": (
        actions.disable,
        Action.disable,
        _("Le compte est désactivé. Ses connexions en cours ont été fermées."),
    ),
    "reactiver": (actions.enable, Action.disable, _("Le compte est réactivé.")),
    "identifiant": (actions.reveal, Action.reveal, None),
}
#: Actions that issue a letter, and the title of the page that offers it.
LETTER_TITLES = {
    "notifier": _("Identifiants notifiés"),
    "reinitialiser": _("Identifiants réinitialisés"),
}


def person_url(kind: AccountKind, person_id: str) -> str:
    return f"/admin/{SLUG_OF[kind]}/{person_id}"


def _kind(request: Request) -> AccountKind:
    """The kind of person of the path (``/admin/eleves/…`` or ``/admin/responsables/…``)."""
    kind = KIND_SLUGS.get(request.url.path.split("/")[2])
    if kind is None:
        raise HTTPException(404)
    return kind


@router.get("/admin/personnes")
@guarded
def search_page(request: Request, state: State, db: ReadDb) -> Response:
    ctx = signed_in(state, db, request)
    q = request.query_params
    kinds = [
        k
        for k in (AccountKind.pupil, AccountKind.guardian)
        if ctx.staff.allows_kind(Action.read, k)
    ]
    kind = KIND_SLUGS.get(q.get("type", ""), kinds[0])
    if kind not in kinds:
        raise HTTPException(404)
    try:
        page = int(q.get("page", "1"))
    except ValueError:
        page = 1
    filters = people.Filters(
        kind=kind,
        q=q.get("nom", "")[:100],
        school=q.get("ecole", "")[:8],
        level=q.get("niveau", "")[:40],
        class_name=q.get("classe", "")[:60],
        state=q.get("etat", ""),
        email=q.get("courriel", "")[:320],
        route=q.get("parcours", ""),
        page=page,
    )
    result = search.search(db, ctx.staff, filters, state.clock.now())
    schools = people.schools(db, ctx.staff)
    classes = people.classes(
        db, ctx.staff, kind, filters.school or (schools[0].uai if len(schools) == 1 else "")
    )
    query = {k: v for k, v in q.items() if k != "page" and v}
    context = {
        "filters": filters,
        "result": result,
        "schools": schools,
        "classes": classes,
        "kinds": kinds,
        "kind_slug": SLUG_OF[kind],
        "slug_of": SLUG_OF,
        "states": STATE_LABELS,
        "badges": STATE_BADGES,
        "page_url": lambda n: "/admin/personnes?" + urlencode({**query, "page": n}),
        "searched": bool(query),
    }
    return render(state, request, ctx, "search.html", context, current="/admin/personnes")


# One route per kind (not ``/admin/{slug}/…``), so that other ``/admin/x/y`` pages never match.
@router.get("/admin/eleves/{person_id}")
@router.get("/admin/responsables/{person_id}")
@guarded
def person_page(
    request: Request, state: State, db: ReadDb, person_id: str, fait: str | None = None
) -> Response:
    ctx = signed_in(state, db, request)
    entry = ACTIONS.get(fait or "")
    notice = entry[2] if entry else None
    return _person_page(state, db, request, ctx, _kind(request), person_id, notice=notice)


def _person_page(
    state: AppState,
    db: Session,
    request: Request,
    ctx: Ctx,
    kind: AccountKind,
    person_id: str,
    notice: str | None = None,
    error: str | None = None,
    identifier: str | None = None,
    status: int = 200,
) -> Response:
    now = state.clock.now()
    t = actions.target(db, ctx.staff, kind, person_id, Action.read)
    account, school = t.account, t.school
    events = people.history(db, account.id if account else None, person_id)
    children, guardians = [], []
    if kind == AccountKind.guardian:
        children = people.children_of(db, ctx.staff, [person_id], Action.read).get(person_id, [])
    elif ctx.staff.allows(Action.read, school.uai, school.academy, AccountKind.guardian):
        guardians = people.guardians_of(db, person_id)
    deliveries = _deliveries(db, ctx, t, kind)
    allowed = {
        slug: ctx.staff.allows(action, school.uai, school.academy, kind)
        for slug, (_service, action, _notice) in ACTIONS.items()
    }
    context = {
        "kind": kind,
        "slug": SLUG_OF[kind],
        "person": t.person,
        "school": school,
        "account": account,
        "state_key": people.state_of(account, now),
        "states": STATE_LABELS,
        "badges": STATE_BADGES,
        "children": children,
        "guardians": guardians,
        "events": events,
        "event_labels": EVENT_LABELS,
        "allowed": allowed,
        "notice": notice,
        "error": error,
        "identifier": identifier,
        "is_pupil": isinstance(t.person, Pupil),
        "deliveries": deliveries,
    }
    return render(
        state, request, ctx, "person.html", context, status=status, current="/admin/personnes"
    )


def _deliveries(db: Session, ctx: Ctx, t: actions.Target, kind: AccountKind):
    """The family's messages and how they went, for the assistance desk (an SMS that never
    left is a support case); None for staff who do not run the desk."""
    if not ctx.staff.allows(Action.tickets, t.school.uai, t.school.academy, kind):
        return None
    addresses = [getattr(t.person, "mobile", None), getattr(t.person, "email", None)]
    if t.account is not None:
        addresses += [t.account.email, t.account.phone_number]
    return outbox_views.for_addresses(db, addresses)


@router.post("/admin/eleves/{person_id}/{verb}")
@router.post("/admin/responsables/{person_id}/{verb}")
@guarded
def person_action(
    request: Request, state: State, db: Db, form: CheckedForm, person_id: str, verb: str
) -> Response:
    kind = _kind(request)
    if verb not in ACTIONS:
        raise HTTPException(404)
    service, action, _notice = ACTIONS[verb]
    ctx = signed_in(state, db, request, action)
    try:
        t, result = actions.act(state, db, ctx.staff, kind, person_id, action, service, ctx.ip)
    except actions.ActionError as exc:
        return _person_page(state, db, request, ctx, kind, person_id, error=str(exc), status=409)
    if verb == "identifiant":
        return _person_page(state, db, request, ctx, kind, person_id, identifier=result)
    if verb in LETTER_TITLES:
        context = {
            "title": LETTER_TITLES[verb],
            "letters": [result.letter],
            "batch_id": batches.store_letters(state, db, ctx.staff, t.school.uai, [result.letter]),
            "back_url": person_url(kind, person_id),
        }
        return render(state, request, ctx, "issued.html", context, current="/admin/personnes")
    return RedirectResponse(f"{person_url(kind, person_id)}?fait={verb}", status_code=303)
