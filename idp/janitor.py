"""Housekeeping: delete what has served its purpose, and expire unused notification letters.

``run_janitor(state)`` is safe to run often and from several processes at once (each batch is
a short transaction of its own, and deleting a row twice is harmless); ``educonnect worker``
runs it periodically (under a lease) and ``educonnect janitor`` runs it by hand. It returns
how many rows each step touched.

What goes, and when:
- authorization codes: a day after they expired (they live a minute; used ones too);
- grants (token families) and their refresh tokens: once expired; revoked access-token
  ``jti``s: once the token would have expired;
- SSO sessions and throttle counters of the database stores: once expired;
- one-time codes and e-mailed links: a day after expiry;
- outbox messages (SMS, e-mails, back-channel logouts): 30 days after they were sent or failed;
- letters waiting to be printed: once expired; assistance tickets: after their retention;
- accounts ``notified`` whose letter ran out become ``expired`` (audited one by one);
- and the statistics snapshot of the académie dashboards is recomputed when 10 minutes old
  (``snapshot=False`` leaves it to the worker's own job).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import click
from sqlalchemy import ColumnElement, delete, insert, select, update

from idp.accounts.journeys.models import EmailLink, OtpChallenge
from idp.accounts.models import Account, AccountState
from idp.admin.models import LetterBatch
from idp.admin.stats import snapshot as stats_snapshot
from idp.db import new_id
from idp.oidc.models import AuthorizationCode, Grant, RefreshToken, RevokedAccessToken
from idp.outbox.models import Delivery, OutboxMessage
from idp.security.models import AuditEvent, SsoSession, ThrottleCounter
from idp.state import AppState
from idp.support.models import SupportTicket
from idp.support.tickets import retention

BATCH = 2000
DAY = timedelta(days=1)
OUTBOX_RETENTION = timedelta(days=30)


def _purge(state: AppState, model, key, where: Callable[[], ColumnElement[bool]]) -> int:
    """Delete the matching rows ``BATCH`` at a time, each batch in its own transaction."""
    total = 0
    while True:
        with state.uow() as db:
            ids = select(key).where(where()).limit(BATCH).scalar_subquery()
            count = db.execute(
                delete(model).where(key.in_(ids)).execution_options(synchronize_session=False)
            ).rowcount
        total += count
        if count < BATCH:
            return total


def expire_letters(state: AppState) -> int:
    """``notified`` accounts whose letter is past its date become ``expired``."""
    total = 0
    while True:
        now = state.clock.now()
        with state.uow() as db:
            ids = list(
                db.scalars(
                    select(Account.id)
                    .where(
                        Account.state == AccountState.notified,
                        Account.notification_expires_at <= now,
                    )
                    .limit(BATCH)
                )
            )
            if ids:
                db.execute(
                    update(Account)
                    .where(Account.id.in_(ids), Account.state == AccountState.notified)
                    .values(state=AccountState.expired, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                db.execute(
                    insert(AuditEvent),
                    [
                        {
                            "id": new_id(),
                            "at": now,
                            "event": "account.expired",
                            "target_type": "account",
                            "target_id": i,
                            "actor_role": "janitor",
                        }
                        for i in ids
                    ],
                )
        total += len(ids)
        if len(ids) < BATCH:
            return total


def run_janitor(state: AppState, *, snapshot: bool = True) -> dict[str, int]:
    now = state.clock.now()
    ticket_age = retention(state.settings)
    counts = {
        "authorization_codes": _purge(
            state,
            AuthorizationCode,
            AuthorizationCode.code_hash,
            lambda: AuthorizationCode.expires_at < now - DAY,
        ),
        "refresh_tokens": _purge(
            state, RefreshToken, RefreshToken.token_hash, lambda: RefreshToken.expires_at < now
        ),
        "grants": _purge(state, Grant, Grant.id, lambda: Grant.expires_at < now),
        "revoked_access_tokens": _purge(
            state,
            RevokedAccessToken,
            RevokedAccessToken.jti,
            lambda: RevokedAccessToken.expires_at < now,
        ),
        "sso_sessions": _purge(
            state, SsoSession, SsoSession.token_hash, lambda: SsoSession.expires_at < now
        ),
        "throttle_counters": _purge(
            state,
            ThrottleCounter,
            ThrottleCounter.key,
            lambda: ThrottleCounter.window_ends_at < now,
        ),
        "otp_challenges": _purge(
            state, OtpChallenge, OtpChallenge.id, lambda: OtpChallenge.expires_at < now - DAY
        ),
        "email_links": _purge(
            state, EmailLink, EmailLink.id, lambda: EmailLink.expires_at < now - DAY
        ),
        "outbox_messages": _purge(
            state,
            OutboxMessage,
            OutboxMessage.id,
            lambda: (
                (OutboxMessage.state != Delivery.pending.value)
                & (OutboxMessage.created_at < now - OUTBOX_RETENTION)
            ),
        ),
        "letter_batches": _purge(
            state, LetterBatch, LetterBatch.id, lambda: LetterBatch.expires_at < now
        ),
        "support_tickets": _purge(
            state,
            SupportTicket,
            SupportTicket.id,
            lambda: SupportTicket.updated_at < now - ticket_age,
        ),
        "accounts_expired": expire_letters(state),
    }
    if snapshot:
        # After the expiries, so that the académie dashboards count them.
        counts["stats_snapshot_rows"] = stats_snapshot.refresh_if_stale(state)
    return counts


@click.command("janitor")
@click.option("--json", "as_json", is_flag=True)
def janitor_command(as_json: bool) -> None:
    """Purge expired codes, tokens, sessions, counters, messages and tickets; expire letters."""
    from idp.services import build_state
    from idp.settings import Settings

    state = build_state(Settings())
    try:
        counts = run_janitor(state)
    finally:
        state.engine.dispose()
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    for name, count in counts.items():
        click.echo(f"{name:<24} {count}")
