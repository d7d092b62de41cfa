"""signing keys: a 'next' state with activate_at; one active and one next key per algorithm

Revision ID: 0003_signing_keys
Revises: 20261204_outbox
Create Date: 2026-12-04 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = "0003_signing_keys"
down_revision: str | None = "20261204_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("activate_at", idp.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Processes that raced at first start may have left several active keys per algorithm:
    # keep the newest one signing, the others stay published as retired keys.
    op.execute(
        """
        UPDATE signing_keys SET state = 'retired', retired_at = created_at,
               publish_until = CURRENT_TIMESTAMP
        WHERE state = 'active' AND EXISTS (
            SELECT 1 FROM signing_keys newer
            WHERE newer.alg = signing_keys.alg AND newer.state = 'active'
              AND (newer.created_at > signing_keys.created_at
                   OR (newer.created_at = signing_keys.created_at AND newer.kid > signing_keys.kid))
        )
        """
    )
    op.create_index(
        "uq_signing_keys_alg_state",
        "signing_keys",
        ["alg", "state"],
        unique=True,
        sqlite_where=sa.text("state <> 'retired'"),
        postgresql_where=sa.text("state <> 'retired'"),
    )


def downgrade() -> None:
    op.drop_index("uq_signing_keys_alg_state", table_name="signing_keys")
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_column("activate_at")
