"""People and programs allowed into the admin API and UI: users with a role, and API tokens.

Passwords are hashed with Argon2id (argon2-cffi's RFC 9106 defaults) and re-hashed on login when
those parameters change. API tokens are long random strings shown once; only their SHA-256 is
stored (a token has 256 bits of entropy, so a slow hash would add nothing but latency to every
API call). A token acts for its user, never with more than the user's role.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Row

from event_router.store.audit import record as audit
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.errors import StoreError
from event_router.store.schema import BigId, Timestamp, consumers, metadata, web_sessions

# The tables (created by migration 0002); declared here, on the shared metadata, beside their only
# user.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(150), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("username", name="uq_users_username"),
    sa.CheckConstraint("role IN ('admin', 'viewer')", name="users_role"),
)
# Names are unique whatever their case (migration 0003), and looked up the same way.
sa.Index("uq_users_username_ci", sa.func.lower(users.c.username), unique=True)

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

_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,150}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOKEN_PREFIX = "ert_"
_LAST_USED_EVERY = timedelta(minutes=1)  # bound the writes an API client causes


class Role(StrEnum):
    ADMIN = "admin"  # everything
    VIEWER = "viewer"  # read only

    def allows(self, needed: Role) -> bool:
        return self is Role.ADMIN or needed is Role.VIEWER


class UnknownUser(StoreError, LookupError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user named {username!r}")
        self.username = username


class DuplicateUser(StoreError):
    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} already exists")
        self.username = username


class InvalidUser(StoreError, ValueError):
    """A username, password or role that cannot be used, with the reason."""


class UnknownToken(StoreError, LookupError):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"no API token with id {token_id}")
        self.token_id = token_id


@dataclass(frozen=True, slots=True)
class User:
    """A user as the web layer sees it."""

    id: int
    username: str
    role: Role
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role.value,
            "created_at": self.created_at.isoformat(),
        }


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


def role_of(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidUser(f"unknown role {value!r}: use admin or viewer") from None


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise InvalidUser("a username is 1-150 letters, digits or . _ @ + -")
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidUser(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidUser(f"a password has at most {MAX_PASSWORD} characters")
    return password


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    """Users and their API tokens in the control-plane database."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None  # verified against for unknown users: same cost, no oracle

    # -- users --

    def add(self, username: str, password: str, role: Role | str = Role.VIEWER) -> User:
        check_username(username)
        hashed = self._hasher.hash(check_password(password))
        now = utcnow()
        with self._db.write() as conn:
            if _user_row(conn, username) is not None:
                raise DuplicateUser(username)
            try:
                conn.execute(
                    sa.insert(users).values(
                        username=username,
                        password_hash=hashed,
                        role=role_of(role).value,
                        created_at=now,
                        updated_at=now,
                    )
                )
            except sa.exc.IntegrityError:
                raise DuplicateUser(username) from None
            row = _user_row(conn, username)
            audit(conn, "user.add", username, role=role_of(role).value)
        assert row is not None
        return user_from_row(row)

    def get(self, username: str) -> User:
        with self._db.read() as conn:
            row = _user_row(conn, username)
        if row is None:
            raise UnknownUser(username)
        return user_from_row(row)

    def list(self) -> builtins.list[User]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.username))
            return [user_from_row(row) for row in rows]

    def count(self, role: Role | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(users)
        if role is not None:
            query = query.where(users.c.role == role.value)
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def remove(self, username: str) -> None:
        """Remove a user, their API tokens and their sessions."""
        with self._db.write() as conn:
            if not conn.execute(sa.delete(users).where(user_match(username))).rowcount:
                raise UnknownUser(username)
            audit(conn, "user.remove", username)

    def set_password(self, username: str, password: str) -> None:
        """Change a password; every session of the user ends (tokens stay valid)."""
        hashed = self._hasher.hash(check_password(password))
        self._update(username, "user.password", end_sessions=True, password_hash=hashed)

    def set_role(self, username: str, role: Role | str) -> None:
        """Change a role; every session of the user ends (tokens never exceed the new role)."""
        self._update(username, "user.role", end_sessions=True, role=role_of(role).value)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password is theirs, else None (same work whether or not they exist:
        an unknown name is verified against a dummy hash of the same parameters)."""
        with self._db.read() as conn:
            row = _user_row(conn, username)
        stored = row.password_hash if row is not None else self._dummy_hash()
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            self._update(row.username, None, password_hash=self._hasher.hash(password))
            return self.get(row.username)
        return user_from_row(row)

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def _update(
        self, username: str, action: str | None, *, end_sessions: bool = False, **values: Any
    ) -> None:
        """Change the user's row; an operator's change (`action`) is logged, a re-hash is not."""
        with self._db.write() as conn:
            row = _user_row(conn, username)
            if row is None:
                raise UnknownUser(username)
            conn.execute(
                sa.update(users).where(users.c.id == row.id).values(updated_at=utcnow(), **values)
            )
            if end_sessions:
                conn.execute(sa.delete(web_sessions).where(web_sessions.c.user_id == row.id))
            if action is not None:
                audit(conn, action, row.username, role=values.get("role"))

    # -- API tokens --

    def create_token(
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
            row = _user_row(conn, username)
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

    def tokens(self, username: str | None = None) -> builtins.list[ApiToken]:
        query = _token_query().order_by(api_tokens.c.id)
        if username is not None:
            query = query.where(user_match(username))
        with self._db.read() as conn:
            return [_token(row) for row in conn.execute(query)]

    def revoke_token(self, token_id: int) -> None:
        with self._db.write() as conn:
            deleted = conn.execute(sa.delete(api_tokens).where(api_tokens.c.id == token_id))
            if not deleted.rowcount:
                raise UnknownToken(token_id)
            audit(conn, "token.revoke", f"token {token_id}")

    def authenticate_token(self, token: str) -> tuple[User, Role] | None:
        """(user, the role the token acts with) for a valid token, else None (a token bound to
        a stream consumer too: it is good for that stream only, see `stream_token`)."""
        row = self._token_row(token)
        if row is None or row.consumer is not None:
            return None
        user = user_from_row(row)
        granted = Role(row.granted)
        effective = granted if user.role.allows(granted) else user.role  # a demoted user's token
        return user, effective

    def stream_token(self, token: str) -> tuple[User, str, str] | None:
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


def user_match(username: str) -> sa.ColumnElement[bool]:
    """The condition that finds a user by name, whatever its case (names are ASCII)."""
    return sa.func.lower(users.c.username) == username.lower()


def _user_row(conn: Connection, username: str) -> Row[Any] | None:
    return conn.execute(sa.select(users).where(user_match(username))).first()


def user_from_row(row: Row[Any]) -> User:
    created = as_utc(row.created_at)
    assert created is not None
    return User(int(row.id), row.username, Role(row.role), created)


def _token_query() -> sa.Select[Any]:
    return sa.select(api_tokens, users.c.username).select_from(
        api_tokens.join(users, api_tokens.c.user_id == users.c.id)
    )


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
