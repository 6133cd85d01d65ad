"""Server-side web sessions (revocable), and user names unique whatever their case.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

Before this revision `Alice` and `alice` could both exist, and sign-in matched names exactly, so
which one a login meant depended on the case typed. Names now compare case-insensitively; if the
database already holds names that differ only in case, the upgrade stops and names them, so the
operator decides which account stays (nothing is removed or renamed behind their back).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from event_router.store.errors import StoreUnavailable

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    refuse_case_clashes()
    op.create_index("uq_users_username_ci", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "web_sessions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("flash", sa.Text, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_index("web_sessions_user", "web_sessions", ["user_id"])


def refuse_case_clashes() -> None:
    """Stop the upgrade, naming them, if user names differ only in case."""
    rows = op.get_bind().execute(sa.text("SELECT username FROM users ORDER BY id")).scalars()
    groups: dict[str, list[str]] = {}
    for name in rows:
        groups.setdefault(name.lower(), []).append(name)
    clashes = [names for names in groups.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(", ".join(names) for names in clashes)
        raise StoreUnavailable(
            "user names are now case-insensitive, and these users differ only in case: "
            f"{listed}. Remove or rename all but one of each group (with the event-router "
            "version that created them, or in SQL on the users table), then start again."
        )


def downgrade() -> None:
    op.drop_index("web_sessions_user", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("uq_users_username_ci", table_name="users")
