"""A SAML login from request to response: the pending request, the session, the steps and
consent shared with OpenID Connect, then the signed (and encrypted) Response posted to the ACS.

A pending request travels through the hosted pages as an ``Interactions`` seal whose
``extra["resume"]`` names ``/idp/profile/SAML2/resume``: the login, FranceConnect and account
journeys end in ``idp.oidc.authorize.authorize``, which sends such a request back here.
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import urlencode

from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.samlp import STATUS_NO_PASSIVE, STATUS_REQUEST_DENIED
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from idp.accounts.models import Account
from idp.accounts.sessions import ACR_FRANCECONNECT
from idp.accounts.steps import required_step
from idp.i18n import _
from idp.oidc.authorize import current_session, login_redirect
from idp.oidc.interaction import Pending
from idp.saml import attributes
from idp.saml.models import SamlConsent, ServiceProvider
from idp.saml.server import LOGOUT, NAMEID_FORMATS, entity_id
from idp.saml.wiring import saml_of
from idp.security.stores import SessionData
from idp.state import AppState

RESUME = "/idp/profile/SAML2/resume"
CONSENT = "/idp/profile/SAML2/consent"
PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
EIDAS_LOW = "http://eidas.europa.eu/LoA/low"


def pending_for(
    sp: ServiceProvider,
    acs: str,
    relay_state: str,
    request_id: str = "",
    nameid_format: str = "",
    force: bool = False,
    passive: bool = False,
) -> Pending:
    params = {
        "saml": "1",
        "sp": sp.entity_id,
        "acs": acs,
        "relay": relay_state,
        "rid": request_id,
        "nif": nameid_format,
        "force": "1" if force else "",
        "passive": "1" if passive else "",
    }
    return Pending(params=params, extra={"resume": RESUME})


def error_page(state: AppState, request: Request, message: str) -> Response:
    return state.templates.error_page(request, _("Connexion impossible"), message, 400)


def post_page(
    state: AppState, request: Request, action: str, fields: dict[str, str], name: str
) -> Response:
    return state.templates.render(
        request,
        "saml/post.html",
        {"action": action, "fields": fields, "service_name": name},
        headers={"Cache-Control": "no-store"},
    )


def _fresh(pending: Pending, session: SessionData) -> bool:
    return pending.login_at is not None and session.auth_time >= pending.login_at


def resume(
    state: AppState, db: Session, request: Request, pending: Pending, token: str | None = None
) -> Response:
    """Run (or resume) a pending SAML login in the request's transaction."""
    p = pending.params
    sp = db.get(ServiceProvider, p.get("sp", ""))
    if sp is None:
        return error_page(state, request, _("Le service qui vous a envoyé ici n'est plus reconnu."))
    found = current_session(state, db, request, token)
    session, account = found if found else (None, None)
    if session is None or (p.get("force") and not _fresh(pending, session)):
        if p.get("passive"):
            return _status(state, db, request, sp, p, STATUS_NO_PASSIVE)
        return login_redirect(state, pending)
    step = required_step(account, session)
    if step:
        if p.get("passive"):
            return _status(state, db, request, sp, p, STATUS_NO_PASSIVE)
        query = urlencode({"auth": state.interactions.seal(pending)})
        return RedirectResponse(f"{step}?{query}", status_code=303)
    values = _values(state, db, sp, account, session)
    if not pending.consented and needs_consent(db, sp, account, values):
        return consent_page(state, request, sp, values, pending)
    idp = saml_of(state).idps.get(db)
    name_id = _name_id(state, sp, account, p.get("nif", ""))
    state.audit.record(
        db,
        "saml.assertion_issued",
        actor_account_id=account.id,
        detail={
            "sp": sp.entity_id,
            "attributes": sorted(values),
            "nameid_format": name_id.format,
            "in_response_to": p.get("rid") or None,
        },
    )
    authn = {
        "class_ref": EIDAS_LOW if session.acr == ACR_FRANCECONNECT else PASSWORD,
        "authn_instant": session.auth_time,
    }
    xml = idp.create_authn_response(
        identity=values,
        in_response_to=p.get("rid") or None,
        destination=p["acs"],
        sp_entity_id=sp.entity_id,
        name_id=name_id,
        authn=authn,
        sign_response=True,
        sign_assertion=True,
        encrypt_assertion=sp.encrypts,
        # Made self-contained by idp.saml.server.IdP, with the same prefixes as outside.
        encrypt_assertion_self_contained=False,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return _post_response(state, request, p, str(xml), sp.name)


def _values(state: AppState, db: Session, sp: ServiceProvider, account: Account, session) -> dict:
    return attributes.attributes_for(
        db,
        account,
        release=sp.release,
        secret=state.settings.secrets["secret_key"],
        sector=sp.sector,
        auth_time=session.auth_time,
        logout_url=state.settings.issuer_url + LOGOUT,
    )


def _post_response(state: AppState, request: Request, p: dict, xml: str, name: str) -> Response:
    fields = {"SAMLResponse": base64.b64encode(xml.encode()).decode()}
    if p.get("relay"):
        fields["RelayState"] = p["relay"]
    return post_page(state, request, p["acs"], fields, name)


def _status(
    state: AppState, db: Session, request: Request, sp: ServiceProvider, p: dict, code: str
) -> Response:
    """A signed Response without assertion (IsPassive could not be met, consent refused)."""
    idp = saml_of(state).idps.get(db)
    state.audit.record(db, "saml.login_refused", detail={"sp": sp.entity_id, "status": code})
    xml = idp.create_error_response(
        p.get("rid") or None,
        p["acs"],
        (code, "ÉduConnect"),
        sign=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return _post_response(state, request, p, str(xml), sp.name)


def deny(state: AppState, db: Session, request: Request, pending: Pending) -> Response:
    sp = db.get(ServiceProvider, pending.params.get("sp", ""))
    if sp is None:
        return error_page(state, request, _("Le service qui vous a envoyé ici n'est plus reconnu."))
    return _status(state, db, request, sp, pending.params, STATUS_REQUEST_DENIED)


def _name_id(state: AppState, sp: ServiceProvider, account: Account, wanted: str) -> NameID:
    fmt = wanted if wanted in NAMEID_FORMATS else NAMEID_FORMAT_PERSISTENT
    if fmt == NAMEID_FORMAT_TRANSIENT:
        text = "_" + secrets.token_hex(20)
    else:
        text = attributes.opaque_id(
            state.settings.secrets["secret_key"], sp.sector, account.id, "nameid"
        )
    return NameID(
        format=fmt,
        name_qualifier=entity_id(state.settings),
        sp_name_qualifier=sp.entity_id,
        text=text,
    )


def needs_consent(db: Session, sp: ServiceProvider, account: Account, values: dict) -> bool:
    if sp.first_party:
        return False
    consent = db.scalar(
        select(SamlConsent).where(
            SamlConsent.account_id == account.id, SamlConsent.entity_id == sp.entity_id
        )
    )
    return consent is None or not set(values) <= set(consent.attributes)


def record_consent(
    state: AppState, db: Session, account_id: str, sp: ServiceProvider, names: list[str]
) -> None:
    consent = db.scalar(
        select(SamlConsent).where(
            SamlConsent.account_id == account_id, SamlConsent.entity_id == sp.entity_id
        )
    )
    if consent is None:
        consent = SamlConsent(account_id=account_id, entity_id=sp.entity_id, attributes=[])
        db.add(consent)
    consent.attributes = sorted(set(names) | set(consent.attributes))
    consent.granted_at = state.clock.now()
    state.audit.record(
        db,
        "saml.consent_granted",
        actor_account_id=account_id,
        detail={"sp": sp.entity_id, "attributes": sorted(names)},
    )


def consent_page(
    state: AppState, request: Request, sp: ServiceProvider, values: dict, pending: Pending
) -> Response:
    descriptions = list(
        dict.fromkeys(attributes.DESCRIPTIONS[n] for n in values if n in attributes.DESCRIPTIONS)
    )
    return state.templates.render(
        request,
        # The OpenID consent page: same question, the released attributes for the scopes.
        "consent.html",
        {
            "client_name": sp.name,
            "scopes": [(None, description) for description in descriptions],
            "action": CONSENT,
            "hidden": {"auth": state.interactions.seal(pending)},
        },
        headers={"Cache-Control": "no-store"},
    )


def consent(
    state: AppState, db: Session, request: Request, pending: Pending, decision: str | None
) -> Response:
    if decision != "allow":
        return deny(state, db, request, pending)
    found = current_session(state, db, request)
    sp = db.get(ServiceProvider, pending.params.get("sp", ""))
    if found is None or sp is None:
        return login_redirect(state, pending)
    session, account = found
    record_consent(state, db, account.id, sp, list(_values(state, db, sp, account, session)))
    pending.consented = True
    return resume(state, db, request, pending)
