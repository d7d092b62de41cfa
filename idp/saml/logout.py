"""Single logout on Shibboleth's paths.

    GET  /idp/profile/SAML2/Redirect/SLO   LogoutRequest, HTTP-Redirect binding
    POST /idp/profile/SAML2/POST/SLO       LogoutRequest, HTTP-POST binding
    GET  /idp/profile/Logout               ends the SSO session (FrEduUrlRetour points here)

A LogoutRequest must be signed by its SP. It ends the browser's SSO session — which queues the
OpenID relying parties' back-channel logouts, as any logout does — and is answered with a
signed LogoutResponse at the SP's SingleLogoutService. As on the SSO endpoints, a POSTed request
is checked, sealed and finished on a same-site GET that carries the session cookie.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from idp.deps import State
from idp.oidc import backchannel
from idp.oidc.authorize import current_session
from idp.oidc.interaction import Pending, clear_session_cookie
from idp.oidc.logout import end_session
from idp.saml import flow, inbound
from idp.saml.models import ServiceProvider
from idp.saml.routes import MAX_RELAY_STATE, refused
from idp.saml.server import LOGOUT, SLO_POST, SLO_REDIRECT
from idp.saml.wiring import saml_of
from idp.state import AppState

router = APIRouter(include_in_schema=False)
FINISH = "/idp/profile/SAML2/SLO/finish"


def _read(state: AppState, request: Request, raw, relay: str, binding: str) -> Response:
    try:
        if len(relay) > MAX_RELAY_STATE:
            raise inbound.Refused("relay_state_too_long")
        with state.uow() as db:
            idp = saml_of(state).idps.get(db)
            got = inbound.read_request(
                db,
                idp,
                raw=raw,
                binding=binding,
                query=request.url.query,
                relay_state=relay,
                now=state.clock.now(),
                tag="LogoutRequest",
            )
            inbound.remember(db, got.sp, got.request_id, state.clock.now())
            if not got.sp.slo:
                raise inbound.Refused("no_slo_endpoint", got.sp.entity_id)
    except inbound.Refused as exc:
        return refused(state, request, exc, "LogoutRequest")
    pending = Pending(
        params={"slo": "1", "sp": got.sp.entity_id, "rid": got.request_id, "relay": relay}
    )
    if binding == BINDING_HTTP_POST:
        query = urlencode({"auth": state.interactions.seal(pending)})
        return RedirectResponse(f"{FINISH}?{query}", status_code=303)
    return _finish(state, request, pending)


def _finish(state: AppState, request: Request, pending: Pending) -> Response:
    p = pending.params
    with state.uow() as db:
        sp = db.get(ServiceProvider, p["sp"])
        if sp is None:
            return flow.error_page(
                state, request, "Le service qui vous a envoyé ici n'est plus reconnu."
            )
        found = current_session(state, db, request)
        if found is not None:
            end_session(state, db, found[0])
        state.audit.record(
            db, "saml.logout", detail={"sp": sp.entity_id, "ended": found is not None}
        )
        idp = saml_of(state).idps.get(db)
        redirect = next((s for s in sp.slo if s["binding"] == inbound.REDIRECT_BINDING), None)
        endpoint = redirect or next(s for s in sp.slo if s["binding"] == inbound.POST)
        name = sp.name
    destination = endpoint.get("response_location") or endpoint["location"]
    if endpoint is redirect:
        unsigned = idp._status_response(  # pysaml2's LogoutResponse builder
            _logout_response_class(),
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
            p.get("relay", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        location = dict(args["headers"])["Location"]
        response: Response = RedirectResponse(location, status_code=303)
    else:
        signed = idp._status_response(
            _logout_response_class(),
            idp._issuer(),
            None,
            sign=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            in_response_to=p["rid"],
            destination=destination,
        )
        import base64

        fields = {"SAMLResponse": base64.b64encode(str(signed).encode()).decode()}
        if p.get("relay"):
            fields["RelayState"] = p["relay"]
        response = flow.post_page(state, request, destination, fields, name)
    clear_session_cookie(response, state.settings)
    return response


def _logout_response_class():
    from saml2.samlp import LogoutResponse

    return LogoutResponse


@router.get(SLO_REDIRECT)
def slo_redirect(request: Request, state: State, background: BackgroundTasks) -> Response:
    q = request.query_params
    background.add_task(backchannel.deliver_due, state)
    return _read(
        state, request, q.get("SAMLRequest"), q.get("RelayState", ""), BINDING_HTTP_REDIRECT
    )


@router.post(SLO_POST)
async def slo_post(request: Request, state: State) -> Response:
    form = await request.form()
    raw, relay = form.get("SAMLRequest"), form.get("RelayState", "")
    return await run_in_threadpool(
        _read,
        state,
        request,
        raw if isinstance(raw, str) else None,
        relay if isinstance(relay, str) else "",
        BINDING_HTTP_POST,
    )


@router.get(FINISH)
def slo_finish(
    request: Request, state: State, background: BackgroundTasks, auth: str | None = None
):
    pending = state.interactions.open(auth)
    if pending is None or pending.params.get("slo") != "1":
        return state.templates.error_page(
            request, "Déconnexion impossible", "La demande de déconnexion a expiré.", 400
        )
    background.add_task(backchannel.deliver_due, state)
    return _finish(state, request, pending)


@router.get(LOGOUT)
def logout(request: Request, state: State, background: BackgroundTasks) -> Response:
    """End the SSO session (both protocols), then the OpenID back-channel logouts run."""
    with state.uow() as db:
        found = current_session(state, db, request)
        if found is not None:
            end_session(state, db, found[0])
    background.add_task(backchannel.deliver_due, state)
    response = RedirectResponse("/deconnexion", status_code=303)
    clear_session_cookie(response, state.settings)
    return response
