"""The audit log: who changed, replayed, rewound or forgot what, and when.

Each change is recorded by the store method that makes it, in the same transaction (`record`), so
a change made through the UI, the API or the CLI is logged once and cannot be made without being
logged. Who is acting comes from the caller's context (`acting_as`): the web sets it when it
authenticates a request, the CLI at start. Entries name fields, never their values, so no secret
(and no forgotten learner's id) ever reaches the log.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from event_router.actor import current_actor
from event_router.routing.consumer import Consumer
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.schema import audit_log

_SECRET_WORDS = ("password", "token_value", "secret", "authorization", "cookie", "key")


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: datetime
    actor: str
    via: str
    action: str
    target: str
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "via": self.via,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
        }


def _clean(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A last guard: a key that names a secret never carries its value into the log."""
    return {
        key: ("***" if any(word in key.lower() for word in _SECRET_WORDS) else value)
        for key, value in detail.items()
        if value is not None
    }


def record(conn: Connection, action: str, target: str, **detail: Any) -> None:
    """Log `action` on `target` by the current actor, inside the caller's transaction."""
    actor = current_actor()
    conn.execute(
        sa.insert(audit_log).values(
            at=utcnow(),
            actor=actor.name[:200],
            via=actor.via,
            action=action,
            target=target[:255],
            detail=_clean(detail) or None,
        )
    )


def changed_fields(before: Mapping[str, Any], after: Consumer) -> builtins.list[str]:
    """The names (never the values) of the fields that differ; `route.allow` for route rules."""
    now = after.model_dump(mode="json")
    names = []
    for key in sorted(set(before) | set(now)):
        if key == "route":
            old, new = before.get("route") or {}, now.get("route") or {}
            names += [f"route.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        elif before.get(key) != now.get(key):
            names.append(key)
    return names


class AuditLog:
    """Reading the log, and recording changes made outside the store (a journal rewind)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, action: str, target: str, **detail: Any) -> None:
        with self._db.write() as conn:
            record(conn, action, target, **detail)

    def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> tuple[builtins.list[Entry], int]:
        """Newest first, with the number of entries that match."""
        where: builtins.list[sa.ColumnElement[bool]] = []
        if actor:
            where.append(audit_log.c.actor == actor)
        if action:
            where.append(audit_log.c.action.startswith(action, autoescape=True))
        if target:
            where.append(audit_log.c.target == target)
        query = sa.select(audit_log).where(*where).order_by(audit_log.c.id.desc())
        total = sa.select(sa.func.count()).select_from(audit_log).where(*where)
        with self._db.read() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).all()
            count = int(conn.execute(total).scalar_one())
        return [_entry(row) for row in rows], count


def _entry(row: Row[Any]) -> Entry:
    at = as_utc(row.at)
    assert at is not None
    return Entry(
        int(row.id), at, row.actor, row.via, row.action, row.target, dict(row.detail or {})
    )


def describe(entry: Entry) -> str:
    """The detail in a line for people: `fields: url, route.allow · count: 3`."""
    parts = []
    for key, value in entry.detail.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{key.replace('_', ' ')}: {shown or 'none'}")
    return " · ".join(parts)
