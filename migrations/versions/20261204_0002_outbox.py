"""outbox: delivery state on outbox_messages, back-channel logouts moved in, worker_jobs

Every external effect becomes an ``outbox_messages`` row delivered by ``educonnect worker``.
Existing rows were written by the development mailbox: they count as sent there. Queued
back-channel logouts keep their client, subject and sid (read from the token they held) so the
worker signs a fresh token for them.

Revision ID: 20261204_outbox
Revises: 0001
Create Date: 2026-12-04 19:00:00
"""

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = "20261204_outbox"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _token_parts(token: str) -> tuple[dict, dict]:
    def part(raw: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))

    header, claims, _signature = token.split(".")
    return part(header), part(claims)


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column("channel", type_=sa.String(length=12), existing_nullable=False)
        batch.alter_column("recipient", type_=sa.String(length=500), existing_nullable=False)
        batch.alter_column("body", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("state", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("next_attempt_at", idp.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("lease", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("sent_via", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("sent_at", idp.db.UTCDateTime(timezone=True), nullable=True))

    outbox = sa.table(
        "outbox_messages",
        sa.column("id", sa.String),
        sa.column("channel", sa.String),
        sa.column("recipient", sa.String),
        sa.column("subject", sa.String),
        sa.column("template", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("state", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("next_attempt_at", idp.db.UTCDateTime(timezone=True)),
        sa.column("last_error", sa.String),
        sa.column("sent_via", sa.String),
        sa.column("sent_at", idp.db.UTCDateTime(timezone=True)),
        sa.column("created_at", idp.db.UTCDateTime(timezone=True)),
    )
    op.execute(
        outbox.update().values(
            state="sent",
            attempts=1,
            next_attempt_at=outbox.c.created_at,
            sent_via="dev-outbox",
            sent_at=outbox.c.created_at,
        )
    )
    conn = op.get_bind()
    jobs = conn.execute(
        sa.text(
            "SELECT id, client_id, uri, logout_token, attempts, next_attempt_at, last_error,"
            " delivered_at, created_at FROM backchannel_logouts"
        )
    ).mappings()
    now = datetime.now(UTC)
    for job in jobs:
        header, claims = _token_parts(job["logout_token"])
        created = _aware(job["created_at"])
        next_at = _aware(job["next_attempt_at"])
        delivered = _aware(job["delivered_at"])
        if delivered is not None:
            state, next_at = "sent", delivered
        elif next_at > now + timedelta(days=365):  # how the old queue marked abandoned jobs
            state, next_at = "failed", created
        else:
            state = "pending"
        conn.execute(
            outbox.insert().values(
                id=job["id"],
                channel="backchannel",
                recipient=job["uri"],
                subject=job["client_id"],
                template="backchannel_logout",
                payload={
                    "client_id": job["client_id"],
                    "sub": claims["sub"],
                    "sid": claims["sid"],
                    "alg": header["alg"],
                },
                state=state,
                attempts=job["attempts"],
                next_attempt_at=next_at,
                last_error=job["last_error"],
                sent_via="backchannel" if delivered else None,
                sent_at=delivered,
                created_at=created,
            )
        )

    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column("state", existing_type=sa.String(length=10), nullable=False)
        batch.alter_column("attempts", existing_type=sa.Integer(), nullable=False)
        batch.alter_column(
            "next_attempt_at", existing_type=idp.db.UTCDateTime(timezone=True), nullable=False
        )
        batch.create_index("ix_outbox_messages_due", ["state", "next_attempt_at"], unique=False)

    with op.batch_alter_table("backchannel_logouts") as batch:
        batch.drop_index("ix_backchannel_logouts_next_attempt_at")
    op.drop_table("backchannel_logouts")

    op.create_table(
        "worker_jobs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("lease_until", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_jobs")),
    )


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def downgrade() -> None:
    op.drop_table("worker_jobs")
    op.create_table(
        "backchannel_logouts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("uri", sa.String(length=500), nullable=False),
        sa.Column("logout_token", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_backchannel_logouts_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backchannel_logouts")),
    )
    with op.batch_alter_table("backchannel_logouts") as batch:
        batch.create_index(
            "ix_backchannel_logouts_next_attempt_at", ["next_attempt_at"], unique=False
        )
    # Queued logouts cannot go back (their tokens are signed at send time): they are dropped.
    op.execute("DELETE FROM outbox_messages WHERE channel = 'backchannel'")
    op.execute("UPDATE outbox_messages SET body = '' WHERE body IS NULL")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_index("ix_outbox_messages_due")
        for column in (
            "sent_at",
            "sent_via",
            "last_error",
            "lease",
            "next_attempt_at",
            "attempts",
            "state",
            "payload",
        ):
            batch.drop_column(column)
        batch.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch.alter_column("recipient", type_=sa.String(length=320), existing_nullable=False)
        batch.alter_column("channel", type_=sa.String(length=10), existing_nullable=False)
