"""Pages: staff accounts below one's own role (directors name delegates, assistance names
directors, national administrators name anyone).

    GET  /admin/personnels                             the staff one manages, and a form
    POST /admin/personnels                             create (temporary password shown once)
    POST /admin/personnels/{id}/double-authentification   forget the TOTP app (lost phone)
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import Account
from idp.admin.people import records as people
from idp.admin.roles import CREATABLE, ROLE_LABELS, Action, Role
from idp.admin.staff.service import (
    StaffError,
    StaffSpec,
    create_staff,
    reset_second_factor,
    staff_in_scope,
)
from idp.admin.web import CheckedFormLists, Ctx, guarded, render, signed_in
from idp.deps import CheckedForm, Db, ReadDb, State
from idp.i18n import _
from idp.state import AppState

router = APIRouter(include_in_schema=False)


def _page(
    state: AppState,
    db: Session,
    request: Request,
    ctx: Ctx,
    values: dict | None = None,
    errors: dict | None = None,
    created: tuple[Account, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    roles = list(dict.fromkeys(r for a in ctx.staff.assignments for r in CREATABLE[a.role]))
    managed = staff_in_scope(db, ctx.staff)
    schools = people.schools(db, ctx.staff, Action.staff)
    context = {
        "managed": managed,
        "roles": [(r.value, ROLE_LABELS[r]) for r in roles],
        "schools": schools[:300],
        "values": values or {},
        "errors": errors or {},
        "created": created,
        "notice": notice,
    }
    return render(
        state, request, ctx, "staff.html", context, status=status, current="/admin/personnels"
    )


@router.get("/admin/personnels")
@guarded
def staff_page(request: Request, state: State, db: ReadDb, fait: str | None = None) -> Response:
    ctx = signed_in(state, db, request, Action.staff)
    notice = (
        _(
            "La double authentification est réinitialisée : la personne enregistrera une "
            "nouvelle application à sa prochaine connexion."
        )
        if fait
        else None
    )
    return _page(state, db, request, ctx, notice=notice)


@router.post("/admin/personnels")
@guarded
def staff_create(request: Request, state: State, db: Db, lists: CheckedFormLists) -> Response:
    ctx = signed_in(state, db, request, Action.staff)
    data = {key: values[-1] for key, values in lists.items()}
    typed = [s for s in data.get("uai", "").replace(",", " ").split() if s]
    try:
        role = Role(data.get("role", ""))
    except ValueError:
        errors = {"role": _("Choisissez un rôle.")}
        return _page(state, db, request, ctx, data, errors, status=400)
    spec = StaffSpec(
        username=data.get("username", ""),
        given_name=data.get("given_name", ""),
        family_name=data.get("family_name", ""),
        role=role,
        schools=[*lists.get("ecoles", []), *typed],
        academy=data.get("academy", ""),
        email=data.get("email") or None,
    )
    try:
        with db.begin_nested():
            account, password = create_staff(state, db, spec, ctx.staff, ctx.ip)
    except StaffError as exc:
        return _page(state, db, request, ctx, data, {exc.field: str(exc)}, status=400)
    return _page(state, db, request, ctx, created=(account, password))


@router.post("/admin/personnels/{account_id}/double-authentification")
@guarded
def staff_reset_totp(
    request: Request, state: State, db: Db, form: CheckedForm, account_id: str
) -> Response:
    ctx = signed_in(state, db, request, Action.staff)
    managed = {a.id: a for a, _staff in staff_in_scope(db, ctx.staff)}
    if account_id not in managed:
        raise HTTPException(404)
    reset_second_factor(state, db, ctx.staff, managed[account_id], ctx.ip)
    return RedirectResponse("/admin/personnels?fait=1", status_code=303)
