"""OpenID Connect Back-Channel Logout 1.0: a signed logout token POSTed to every client of an
ended session that registered a ``backchannel_logout_uri``.
https://openid.net/specs/openid-connect-backchannel-1_0.html

Ending a session queues one outbox message per client (``enqueue``, in the ending
transaction); ``educonnect worker`` delivers them with the outbox's retries and back-off.
The token is signed at each attempt (``deliver``), never at enqueue: its two-minute lifetime
must hold when it reaches the client, however late a retry comes. Each signing has a fresh
``jti``; the outbox id, in the ``Idempotency-Key`` header, is what stays the same.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from joserfc import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.oidc.models import Client
from idp.outbox.models import Channel
from idp.outbox.queue import Claim, Outcome
from idp.outbox.queue import enqueue as enqueue_message
from idp.security.stores import SessionData
from idp.state import AppState

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TEMPLATE = "backchannel_logout"
#: The token's lifetime (spec §2.4: "a short time"); counted from each attempt.
LIFETIME = 120
TIMEOUT = 5.0


def logout_token(state: AppState, payload: dict[str, Any]) -> str:
    """Sign a logout token now for ``payload`` (``client_id``, ``sub``, ``sid``, ``alg``)."""
    now = state.clock.timestamp()
    claims = {
        "iss": state.settings.issuer_url,
        "aud": payload["client_id"],
        "iat": now,
        "exp": now + LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "sub": payload["sub"],
        "sid": payload["sid"],
        "events": {EVENT: {}},
    }
    alg = payload["alg"]
    key = state.keys.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "logout+jwt"}, claims, key)


def enqueue(state: AppState, db: Session, session: SessionData) -> int:
    """Queue a logout for each client of the session that asked for one."""
    if not session.clients:
        return 0
    clients = db.scalars(
        select(Client).where(
            Client.client_id.in_(session.clients), Client.backchannel_logout_uri.is_not(None)
        )
    )
    now = state.clock.now()
    count = 0
    for client in clients:
        payload = {
            "client_id": client.client_id,
            "sub": state.tokens.subject(client, session.account_id),
            "sid": session.sid,
            "alg": client.id_token_signed_response_alg,
        }
        enqueue_message(
            db,
            now,
            Channel.backchannel,
            client.backchannel_logout_uri,
            subject=client.client_id,
            template=TEMPLATE,
            payload=payload,
        )
        count += 1
    return count


def deliver(state: AppState, http: httpx.Client, claim: Claim) -> Outcome:
    """One attempt: sign a fresh token and POST it (spec §2.5: 200 or 204 is success)."""
    if not claim.payload:
        return Outcome(error="no logout payload", permanent=True)
    token = logout_token(state, claim.payload)  # may read the keys: before the network call
    try:
        response = http.post(
            claim.recipient,
            data={"logout_token": token},
            headers={"Idempotency-Key": claim.id, "Cache-Control": "no-store"},
        )
    except httpx.HTTPError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}")
    if response.status_code in (200, 204):
        return Outcome(via="backchannel")
    return Outcome(error=f"HTTP {response.status_code}")


def http_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)
