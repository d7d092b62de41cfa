"""The administration API: what the pages do, as JSON, for the académies' own tools.

Authentication in ``idp.admin.api.auth`` (bearer token, ``admin`` scope, staff, second
factor). Anything outside the caller's schools answers 404; an action that does not apply
409 with a French ``message``; bad input 422 with the fields in error.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from starlette.responses import Response

from idp.accounts.models import AccountKind
from idp.admin.api import actions as api_actions
from idp.admin.api import desk as api_desk
from idp.admin.api import models as m
from idp.admin.api.auth import Who, WhoActs
from idp.admin.api.convert import KIND, NOT_FOUND, person_out
from idp.admin.people import actions, search
from idp.admin.people import records as people
from idp.admin.roles import Action
from idp.admin.schools.routes import letters_response
from idp.deps import Db, ReadDb, State

router = APIRouter(prefix="/api/admin", tags=["Administration"])


@router.get("/me", operation_id="admin_me", response_model=m.Me)
def me(who: Who) -> m.Me:
    """The staff member the token belongs to, and their roles."""
    s = who.staff
    return m.Me(
        username=s.username,
        name=s.name,
        roles=[m.Assignment(role=a.role.value, scope=list(a.scope)) for a in s.assignments],
    )


@router.get("/people", operation_id="admin_search_people", response_model=m.PeoplePage)
def search_people(
    state: State,
    db: ReadDb,
    who: Who,
    kind: m.PeopleKind = m.PeopleKind.pupils,
    name: Annotated[str, Query(max_length=100)] = "",
    school: Annotated[str, Query(max_length=8)] = "",
    level: Annotated[str, Query(max_length=40)] = "",
    class_name: Annotated[str, Query(max_length=60)] = "",
    state_filter: Annotated[m.StateFilter | None, Query(alias="state")] = None,
    email: Annotated[str, Query(max_length=320)] = "",
    route: m.RouteFilter | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> m.PeoplePage:
    """Pupils or guardians of your schools, 50 a page, by name, class, state, e-mail, route."""
    account_kind = KIND[kind]
    if not who.staff.allows_kind(Action.read, account_kind):
        raise HTTPException(404)
    filters = people.Filters(
        kind=account_kind,
        q=name,
        school=school.upper(),
        level=level,
        class_name=class_name,
        state=state_filter.value if state_filter else "",
        email=email,
        route=route.value if route else "",
        page=page,
    )
    result = search.search(db, who.staff, filters, state.clock.now())
    return m.PeoplePage(
        items=[person_out(p) for p in result.people],
        total=result.total,
        page=result.page,
        pages=result.pages,
    )


@router.get(
    "/people/{kind}/{person_id}",
    operation_id="admin_get_person",
    response_model=m.PersonDetail,
    responses=NOT_FOUND,
)
def get_person(
    state: State, db: ReadDb, who: Who, kind: m.PeopleKind, person_id: str
) -> m.PersonDetail:
    """A person of your schools, their account (if any) and its history."""
    now = state.clock.now()
    t = actions.target(db, who.staff, KIND[kind], person_id, Action.read)
    children = (
        people.children_of(db, who.staff, [person_id], Action.read).get(person_id, [])
        if t.kind == AccountKind.guardian
        else []
    )
    summary = people.person_of(
        t.kind, t.person, t.account, people.state_of(t.account, now), children
    )
    history = people.history(db, t.account.id if t.account else None, person_id)
    account = m.AccountOut.model_validate(t.account) if t.account else None
    return m.PersonDetail(
        person=person_out(summary),
        account=account,
        history=[m.Event.model_validate(e) for e in history],
    )


_FILES = {
    200: {
        "content": {"application/pdf": {}, "text/csv": {}},
        "description": "The letters (one A4 page each) or their CSV.",
    },
    **NOT_FOUND,
}


@router.get(
    "/letters/{batch_id}/{fmt}",
    operation_id="admin_download_letters",
    response_class=Response,
    responses=_FILES,
)
def download_letters(
    state: State, db: Db, who: WhoActs, batch_id: str, fmt: Literal["pdf", "csv"]
) -> Response:
    """Letters you issued in the last two hours."""
    return letters_response(state, db, who.staff, who.ip, batch_id, fmt)


router.include_router(api_actions.router)
router.include_router(api_desk.router)
