"""SAML endpoints on Shibboleth's paths, so a relying party only changes its metadata.

    GET  /idp/shibboleth                      signed IdP metadata (entityID = this URL)
    GET  /idp/profile/SAML2/Redirect/SSO      AuthnRequest, HTTP-Redirect binding
    POST /idp/profile/SAML2/POST/SSO          AuthnRequest, HTTP-POST binding
    GET  /idp/profile/SAML2/Unsolicited/SSO   IdP-initiated (providerId, shire, target)

A POSTed request arrives cross-site, without the SSO cookie (SameSite=Lax): once checked it is
sealed and continues on a same-site GET, where the cookie is sent.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.deps import CheckedForm, Db, ReadDb, State
from idp.i18n import _
from idp.saml import flow, inbound
from idp.saml.metadata import idp_metadata
from idp.saml.models import ServiceProvider
from idp.saml.server import METADATA, SSO_POST, SSO_REDIRECT, UNSOLICITED
from idp.saml.wiring import saml_of
from idp.state import AppState

router = APIRouter(tags=["SAML"])

#: What the person is told, by refusal reason (audit trail keeps the reason).
MESSAGES = {
    "unknown_issuer": _("Le service qui vous a envoyé ici n'est pas reconnu."),
    "unregistered_acs": _("L'adresse de retour demandée par le service n'est pas autorisée."),
    "expired_issue_instant": _(
        "La demande de connexion du service a expiré. Retournez sur le service et recommencez."
    ),
    "replayed_id": _(
        "Cette demande de connexion a déjà été utilisée. Retournez sur le service et recommencez."
    ),
}
DEFAULT_MESSAGE = _("La demande de connexion envoyée par le service est incorrecte.")
MAX_RELAY_STATE = 1024


def refused(
    state: AppState, db: Session, request: Request, exc: inbound.Refused, what: str
) -> Response:
    """The French error page, and the refusal in the audit trail (the page commits it)."""
    state.audit.record(
        db,
        "saml.request_refused",
        detail={
            "reason": exc.reason,
            "sp": exc.entity_id,
            "message": what,
            "path": request.url.path,
        },
    )
    return flow.error_page(state, request, MESSAGES.get(exc.reason, DEFAULT_MESSAGE))


async def _saml_form(request: Request) -> dict[str, str]:
    """SAMLRequest / SAMLResponse and RelayState of a POST binding (no CSRF token: the SP posts
    cross-site, and the message is checked against its metadata instead)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


SamlForm = Annotated[dict[str, str], Depends(_saml_form)]


@router.get(METADATA, operation_id="saml_idp_metadata", response_class=Response)
def metadata(state: State, db: ReadDb) -> Response:
    """The IdP's SAML metadata, signed: certificates (the next one too), endpoints, NameID
    formats."""
    return Response(
        idp_metadata(state, db),
        media_type="application/samlmetadata+xml",
        headers={"Cache-Control": "public, max-age=300"},
    )


def read_checked(
    state: AppState,
    db: Session,
    request: Request,
    raw: str | None,
    relay: str,
    binding: str,
    tag: str = "AuthnRequest",
) -> inbound.Inbound:
    """A request from an SP, checked (RelayState, decoding, issuer, signature, instant); the
    caller remembers its id once its own checks pass. Raises ``inbound.Refused``."""
    if len(relay) > MAX_RELAY_STATE:
        raise inbound.Refused("relay_state_too_long")
    idp = saml_of(state).idps.get(db)
    return inbound.read_request(
        db,
        idp,
        raw=raw,
        binding=binding,
        query=request.url.query,
        relay_state=relay,
        now=state.clock.now(),
        tag=tag,
    )


def _start(
    state: AppState, db: Session, request: Request, raw: str | None, relay: str, binding: str
) -> Response:
    now = state.clock.now()
    try:
        got = read_checked(state, db, request, raw, relay, binding)
        acs = inbound.choose_acs(got.sp, got.message)
        inbound.remember(db, got.sp, got.request_id, now)
    except inbound.Refused as exc:
        return refused(state, db, request, exc, "AuthnRequest")
    policy = got.message.name_id_policy
    pending = flow.pending_for(
        got.sp,
        acs,
        relay,
        request_id=got.request_id,
        nameid_format=(policy.format or "") if policy is not None else "",
        force=str(got.message.force_authn).lower() in ("true", "1"),
        passive=str(got.message.is_passive).lower() in ("true", "1"),
    )
    if binding == BINDING_HTTP_POST:
        query = urlencode({"auth": state.interactions.seal(pending)})
        return RedirectResponse(f"{flow.RESUME}?{query}", status_code=303)
    return flow.resume(state, db, request, pending)


@router.get(SSO_REDIRECT, include_in_schema=False)
def sso_redirect(request: Request, state: State, db: Db) -> Response:
    q = request.query_params
    relay = q.get("RelayState", "")
    return _start(state, db, request, q.get("SAMLRequest"), relay, BINDING_HTTP_REDIRECT)


@router.post(SSO_POST, include_in_schema=False)
def sso_post(request: Request, state: State, db: Db, form: SamlForm) -> Response:
    relay = form.get("RelayState", "")
    return _start(state, db, request, form.get("SAMLRequest"), relay, BINDING_HTTP_POST)


@router.get(UNSOLICITED, include_in_schema=False)
def unsolicited(
    request: Request,
    state: State,
    db: Db,
    providerId: str = "",  # Shibboleth's parameter names
    shire: str = "",
    target: str = "",
) -> Response:
    """IdP-initiated login, as the ENT portals' links use it."""
    try:
        if len(target) > MAX_RELAY_STATE:
            raise inbound.Refused("relay_state_too_long", providerId or None)
        sp = db.get(ServiceProvider, providerId) if providerId else None
        if sp is None:
            raise inbound.Refused("unknown_issuer", providerId or None)
        posts = {a["location"] for a in sp.acs if a["binding"] == inbound.POST}
        if shire and shire not in posts:
            raise inbound.Refused("unregistered_acs", sp.entity_id)
    except inbound.Refused as exc:
        return refused(state, db, request, exc, "Unsolicited")
    pending = flow.pending_for(sp, shire or inbound.default_acs(sp), target)
    return flow.resume(state, db, request, pending)


@router.get(flow.RESUME, include_in_schema=False)
def resume(request: Request, state: State, db: Db, auth: str | None = None) -> Response:
    pending = state.interactions.open(auth)
    if pending is None or pending.params.get("saml") != "1":
        return _expired(state, request)
    return flow.resume(state, db, request, pending)


@router.post(flow.CONSENT, include_in_schema=False)
def consent(request: Request, state: State, db: Db, form: CheckedForm) -> Response:
    pending = state.interactions.open(form.get("auth"))
    if pending is None or pending.params.get("saml") != "1":
        return _expired(state, request)
    return flow.consent(state, db, request, pending, form.get("decision"))


def _expired(state: AppState, request: Request) -> Response:
    return state.templates.error_page(
        request,
        _("Demande expirée"),
        _("La demande de connexion a expiré. Retournez sur le service et recommencez."),
        400,
    )
