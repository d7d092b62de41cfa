""" "Service SAML démo": a SAML service provider served next to the IdP in development (like
"LSUN démo" for OpenID Connect). It is pysaml2's own SP (``Saml2Client``), which checks our
signatures against the IdP metadata, and shows the attributes it received."""

from __future__ import annotations

import shutil

from fastapi import APIRouter, Request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.db import transaction
from idp.deps import ReadDb, State
from idp.i18n import _
from idp.oidc.interaction import Pending
from idp.saml.attributes import OIDS, RELEASABLE, converter
from idp.saml.metadata import idp_metadata
from idp.saml.providers import add_provider
from idp.saml.routes import SamlForm
from idp.saml.server import LOGOUT, UNSOLICITED, entity_id
from idp.saml.wiring import ensure_saml
from idp.state import AppState

router = APIRouter(prefix="/demo/saml", include_in_schema=False)
COOKIE = "demo_saml"
NAME = _("Service SAML démo")


def demo_entity_id(state: AppState) -> str:
    return state.settings.issuer_url + "/demo/saml/metadata"


def _config(state: AppState, db: Session | None) -> SPConfig:
    iss = state.settings.issuer_url
    config = SPConfig()
    config.load(
        {
            "entityid": demo_entity_id(state),
            "xmlsec_binary": shutil.which("xmlsec1"),
            "service": {
                "sp": {
                    "name": NAME,
                    "endpoints": {
                        "assertion_consumer_service": [(iss + "/demo/saml/acs", BINDING_HTTP_POST)]
                    },
                    "want_response_signed": True,
                    "want_assertions_signed": True,
                    "allow_unsolicited": True,
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                }
            },
            "allow_unknown_attributes": True,
        }
    )
    if db is not None:  # with the IdP's metadata, read in-process
        config.attribute_converters = [converter()]
        config.metadata = config.load_metadata({"inline": [idp_metadata(state, db)]})
    return config


def ensure_demo_sp(state: AppState) -> None:
    """Register (or refresh) the demo SP: every attribute, consent asked like any SP."""
    ensure_saml(state)
    xml = str(entity_descriptor(_config(state, None)))
    with transaction(state.sessions) as db:
        add_provider(db, state.clock, xml, release=list(RELEASABLE), name=NAME)


def _page(state: AppState, request: Request, **context) -> Response:
    unsolicited = f"{UNSOLICITED}?providerId={demo_entity_id(state)}"
    return state.templates.render(
        request,
        "saml/demo.html",
        {"unsolicited_url": unsolicited, "logout_url": LOGOUT, **context},
    )


@router.get("")
def home(request: Request, state: State) -> Response:
    return _page(state, request)


@router.get("/login")
def login(request: Request, state: State, db: ReadDb) -> Response:
    client = Saml2Client(config=_config(state, db))
    request_id, info = client.prepare_for_authenticate(
        entityid=entity_id(state.settings), relay_state="demo", binding=BINDING_HTTP_REDIRECT
    )
    response = RedirectResponse(dict(info["headers"])["Location"], status_code=303)
    sealed = state.interactions.seal(Pending(params={"demo_saml": request_id}))
    response.set_cookie(COOKIE, sealed, httponly=True, samesite="lax", path="/demo/saml")
    return response


@router.post("/acs")
def acs(request: Request, state: State, db: ReadDb, form: SamlForm) -> Response:
    pending = state.interactions.open(request.cookies.get(COOKIE))
    outstanding = {pending.params["demo_saml"]: "/demo/saml"} if pending else {}
    return _acs(state, db, request, form.get("SAMLResponse", ""), outstanding)


def _acs(state: AppState, db: Session, request: Request, raw: str, outstanding: dict) -> Response:
    client = Saml2Client(config=_config(state, db))
    try:
        parsed = client.parse_authn_request_response(
            raw, BINDING_HTTP_POST, outstanding=outstanding
        )
    except Exception as exc:  # the demo shows why pysaml2 refused the response
        return _page(state, request, error=f"{type(exc).__name__}: {exc}")
    if parsed is None:
        return _page(state, request, error=_("Réponse SAML vide."))
    status = parsed.response.status.status_code
    if status.value.endswith(":Success") is False:
        detail = status.status_code.value if status.status_code else status.value
        return _page(
            state,
            request,
            error=_("Connexion refusée par ÉduConnect (%(status)s).") % {"status": detail},
        )
    names = {v: k for k, v in OIDS.items()}
    rows = []
    for statement in parsed.assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [v.text for v in attribute.attribute_value]
            friendly = attribute.friendly_name or names.get(attribute.name, attribute.name)
            rows.append((friendly, attribute.name, values))
    subject = parsed.get_subject()
    response = _page(
        state,
        request,
        attributes=rows,
        name_id=subject.text,
        name_id_format=subject.format,
        solicited=parsed.in_response_to is not None,
    )
    response.delete_cookie(COOKIE, path="/demo/saml")
    return response
