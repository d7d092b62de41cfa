"""The administration API: what the pages do, as JSON, for the académies' own tools.

Authentication in ``idp.admin.api.auth`` (bearer token, ``admin`` scope, staff, second
factor). Anything outside the caller's schools answers 404; an action that does not apply
409 with a French ``message``; bad input 422 with the fields in error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from idp.accounts.models import AccountKind
from idp.admin.api import desk as api_desk
from idp.admin.api import models as m
from idp.admin.api.auth import Caller, Who, WhoActs
from idp.admin.api.convert import person_out
from idp.admin.people import actions, search
from idp.admin.people import records as people
from idp.admin.roles import Action
from idp.admin.schools import batches
from idp.admin.schools.routes import letters_response
from idp.deps import Db, ReadDb, State
from idp.state import AppState

router = APIRouter(prefix="/api/admin", tags=["Administration"])
NOT_FOUND = api_desk.NOT_FOUND

KIND = {m.PeopleKind.pupils: AccountKind.pupil, m.PeopleKind.guardians: AccountKind.guardian}


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


def _issued(
    state: AppState, db: Session, who: Caller, uai: str, issued: list[actions.Issued]
) -> m.Issued:
    batch_id = batches.store_letters(state, db, who.staff, uai, [i.letter for i in issued])
    base = f"/api/admin/letters/{batch_id}"
    credentials = [
        m.Credential(
            kind=i.letter.kind,
            given_name=i.letter.given_name,
            family_name=i.letter.family_name,
            username=i.letter.username,
            temporary_password=i.letter.password,
            valid_until=i.letter.valid_until,
        )
        for i in issued
    ]
    expires = state.clock.now() + batches.BATCH_TTL
    return m.Issued(
        credentials=credentials,
        letters=m.LettersBatch(
            id=batch_id,
            count=len(issued),
            pdf_url=f"{base}/pdf",
            csv_url=f"{base}/csv",
            expires_at=expires,
        ),
    )


def _conflict(exc: actions.ActionError) -> HTTPException:
    return HTTPException(409, detail={"error": "conflict", "message": str(exc)})


# -- actions on one person: one table, one endpoint shape ------------------------------------
def _letters(state: AppState, db: Session, who: Caller, t: actions.Target, issued) -> m.Issued:
    return _issued(state, db, who, t.school.uai, [issued])


def _state(state: AppState, db: Session, who: Caller, t: actions.Target, _result) -> m.Done:
    return m.Done(state=t.account.state.value)


def _identifier(state: AppState, db: Session, who: Caller, t: actions.Target, username):
    return m.Identifier(username=username)


@dataclass(frozen=True)
class PersonAction:
    """``POST /people/{kind}/{person_id}/{path}``: ``service`` under ``action``, answered by
    ``answer``. ``name`` and ``doc`` give the OpenAPI summary and description."""

    path: str
    name: str
    operation_id: str
    action: Action
    service: actions.Service
    response_model: type[BaseModel]
    answer: Callable[[AppState, Session, Caller, actions.Target, Any], BaseModel]
    doc: str


PERSON_ACTIONS = (
    PersonAction(
        "notify",
        "notify_person",
        "admin_notify_person",
        Action.notify,
        actions.notify,
        m.Issued,
        _letters,
        "Create the account with a temporary password, or issue a new letter (new password, "
        "three more months) to an account not activated yet. The letter is downloadable for "
        "two hours.",
    ),
    PersonAction(
        "reset-password",
        "reset_password",
        "admin_reset_password",
        Action.reset,
        actions.reset_password,
        m.Issued,
        _letters,
        "A temporary password to replace at the next login; sessions and tokens end.",
    ),
    PersonAction(
        "unlock",
        "unlock",
        "admin_unlock",
        Action.unlock,
        actions.unlock,
        m.Done,
        _state,
        "Lift a lock-out after too many failed logins.",
    ),
    PersonAction(
        "disable",
        "disable",
        "admin_disable",
        Action.disable,
        actions.disable,
        m.Done,
        _state,
        "Disable the account; its sessions and tokens end.",
    ),
    PersonAction(
        "enable",
        "enable",
        "admin_enable",
        Action.disable,
        actions.enable,
        m.Done,
        _state,
        "Enable a disabled account again.",
    ),
    PersonAction(
        "identifier",
        "reveal",
        "admin_reveal_identifier",
        Action.reveal,
        actions.reveal,
        m.Identifier,
        _identifier,
        "The login identifier, to help a family (recorded in the audit log).",
    ),
)


def _add_person_action(spec: PersonAction) -> None:
    def endpoint(state: State, db: Db, who: WhoActs, kind: m.PeopleKind, person_id: str):
        """404 outside the caller's schools; 409 (French ``message``) when the action does not
        apply, and then nothing of it is committed."""
        try:
            t, result = actions.act(
                state, db, who.staff, KIND[kind], person_id, spec.action, spec.service, who.ip
            )
        except actions.ActionError as exc:
            raise _conflict(exc) from None
        return spec.answer(state, db, who, t, result)

    endpoint.__name__ = endpoint.__qualname__ = spec.name
    endpoint.__doc__ = spec.doc
    router.add_api_route(
        f"/people/{{kind}}/{{person_id}}/{spec.path}",
        endpoint,
        methods=["POST"],
        operation_id=spec.operation_id,
        response_model=spec.response_model,
        responses=NOT_FOUND,
    )


for _spec in PERSON_ACTIONS:
    _add_person_action(_spec)


@router.post(
    "/schools/{uai}/notify",
    operation_id="admin_notify_school",
    response_model=m.Issued,
    responses=NOT_FOUND,
)
def notify_school(state: State, db: Db, who: WhoActs, uai: str, body: m.NotifySchool) -> m.Issued:
    """Everyone of the school (or of ``class_name``) without an account: all or nothing."""
    try:
        issued = actions.notify_school(state, db, who.staff, uai.upper(), body.class_name, who.ip)
    except actions.ActionError as exc:
        raise _conflict(exc) from None
    return _issued(state, db, who, uai.upper(), issued)


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


router.include_router(api_desk.router)
