"""Retired learners: keyed hashes of forgotten learners' ids, whose later events are dropped.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retired_learners",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("retired_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retired_learners")
