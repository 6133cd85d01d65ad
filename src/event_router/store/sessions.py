"""Web sessions, kept server-side so that they can end: at sign-out, when the user's password or
role changes, when the user is removed, after an idle spell, or when an operator revokes them.

The browser holds a random token (256 bits); the database holds only its SHA-256, so a copy of
the database signs nobody in. A session also carries the one-shot message ("flash") the next page
shows, so no banner text ever travels in a URL.
"""

from __future__ import annotations

import builtins
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from event_router.store.audit import record as audit
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.schema import web_sessions
from event_router.store.tokens import token_digest
from event_router.store.users import UnknownUser, User, user_from_row, user_match, users

LIFETIME = timedelta(hours=12)  # a session ends this long after sign-in, however busy
_TOUCH_EVERY = timedelta(seconds=15)  # bound the writes a polling page causes


@dataclass(frozen=True, slots=True)
class Active:
    """A live session: whose it is, and the message it held for the page (taken, if asked)."""

    user: User
    session_id: int
    flash: str | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session's bookkeeping for operators; never its token."""

    id: int
    username: str
    created_at: datetime
    last_seen_at: datetime
    client: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.username,
            "created_at": self.created_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "client": self.client,
        }


class Sessions:
    """Sessions in the control-plane database; `idle` ends those unused for that long."""

    def __init__(self, db: Database, idle: timedelta = timedelta(minutes=30)) -> None:
        self._db = db
        self.idle = idle

    def start(self, user: User, client: str) -> str:
        """A new session for `user` seen from `client`; returns the token for the cookie."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._db.write() as conn:
            conn.execute(sa.delete(web_sessions).where(self._expired(now)))
            conn.execute(
                sa.insert(web_sessions).values(
                    token_hash=token_digest(token),
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                    client=client[:64],
                )
            )
        return token

    def resume(self, token: str, *, take_flash: bool = False) -> Active | None:
        """The session of `token` if it is live (and marks it used), else None."""
        digest = token_digest(token)
        query = (
            sa.select(
                users,
                web_sessions.c.id.label("session_id"),
                web_sessions.c.token_hash,
                web_sessions.c.created_at.label("started"),
                web_sessions.c.last_seen_at,
                web_sessions.c.flash,
            )
            .select_from(web_sessions.join(users, web_sessions.c.user_id == users.c.id))
            .where(web_sessions.c.token_hash == digest)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        now = utcnow()
        started, seen = as_utc(row.started), as_utc(row.last_seen_at)
        assert started is not None and seen is not None
        this = web_sessions.c.id == row.session_id
        if now - seen > self.idle or now - started > LIFETIME:
            with self._db.write() as conn:
                conn.execute(sa.delete(web_sessions).where(this))
            return None
        flash = row.flash if take_flash else None
        if flash is not None or now - seen > _TOUCH_EVERY:
            values: dict[str, Any] = {"last_seen_at": now}
            if flash is not None:
                values["flash"] = None
            with self._db.write() as conn:
                conn.execute(sa.update(web_sessions).where(this).values(**values))
        return Active(user_from_row(row), int(row.session_id), flash)

    def set_flash(self, session_id: int, message: str) -> None:
        """The message the next page of this session shows, once."""
        with self._db.write() as conn:
            conn.execute(
                sa.update(web_sessions).where(web_sessions.c.id == session_id).values(flash=message)
            )

    def end(self, token: str) -> bool:
        """End the session of `token` (sign-out); whether there was one."""
        with self._db.write() as conn:
            deleted = conn.execute(
                sa.delete(web_sessions).where(web_sessions.c.token_hash == token_digest(token))
            )
            return bool(deleted.rowcount)

    def end_all(self, username: str) -> int:
        """End every session of a user; how many there were."""
        with self._db.write() as conn:
            user_id = conn.execute(sa.select(users.c.id).where(user_match(username))).scalar()
            if user_id is None:
                raise UnknownUser(username)
            deleted = conn.execute(sa.delete(web_sessions).where(web_sessions.c.user_id == user_id))
            audit(conn, "user.revoke_sessions", username, count=int(deleted.rowcount))
            return int(deleted.rowcount)

    def list(self, username: str | None = None) -> builtins.list[SessionInfo]:
        """Live sessions, oldest first (those past their time are left out)."""
        query = (
            sa.select(web_sessions, users.c.username)
            .select_from(web_sessions.join(users, web_sessions.c.user_id == users.c.id))
            .where(sa.not_(self._expired(utcnow())))
            .order_by(web_sessions.c.id)
        )
        if username is not None:
            query = query.where(user_match(username))
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            SessionInfo(
                int(row.id),
                row.username,
                as_utc(row.created_at) or utcnow(),
                as_utc(row.last_seen_at) or utcnow(),
                row.client,
            )
            for row in rows
        ]

    def _expired(self, now: datetime) -> sa.ColumnElement[bool]:
        return sa.or_(
            web_sessions.c.last_seen_at < now - self.idle,
            web_sessions.c.created_at < now - LIFETIME,
        )
