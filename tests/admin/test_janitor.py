"""The janitor deletes what is past its time, keeps the rest, and expires unused letters."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from idp.accounts.journeys.models import EmailLink, OtpChallenge
from idp.accounts.models import Account, AccountState
from idp.admin.models import LetterBatch
from idp.janitor import janitor_command, run_janitor
from idp.oidc.clients import ClientSpec, create_client
from idp.oidc.models import (
    AuthorizationCode,
    Grant,
    RefreshToken,
    RevokedAccessToken,
)
from idp.outbox.models import OutboxMessage
from idp.security.models import AuditEvent, SsoSession, ThrottleCounter
from idp.support.models import SupportTicket, TicketStatus


def _seed(state, world) -> None:
    """Two rows of each kind: one past its time, one still needed."""
    now = state.clock.now()
    old, fresh = now - timedelta(days=400), now + timedelta(hours=1)
    account = world.accounts["alice"]
    with state.uow() as db:
        create_client(
            db,
            ClientSpec(name="RP", redirect_uris=["https://rp.example.fr/cb"], client_id="rp"),
            state.clock,
            "k",
        )
        for label, expires in (("old", now - timedelta(days=2)), ("new", fresh)):
            grant = Grant(
                id=f"g{label}",
                client_id="rp",
                account_id=account,
                scope="openid",
                created_at=old,
                expires_at=expires,
            )
            db.add(grant)
            db.flush()
            db.add(
                AuthorizationCode(
                    code_hash=f"c{label}",
                    grant_id=grant.id,
                    client_id="rp",
                    account_id=account,
                    redirect_uri="x",
                    scope="openid",
                    auth_time=0,
                    expires_at=expires,
                )
            )
            db.add(
                RefreshToken(
                    token_hash=f"r{label}",
                    grant_id=grant.id,
                    client_id="rp",
                    account_id=account,
                    scope="openid",
                    issued_at=old,
                    expires_at=expires,
                )
            )
            db.add(RevokedAccessToken(jti=f"j{label}", expires_at=expires))
            db.add(
                SsoSession(
                    token_hash=f"s{label}",
                    sid=f"sid{label}",
                    account_id=account,
                    auth_time=0,
                    acr=None,
                    amr=["pwd"],
                    clients=[],
                    created_at=old,
                    expires_at=expires,
                )
            )
            db.add(ThrottleCounter(key=f"t{label}", hits=1, window_ends_at=expires))
            db.add(
                OtpChallenge(
                    purpose="recovery",
                    subject="x",
                    code_hash="h",
                    created_at=old,
                    expires_at=expires,
                )
            )
            db.add(
                EmailLink(
                    token_hash=f"e{label}",
                    purpose="x",
                    account_id=account,
                    email="a@b.fr",
                    created_at=old,
                    expires_at=expires,
                )
            )
            db.add(
                LetterBatch(
                    account_id=account,
                    school_uai="x",
                    count=0,
                    payload="",
                    created_at=old,
                    expires_at=expires,
                )
            )
        # Sent or failed a month ago: purged; still pending (no worker ran), or recent: kept.
        for delivery, at in (("sent", old), ("failed", old), ("pending", old), ("sent", now)):
            db.add(
                OutboxMessage(
                    channel="sms",
                    recipient="+33600000000",
                    body=None,
                    state=delivery,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
        for reference, updated in (("AS-OLD", old), ("AS-NEW", now)):
            db.add(
                SupportTicket(
                    reference=reference,
                    status=TicketStatus.closed,
                    category="autre",
                    name="n",
                    email="a@b.fr",
                    school_text="x",
                    message="m" * 20,
                    created_at=updated,
                    updated_at=updated,
                )
            )


def _count(state, model) -> int:
    with state.uow() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_purges_and_expires(state, world):
    _seed(state, world)
    counts = run_janitor(state)
    assert counts == {
        "authorization_codes": 1,
        "refresh_tokens": 1,
        "grants": 1,
        "revoked_access_tokens": 1,
        "sso_sessions": 1,
        "throttle_counters": 1,
        "otp_challenges": 1,
        "email_links": 1,
        "outbox_messages": 2,
        "letter_batches": 1,
        "support_tickets": 1,
        "accounts_expired": 1,
        "stats_snapshot_rows": counts["stats_snapshot_rows"],
    }
    assert counts["stats_snapshot_rows"] > 0
    for model in (
        AuthorizationCode,
        RefreshToken,
        Grant,
        RevokedAccessToken,
        SsoSession,
        ThrottleCounter,
        OtpChallenge,
        EmailLink,
        LetterBatch,
        SupportTicket,
    ):
        assert _count(state, model) == 1, model
    assert _count(state, OutboxMessage) == 2
    with state.uow() as db:
        assert db.get(Account, world.accounts["carl"]).state == AccountState.expired
        assert db.get(Account, world.accounts["bob"]).state == AccountState.notified
        event = db.scalar(select(AuditEvent).where(AuditEvent.event == "account.expired"))
        assert event.target_id == world.accounts["carl"]
    assert set(run_janitor(state).values()) == {0}  # the snapshot is fresh: not recomputed


def test_the_command(state, world, settings, monkeypatch):
    monkeypatch.setattr("idp.settings.Settings", lambda: settings)
    result = CliRunner().invoke(janitor_command, ["--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accounts_expired"] == 1
