"""Journal state kept beside a Kafka journal: source positions, idempotency keys, process
status snapshots and rewind requests (a Kafka topic holds events, not this small mutable state).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "journal_state",
        sa.Column("kind", sa.String(300), primary_key=True),
        sa.Column("name", sa.String(300), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("journal_state_kind_at", "journal_state", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("journal_state_kind_at", "journal_state")
    op.drop_table("journal_state")
