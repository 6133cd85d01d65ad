"""Control plane: consumers (with a change revision), identities, courses, dead letters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    revision_table = op.create_table(
        "control_revision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "value": 0}])
    op.create_table(
        "consumers",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("name", name="uq_consumers_name"),
    )
    op.create_index("ix_consumers_revision", "consumers", ["revision"])
    op.create_table(
        "consumer_removals",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("removed_at", Timestamp, nullable=False),
    )
    op.create_index("ix_consumer_removals_revision", "consumer_removals", ["revision"])
    op.create_table(
        "identities",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("user_key", sa.String(300), primary_key=True),
        sa.Column("user_id", sa.String(255)),
        sa.Column("username", sa.String(255)),
        sa.Column("anonymous_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320)),
    )
    op.create_table(
        "courses",
        sa.Column("course_id", sa.String(255), primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "consumer",
            sa.String(63),
            sa.ForeignKey("consumers.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("event_name", sa.String(255), nullable=False),
        sa.Column("event", sa.JSON, nullable=True),
        sa.Column("item", sa.JSON, nullable=True),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("replayed_at", Timestamp, nullable=True),
        sa.CheckConstraint(
            "state IN ('dead', 'replay', 'replayed', 'discarded')", name="dead_letters_state"
        ),
    )
    op.create_index("dead_letters_consumer_state", "dead_letters", ["consumer", "state", "id"])


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_table("courses")
    op.drop_table("identities")
    op.drop_table("consumer_removals")
    op.drop_table("consumers")
    op.drop_table("control_revision")
