"""SAML service providers in the administration API (national administrators only): the same
as ``educonnect saml sp add|list|remove``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from starlette.responses import Response

from idp.admin.api.auth import Who
from idp.admin.roles import Role
from idp.deps import Db, ReadDb, State
from idp.i18n import _
from idp.saml import providers
from idp.saml.attributes import RELEASABLE
from idp.saml.federation import federation_check

router = APIRouter(prefix="/api/admin/saml", tags=["Administration"])

Attribute = Literal[RELEASABLE]  # type: ignore[valid-type]


class ServiceProviderIn(BaseModel):
    metadata: str = Field(max_length=1_000_000, description="The SP's SAML metadata (XML).")
    release: list[Attribute] | None = Field(  # type: ignore[valid-type]
        None, description="Attributes released (default: identity and affiliation)."
    )
    first_party: bool = Field(False, description="Trusted service: no consent screen.")
    name: str | None = Field(None, max_length=200)


class ServiceProviderOut(BaseModel):
    entity_id: str
    name: str
    acs: list[str]
    slo: list[str]
    authn_requests_signed: bool
    encrypts_assertions: bool
    release: list[str]
    first_party: bool
    valid_until: datetime | None


def _national(who) -> None:
    if Role.national not in who.staff.roles:
        raise HTTPException(
            403,
            detail={"error": "forbidden", "message": _("Réservé à l'administration nationale.")},
        )


@router.get(
    "/service-providers",
    operation_id="admin_saml_list_service_providers",
    response_model=list[ServiceProviderOut],
)
def list_service_providers(who: Who, db: ReadDb) -> list[ServiceProviderOut]:
    """The registered SAML service providers."""
    _national(who)
    return [ServiceProviderOut(**providers.describe(sp)) for sp in providers.list_providers(db)]


@router.post(
    "/service-providers",
    operation_id="admin_saml_add_service_provider",
    response_model=ServiceProviderOut,
    responses={422: {"description": "Metadata refused (expired, malformed, DOCTYPE, …)."}},
)
def add_service_provider(
    body: ServiceProviderIn, state: State, who: Who, db: Db, response: Response
) -> ServiceProviderOut:
    """Register an SP from its metadata (or update it: 200 instead of 201)."""
    _national(who)
    try:
        sp, created = providers.add_provider(
            db,
            state.clock,
            body.metadata,
            release=list(body.release) if body.release is not None else None,
            first_party=body.first_party,
            name=body.name,
            federation_check=federation_check(state.settings),
        )
    except providers.MetadataError as exc:
        raise HTTPException(
            422, detail={"error": "invalid_metadata", "message": str(exc)}
        ) from None
    state.audit.record(
        db,
        "saml.sp_registered" if created else "saml.sp_updated",
        actor_account_id=who.staff.account_id,
        actor_role=who.staff.role.value,
        ip=who.ip,
        detail={"sp": sp.entity_id, "release": list(sp.release)},
    )
    response.status_code = 201 if created else 200
    return ServiceProviderOut(**providers.describe(sp))


@router.delete(
    "/service-providers/{entity_id:path}",
    operation_id="admin_saml_remove_service_provider",
    status_code=204,
    response_class=Response,
)
def remove_service_provider(
    entity_id: Annotated[str, Path(max_length=500)], state: State, who: Who, db: Db
) -> Response:
    """Forget an SP (its consents go with it)."""
    _national(who)
    if not providers.remove_provider(db, entity_id):
        raise HTTPException(404)
    state.audit.record(
        db,
        "saml.sp_removed",
        actor_account_id=who.staff.account_id,
        actor_role=who.staff.role.value,
        ip=who.ip,
        detail={"sp": entity_id},
    )
    return Response(status_code=204)
