"""API tokens bound to a stream consumer: they read that consumer's stream and nothing else.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

A token's `consumer` names the stream consumer it may subscribe to (`GET /api/v1/stream`); such a
token is refused everywhere else. Removing the consumer removes its tokens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("consumer", sa.String(63), nullable=True))
        batch.create_foreign_key(
            "fk_api_tokens_consumer", "consumers", ["consumer"], ["name"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("fk_api_tokens_consumer", type_="foreignkey")
        batch.drop_column("consumer")
