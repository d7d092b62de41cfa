"""Single logout on Shibboleth's paths.

    GET  /idp/profile/SAML2/Redirect/SLO   LogoutRequest, HTTP-Redirect binding
    POST /idp/profile/SAML2/POST/SLO       LogoutRequest, HTTP-POST binding
    GET  /idp/profile/Logout               ends the SSO session (FrEduUrlRetour points here)

A LogoutRequest must be signed by its SP. It ends the browser's SSO session — which queues the
OpenID relying parties' back-channel logouts in the outbox, as any logout does — and is
answered with a signed LogoutResponse at the SP's SingleLogoutService. As on the SSO endpoints,
a POSTed request is checked, sealed and finished on a same-site GET that carries the cookie.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.samlp import LogoutResponse
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from idp.deps import Db, State
from idp.i18n import _
from idp.oidc.authorize import current_session
from idp.oidc.interaction import Pending, clear_session_cookie
from idp.oidc.logout import end_session
from idp.saml import flow, inbound
from idp.saml.models import ServiceProvider
from idp.saml.routes import SamlForm, read_checked, refused
from idp.saml.server import LOGOUT, SLO_POST, SLO_REDIRECT
from idp.saml.wiring import saml_of
from idp.state import AppState

router = APIRouter(include_in_schema=False)
FINISH = "/idp/profile/SAML2/SLO/finish"


def _read(
    state: AppState, db: Session, request: Request, raw: str | None, relay: str, binding: str
) -> Response:
    now = state.clock.now()
    try:
        got = read_checked(state, db, request, raw, relay, binding, tag="LogoutRequest")
        if not got.sp.slo:
            raise inbound.Refused("no_slo_endpoint", got.sp.entity_id)
        inbound.remember(db, got.sp, got.request_id, now)
    except inbound.Refused as exc:
        return refused(state, db, request, exc, "LogoutRequest")
    params = {"slo": "1", "sp": got.sp.entity_id, "rid": got.request_id, "relay": relay}
    pending = Pending(params=params)
    if binding == BINDING_HTTP_POST:
        query = urlencode({"auth": state.interactions.seal(pending)})
        return RedirectResponse(f"{FINISH}?{query}", status_code=303)
    return _finish(state, db, request, pending)


def _finish(state: AppState, db: Session, request: Request, pending: Pending) -> Response:
    p = pending.params
    sp = db.get(ServiceProvider, p["sp"])
    if sp is None or not sp.slo:
        return flow.error_page(
            state, request, _("Le service qui vous a envoyé ici n'est plus reconnu.")
        )
    found = current_session(state, db, request)
    if found is not None:
        end_session(state, db, found[0])
    state.audit.record(db, "saml.logout", detail={"sp": sp.entity_id, "ended": found is not None})
    idp = saml_of(state).idps.get(db)
    redirect = next((e for e in sp.slo if e["binding"] == inbound.REDIRECT_BINDING), None)
    endpoint = redirect or sp.slo[0]
    destination = endpoint.get("response_location") or endpoint["location"]
    relay = p.get("relay", "")
    if redirect is not None:
        # HTTP-Redirect: the signature goes in the query (SAML bindings §3.4.4.1).
        unsigned = idp._status_response(  # pysaml2's LogoutResponse builder
            LogoutResponse,
            idp._issuer(),
            None,
            sign=False,
            in_response_to=p["rid"],
            destination=destination,
        )
        args = idp.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(unsigned),
            destination,
            relay,
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        response: Response = RedirectResponse(dict(args["headers"])["Location"], status_code=303)
    else:
        signed = idp._status_response(
            LogoutResponse,
            idp._issuer(),
            None,
            sign=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            in_response_to=p["rid"],
            destination=destination,
        )
        fields = {"SAMLResponse": base64.b64encode(str(signed).encode()).decode()}
        if relay:
            fields["RelayState"] = relay
        response = flow.post_page(state, request, destination, fields, sp.name)
    clear_session_cookie(response, state.settings)
    return response


@router.get(SLO_REDIRECT)
def slo_redirect(request: Request, state: State, db: Db) -> Response:
    q = request.query_params
    relay = q.get("RelayState", "")
    return _read(state, db, request, q.get("SAMLRequest"), relay, BINDING_HTTP_REDIRECT)


@router.post(SLO_POST)
def slo_post(request: Request, state: State, db: Db, form: SamlForm) -> Response:
    relay = form.get("RelayState", "")
    return _read(state, db, request, form.get("SAMLRequest"), relay, BINDING_HTTP_POST)


@router.get(FINISH)
def slo_finish(request: Request, state: State, db: Db, auth: str | None = None) -> Response:
    pending = state.interactions.open(auth)
    if pending is None or pending.params.get("slo") != "1":
        return state.templates.error_page(
            request, _("Déconnexion impossible"), _("La demande de déconnexion a expiré."), 400
        )
    return _finish(state, db, request, pending)


@router.get(LOGOUT)
def logout(request: Request, state: State, db: Db) -> Response:
    """End the SSO session (both protocols); the OpenID back-channel logouts are queued."""
    found = current_session(state, db, request)
    if found is not None:
        end_session(state, db, found[0])
    response = RedirectResponse("/deconnexion", status_code=303)
    clear_session_cookie(response, state.settings)
    return response
