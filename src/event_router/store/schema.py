"""The control-plane tables as SQLAlchemy Core objects, for queries.

The migrations in `migrations/versions` create these tables and are the source of truth for the
schema; `tests/store` checks that this module and the migrated database agree.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)

control_revision = sa.Table(
    "control_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.BigInteger, nullable=False),
)

consumers = sa.Table(
    "consumers",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False, index=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("name", name="uq_consumers_name"),
)

consumer_removals = sa.Table(
    "consumer_removals",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False, index=True),
    sa.Column("removed_at", Timestamp, nullable=False),
)

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("user_key", sa.String(300), primary_key=True),
    sa.Column("user_id", sa.String(255)),
    sa.Column("username", sa.String(255)),
    sa.Column("anonymous_id", sa.String(255), nullable=False),
    sa.Column("email", sa.String(320)),
)

courses = sa.Table(
    "courses",
    metadata,
    sa.Column("course_id", sa.String(255), primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "consumer",
        sa.String(63),
        sa.ForeignKey("consumers.name", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("event_name", sa.String(255), nullable=False),
    sa.Column("event", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("item", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("replayed_at", Timestamp, nullable=True),
    sa.CheckConstraint(
        "state IN ('dead', 'replay', 'replayed', 'discarded')", name="dead_letters_state"
    ),
    sa.Index("dead_letters_consumer_state", "consumer", "state", "id"),
    sa.Index("dead_letters_event_seq", "event_seq"),  # migration 0006: the event inspector
)

# Created by migration 0003; here rather than beside its user because both `users` (which ends a
# user's sessions when the password or role changes) and `sessions` write it.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("flash", sa.Text, nullable=True),
    sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    sa.Index("web_sessions_user", "user_id"),
)

# Keyed hashes (HMAC with the router's secret) of forgotten learners' user ids and usernames.
retired_learners = sa.Table(
    "retired_learners",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("retired_at", Timestamp, nullable=False),
)

# Created by migration 0009: what a Kafka journal keeps beside its topic (journal/kafka_state.py).
# kind: `position:<node>`, `seen:<scope>`, `status`, `rewind`; at: epoch seconds.
journal_state = sa.Table(
    "journal_state",
    metadata,
    sa.Column("kind", sa.String(300), primary_key=True),
    sa.Column("name", sa.String(300), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("journal_state_kind_at", "kind", "at"),
)


# Delivery figures over time (migration 0006): one row per scope (a consumer's name, or `_router`),
# bucket start (`ts`, epoch seconds) and router process; `step` is 60 (a minute) or 900 (fifteen
# minutes, once older than a day). See store/history.py.
history = sa.Table(
    "history",
    metadata,
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
    sa.Index("history_step_ts", "step", "ts"),
)


# Who changed what (migration 0007): written by store/audit.py in the transaction of the change.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("via", sa.String(16), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Index("audit_log_at", "at"),
)
