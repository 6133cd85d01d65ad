"""History: per-minute delivery figures per consumer and for the router, per router process;
and dead letters found by their event (the event inspector asks what became of one event).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "history",
        sa.Column("scope", sa.String(63), primary_key=True),
        sa.Column("ts", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("process", sa.String(128), primary_key=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("delivered", sa.BigInteger, nullable=False),
        sa.Column("ingested", sa.BigInteger, nullable=False),
        sa.Column("retries", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("dead_letters", sa.BigInteger, nullable=False),
        sa.Column("untranslatable", sa.BigInteger, nullable=False),
        sa.Column("lag", sa.BigInteger, nullable=True),
        sa.Column("p50_ms", sa.Float, nullable=True),
        sa.Column("p99_ms", sa.Float, nullable=True),
        sa.Column("samples", sa.BigInteger, nullable=False),
    )
    op.create_index("history_step_ts", "history", ["step", "ts"])
    op.create_index("dead_letters_event_seq", "dead_letters", ["event_seq"])


def downgrade() -> None:
    op.drop_index("dead_letters_event_seq", table_name="dead_letters")
    op.drop_index("history_step_ts", table_name="history")
    op.drop_table("history")
