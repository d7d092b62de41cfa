"""OpenID Connect Back-Channel Logout 1.0: a signed logout token POSTed to every client of an
ended session that registered a ``backchannel_logout_uri``.
https://openid.net/specs/openid-connect-backchannel-1_0.html

Deliveries are queued in the ending transaction and sent after the response (never blocking
the person); failures are retried with exponential back-off by the periodic task of ``serve``
(and ``educonnect janitor``), then given up and audited.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import httpx
from joserfc import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.oidc.models import BackchannelLogout, Client
from idp.security.stores import SessionData
from idp.state import AppState

log = logging.getLogger("educonnect.backchannel")
EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_ATTEMPTS = 8
TIMEOUT = 5.0


def logout_token(state: AppState, client: Client, session: SessionData) -> str:
    now = state.clock.timestamp()
    claims = {
        "iss": state.settings.issuer_url,
        "aud": client.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": state.tokens.subject(client, session.account_id),
        "sid": session.sid,
        "events": {EVENT: {}},
    }
    alg = client.id_token_signed_response_alg
    key = state.keys.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "logout+jwt"}, claims, key)


def enqueue(state: AppState, db: Session, session: SessionData) -> int:
    """Queue a logout token for each client of the session that asked for one."""
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
        db.add(
            BackchannelLogout(
                client_id=client.client_id,
                uri=client.backchannel_logout_uri,
                logout_token=logout_token(state, client, session),
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    return count


def deliver_due(state: AppState, limit: int = 100) -> int:
    """Send every queued logout token whose time has come; return how many were delivered."""
    now = state.clock.now()
    with state.uow() as db:
        due = list(
            db.scalars(
                select(BackchannelLogout)
                .where(
                    BackchannelLogout.delivered_at.is_(None),
                    BackchannelLogout.next_attempt_at <= now,
                )
                .order_by(BackchannelLogout.next_attempt_at)
                .limit(limit)
            )
        )
        # Claim them by pushing their next attempt away, so two processes do not both send.
        for job in due:
            job.next_attempt_at = now + timedelta(seconds=60)
    delivered = 0
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
        for job in due:
            error = _post(http, job)
            with state.uow() as db:
                row = db.get(BackchannelLogout, job.id)
                if row is None:
                    continue
                row.attempts += 1
                if error is None:
                    row.delivered_at = state.clock.now()
                    delivered += 1
                    continue
                row.last_error = error[:500]
                if row.attempts >= MAX_ATTEMPTS:
                    row.delivered_at = None
                    row.next_attempt_at = state.clock.now() + timedelta(days=3650)
                    state.audit.record(
                        db,
                        "backchannel.abandoned",
                        client_id=row.client_id,
                        detail={"error": row.last_error},
                    )
                    log.warning("back-channel logout to %s abandoned: %s", row.uri, error)
                else:
                    row.next_attempt_at = state.clock.now() + timedelta(
                        seconds=30 * 2**row.attempts
                    )
                    log.info("back-channel logout to %s failed (%s), retrying", row.uri, error)
    return delivered


def _post(http: httpx.Client, job: BackchannelLogout) -> str | None:
    try:
        response = http.post(job.uri, data={"logout_token": job.logout_token})
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.status_code in (200, 204):
        return None
    return f"HTTP {response.status_code}"
