"""People allowed into the admin API and UI: users with a role (their API tokens: tokens.py).

Passwords are hashed with Argon2id (argon2-cffi's RFC 9106 defaults) and re-hashed on login when
those parameters change.
"""

from __future__ import annotations

import builtins
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Row

from event_router.store.audit import record as audit
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.errors import StoreError
from event_router.store.schema import BigId, Timestamp, metadata, web_sessions

# The table (created by migration 0002); declared here, on the shared metadata, beside its users
# (this module, sessions and tokens).
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

_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,150}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


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


class Users:
    """Users in the control-plane database."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None  # verified against for unknown users: same cost, no oracle

    def add(self, username: str, password: str, role: Role | str = Role.VIEWER) -> User:
        check_username(username)
        hashed = self._hasher.hash(check_password(password))
        now = utcnow()
        with self._db.write() as conn:
            if user_row(conn, username) is not None:
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
            row = user_row(conn, username)
            audit(conn, "user.add", username, role=role_of(role).value)
        assert row is not None
        return user_from_row(row)

    def get(self, username: str) -> User:
        with self._db.read() as conn:
            row = user_row(conn, username)
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
            row = user_row(conn, username)
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
            row = user_row(conn, username)
            if row is None:
                raise UnknownUser(username)
            conn.execute(
                sa.update(users).where(users.c.id == row.id).values(updated_at=utcnow(), **values)
            )
            if end_sessions:
                conn.execute(sa.delete(web_sessions).where(web_sessions.c.user_id == row.id))
            if action is not None:
                audit(conn, action, row.username, role=values.get("role"))


def user_match(username: str) -> sa.ColumnElement[bool]:
    """The condition that finds a user by name, whatever its case (names are ASCII)."""
    return sa.func.lower(users.c.username) == username.lower()


def user_row(conn: Connection, username: str) -> Row[Any] | None:
    """The user's row, or None."""
    return conn.execute(sa.select(users).where(user_match(username))).first()


def user_from_row(row: Row[Any]) -> User:
    created = as_utc(row.created_at)
    assert created is not None
    return User(int(row.id), row.username, Role(row.role), created)
