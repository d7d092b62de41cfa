"""Administration API: what staff do to one person, and to a school (included by
``idp.admin.api.routes``). Each person action is a row of ``PERSON_ACTIONS``: one endpoint
shape, answering 404 outside the caller's schools and 409 (French ``message``) when the
action does not apply, and then nothing of it is committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from idp.admin.api import models as m
from idp.admin.api.auth import Caller, WhoActs
from idp.admin.api.convert import KIND, NOT_FOUND
from idp.admin.people import actions
from idp.admin.roles import Action
from idp.admin.schools import batches
from idp.deps import Db, State
from idp.state import AppState

router = APIRouter()


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
