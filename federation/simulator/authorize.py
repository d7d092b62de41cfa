"""Browser-facing endpoints of the simulator: /authorize, the identity picker, /session/end.

Behaviour mirrors FC v2 (docs.partenaires.franceconnect.gouv.fr, "Les endpoints";
``france-connect/sources`` core-fcp ``authorize-params.dto.ts``): ``acr_values``, ``state`` and
``nonce`` are mandatory, ``nonce`` has at least 22 characters, a malformed request shows an error
page (``Y000400``), and a valid one is sent (303) to an interaction page where, in this
simulator, the user picks a test identity instead of an identity provider.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from federation.simulator.identities import IDENTITIES, IDENTITIES_BY_KEY
from federation.simulator.pages import (
    ERROR_BAD_REQUEST,
    ERROR_FORBIDDEN,
    ERROR_NOT_FOUND,
    SimulatorPageError,
    render,
    render_error,
)
from federation.simulator.store import AuthorizationRequest, Grant, SimulatorState
from federation.simulator.tokens import ACR_VALUES
from idp.i18n import _

router = APIRouter()

MIN_NONCE_LENGTH = 22
_PROMPTS = {"login", "consent"}


def _state(request: Request) -> SimulatorState:
    return request.app.state.simulator


def _with_query(uri: str, params: Mapping[str, str]) -> str:
    separator = "&" if "?" in uri else "?"
    return f"{uri}{separator}{urlencode(params)}"


def _bad(message: str) -> SimulatorPageError:
    return SimulatorPageError(ERROR_BAD_REQUEST, message)


def validate_authorize(sim: SimulatorState, params: Mapping[str, str]) -> AuthorizationRequest:
    """Check an /authorize request. The client and its redirect URI come first so that no
    later error can ever be reported to an unverified address."""
    client = sim.clients.get(params.get("client_id", ""))
    if client is None:
        raise _bad(_("Le fournisseur de service (client_id) est inconnu."))
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise _bad(
            _(
                "L'adresse de retour (redirect_uri) n'est pas déclarée pour ce fournisseur de "
                "service."
            )
        )
    if params.get("response_type") != "code":
        raise _bad(_("Le paramètre response_type doit valoir « code »."))
    scopes = tuple(dict.fromkeys(params.get("scope", "").split()))
    if "openid" not in scopes:
        raise _bad(_("Le paramètre scope doit contenir « openid »."))
    requested_acrs = params.get("acr_values", "").split()
    acr = next((value for value in requested_acrs if value in ACR_VALUES), None)
    if acr is None:
        raise _bad(_("Le paramètre acr_values est obligatoire et doit demander le niveau eidas1."))
    state = params.get("state", "")
    if not state:
        raise _bad(_("Le paramètre state est obligatoire."))
    nonce = params.get("nonce", "")
    if len(nonce) < MIN_NONCE_LENGTH:
        message = _("Le paramètre nonce est obligatoire et doit compter au moins %(n)s caractères.")
        raise _bad(message % {"n": MIN_NONCE_LENGTH})
    prompt = params.get("prompt")
    if prompt is not None and not set(prompt.split()) <= _PROMPTS:
        raise _bad(_("La valeur du paramètre prompt n'est pas prise en charge."))
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        acr=acr,
        amr_requested=_amr_requested(params.get("claims")),
    )


def _amr_requested(raw_claims: str | None) -> bool:
    """FC only returns ``amr`` when asked with ``claims={"id_token":{"amr":...}}``."""
    if raw_claims is None:
        return False
    try:
        claims = json.loads(raw_claims)
    except ValueError:
        raise _bad(_("Le paramètre claims n'est pas un objet JSON valide.")) from None
    if not isinstance(claims, dict):
        raise _bad(_("Le paramètre claims n'est pas un objet JSON valide."))
    id_token_claims = claims.get("id_token")
    return isinstance(id_token_claims, dict) and "amr" in id_token_claims


@router.api_route("/api/v2/authorize", methods=["GET", "POST"])
async def authorize(request: Request) -> Response:
    params: Mapping[str, str] = request.query_params
    if request.method == "POST":
        params = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    sim = _state(request)
    try:
        authorization = validate_authorize(sim, params)
    except SimulatorPageError as error:
        return render_error(error)
    interaction_id = sim.interactions.add(authorization)
    # A relative reference resolves under whatever prefix the app is mounted at (e.g. /fc).
    return RedirectResponse(f"interaction/{interaction_id}", status_code=303)


@router.get("/api/v2/interaction/{interaction_id}")
async def show_interaction(request: Request, interaction_id: str) -> Response:
    authorization = _state(request).interactions.get(interaction_id)
    if authorization is None:
        return render_error(_expired())
    return render(
        "interaction.html",
        client_id=authorization.client_id,
        acr=authorization.acr,
        scopes=authorization.scopes,
        csrf_token=authorization.csrf_token,
        identities=IDENTITIES,
    )


@router.post("/api/v2/interaction/{interaction_id}")
async def submit_interaction(request: Request, interaction_id: str) -> Response:
    sim = _state(request)
    form = await request.form()
    authorization = sim.interactions.get(interaction_id)
    if authorization is None:
        return render_error(_expired())
    token = form.get("csrf_token")
    if not isinstance(token, str) or not hmac.compare_digest(token, authorization.csrf_token):
        return render_error(
            SimulatorPageError(ERROR_FORBIDDEN, _("La demande n'a pas pu être vérifiée."), 403)
        )
    identity_key = form.get("identity")
    if form.get("action") != "cancel" and identity_key not in IDENTITIES_BY_KEY:
        return render_error(_bad(_("Choisissez une des identités proposées.")))
    # Pop only now: a forged or incomplete post must not burn the user's interaction.
    if sim.interactions.pop(interaction_id) is None:
        return render_error(_expired())
    if form.get("action") == "cancel":
        params = {
            "error": "access_denied",
            "error_description": "User auth aborted",
            "state": authorization.state,
        }
        return RedirectResponse(_with_query(authorization.redirect_uri, params), status_code=303)
    grant = Grant(
        request=authorization,
        identity_key=str(identity_key),
        auth_time=int(sim.now()),
        sid=secrets.token_urlsafe(16),
    )
    code = sim.codes.add(grant)
    params = {"code": code, "state": authorization.state}
    return RedirectResponse(_with_query(authorization.redirect_uri, params), status_code=303)


def _expired() -> SimulatorPageError:
    return SimulatorPageError(
        ERROR_NOT_FOUND,
        _(
            "La demande de connexion a expiré ou est introuvable. "
            "Recommencez depuis le site du service en ligne."
        ),
        404,
    )


@router.get("/api/v2/session/end")
async def end_session(request: Request) -> Response:
    """RP-initiated logout as FC v2 does it: ``id_token_hint``, ``state`` and a pre-registered
    ``post_logout_redirect_uri`` are all required, then a 303 back with ``state``."""
    sim = _state(request)
    params = request.query_params
    claims = sim.signer.verify(params.get("id_token_hint", ""))
    if claims is None or claims.get("iss") != sim.issuer:
        return render_error(_bad(_("Le paramètre id_token_hint est absent ou invalide.")))
    client = sim.clients.get(str(claims.get("aud", "")))
    target = params.get("post_logout_redirect_uri", "")
    if client is None or target not in client.post_logout_redirect_uris:
        return render_error(
            _bad(
                _(
                    "L'adresse de retour après déconnexion (post_logout_redirect_uri) est "
                    "absente ou n'est pas déclarée pour ce fournisseur de service."
                )
            )
        )
    state = params.get("state", "")
    if not state:
        return render_error(_bad(_("Le paramètre state est obligatoire.")))
    return RedirectResponse(_with_query(target, {"state": state}), status_code=303)
