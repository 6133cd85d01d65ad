"""API tokens: long random strings that act for a user, never with more than the user's role.

A token is shown once; only its SHA-256 is stored (it has 256 bits of entropy, so a slow hash
would add nothing but latency to every API call). A token bound to a stream consumer reads that
consumer's stream and is refused everywhere else.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from event_router.store.audit import record as audit
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.errors import StoreError
from event_router.store.schema import BigId, Timestamp, consumers, metadata
from event_router.store.users import (
    InvalidUser,
    Role,
    UnknownUser,
    User,
    role_of,
    user_from_row,
    user_match,
    user_row,
    users,
)

# The table (created by migration 0002); declared here, on the shared metadata, beside its only
# user.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp, nullable=True),
    # A stream consumer's token (migration 0008): reads that consumer's stream, nothing else.
    sa.Column(
        "consumer",
        sa.String(63),
        sa.ForeignKey("consumers.name", ondelete="CASCADE", name="fk_api_tokens_consumer"),
        nullable=True,
    ),
    sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    sa.CheckConstraint("role IN ('admin', 'viewer')", name="api_tokens_role"),
)

TOKEN_PREFIX = "ert_"
_LAST_USED_EVERY = timedelta(minutes=1)  # bound the writes an API client causes


class UnknownToken(StoreError, LookupError):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"no API token with id {token_id}")
        self.token_id = token_id


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token's bookkeeping; never the token itself."""

    id: int
    username: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    consumer: str | None = None  # bound to this stream consumer: reads its stream, nothing else

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.username,
            "name": self.name,
            "role": self.role.value,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "consumer": self.consumer,
        }


def token_digest(token: str) -> str:
    """What is stored of a bearer secret (an API token, a session cookie)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """Users' API tokens in the control-plane database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        username: str,
        name: str,
        role: Role | str | None = None,
        consumer: str | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token for `username` (acting with `role`, at most the user's own); returns its
        bookkeeping and the token itself, which is not stored and cannot be shown again.

        With `consumer` (a stream consumer), the token reads that consumer's stream and is
        refused everywhere else; it has no role of its own (stored as viewer)."""
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise InvalidUser("a token name is 1-100 characters")
        if consumer is not None:
            if role is not None and role_of(role) is not Role.VIEWER:
                raise InvalidUser("a token bound to a consumer only reads its stream: no role")
            role = Role.VIEWER
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = token[: len(TOKEN_PREFIX) + 6]  # enough to tell tokens apart in a list
        with self._db.write() as conn:
            row = user_row(conn, username)
            if row is None:
                raise UnknownUser(username)
            granted = role_of(role) if role is not None else Role(row.role)
            if not Role(row.role).allows(granted):
                raise InvalidUser(f"{username} is a {row.role}: a token cannot have more rights")
            if consumer is not None:
                _check_stream_consumer(conn, consumer)
            now = utcnow()
            token_id = conn.execute(
                sa.insert(api_tokens)
                .values(
                    user_id=row.id,
                    name=name,
                    role=granted.value,
                    token_hash=token_digest(token),
                    prefix=prefix,
                    created_at=now,
                    consumer=consumer,
                )
                .returning(api_tokens.c.id)
            ).scalar_one()
            what = {"user": username, "name": name, "role": granted.value}  # never the token
            if consumer is not None:
                what["consumer"] = consumer
            audit(conn, "token.create", f"token {token_id}", **what)
        record = ApiToken(int(token_id), username, name, granted, prefix, now, None, consumer)
        return record, token

    def list(self, username: str | None = None) -> builtins.list[ApiToken]:
        """Every token (or `username`'s), oldest first."""
        query = (
            sa.select(api_tokens, users.c.username)
            .select_from(api_tokens.join(users, api_tokens.c.user_id == users.c.id))
            .order_by(api_tokens.c.id)
        )
        if username is not None:
            query = query.where(user_match(username))
        with self._db.read() as conn:
            return [_token(row) for row in conn.execute(query)]

    def revoke(self, token_id: int) -> None:
        with self._db.write() as conn:
            deleted = conn.execute(sa.delete(api_tokens).where(api_tokens.c.id == token_id))
            if not deleted.rowcount:
                raise UnknownToken(token_id)
            audit(conn, "token.revoke", f"token {token_id}")

    def authenticate(self, token: str) -> tuple[User, Role] | None:
        """(user, the role the token acts with) for a valid token, else None (a token bound to
        a stream consumer too: it is good for that stream only, see `authenticate_stream`)."""
        row = self._token_row(token)
        if row is None or row.consumer is not None:
            return None
        user = user_from_row(row)
        granted = Role(row.granted)
        effective = granted if user.role.allows(granted) else user.role  # a demoted user's token
        return user, effective

    def authenticate_stream(self, token: str) -> tuple[User, str, str] | None:
        """(user, token name, consumer) for a valid token bound to a stream consumer, else
        None."""
        row = self._token_row(token)
        if row is None or row.consumer is None:
            return None
        return user_from_row(row), str(row.token_name), str(row.consumer)

    def _token_row(self, token: str) -> Row[Any] | None:
        """The token's row joined with its user's (its use recorded, once a minute at most)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_digest(token)
        query = (
            sa.select(users, api_tokens.c.id.label("token_id"), api_tokens.c.role.label("granted"))
            .add_columns(
                api_tokens.c.token_hash,
                api_tokens.c.last_used_at,
                api_tokens.c.consumer,
                api_tokens.c.name.label("token_name"),
            )
            .select_from(api_tokens.join(users, api_tokens.c.user_id == users.c.id))
            .where(api_tokens.c.token_hash == digest)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        last = as_utc(row.last_used_at)
        now = utcnow()
        if last is None or now - last > _LAST_USED_EVERY:
            with self._db.write() as conn:
                conn.execute(
                    sa.update(api_tokens)
                    .where(api_tokens.c.id == row.token_id)
                    .values(last_used_at=now)
                )
        return row


def _check_stream_consumer(conn: Connection, name: str) -> None:
    """Only a stream consumer's subscribers use bound tokens."""
    config = conn.execute(sa.select(consumers.c.config).where(consumers.c.name == name)).scalar()
    if config is None:
        raise InvalidUser(f"no consumer named {name!r}")
    if not isinstance(config, dict) or config.get("sink") != "stream":
        raise InvalidUser(f"{name} is not a stream consumer (its sink is not stream)")


def _token(row: Row[Any]) -> ApiToken:
    created = as_utc(row.created_at)
    assert created is not None
    return ApiToken(
        id=int(row.id),
        username=row.username,
        name=row.name,
        role=Role(row.role),
        prefix=row.prefix,
        created_at=created,
        last_used_at=as_utc(row.last_used_at),
        consumer=row.consumer,
    )
