"""Registered consumers: their configuration (secrets included, never shown back) and changes.

Every write takes the next control revision and stamps it on the row it touches (a removal leaves
a tombstone with its revision), so a running router learns what changed with one cheap query per
second: `changes_since(last_seen)`.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Row

from event_router.routing.consumer import Consumer
from event_router.store import config_yaml
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.errors import (
    DuplicateConsumer,
    InvalidConfig,
    StoreError,
    UnknownConsumer,
    validation_messages,
)
from event_router.store.schema import consumer_removals, consumers


@dataclass(frozen=True, slots=True)
class ConsumerRecord:
    """A stored consumer with its bookkeeping. `id` changes if a name is removed and re-added."""

    id: int
    consumer: Consumer
    revision: int
    created_at: datetime
    updated_at: datetime

    def __repr__(self) -> str:  # the consumer's own repr would show its secrets
        name, revision = self.consumer.name, self.revision
        return f"ConsumerRecord(id={self.id}, name={name!r}, revision={revision})"

    def public(self) -> dict[str, Any]:
        """Configuration without secret values (credential headers masked too), plus bookkeeping:
        safe for any output."""
        data = self.consumer.public()
        data["headers"] = {
            key: "set" if config_yaml.secret_header(key) else value
            for key, value in data["headers"].items()
        }
        return {
            **data,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed after `revision`: consumers added or edited (enabling too), and removed."""

    revision: int
    changed: list[ConsumerRecord] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: list[str]
    updated: list[str]
    unchanged: list[str]


def validate(data: Mapping[str, Any], prefix: str = "") -> Consumer:
    """A Consumer from plain data, or InvalidConfig with `path: message` lines."""
    try:
        return Consumer.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidConfig(validation_messages(exc, prefix)) from None


class Consumers:
    """Consumer configuration in the control-plane database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, consumer: Consumer) -> ConsumerRecord:
        """Register a new consumer; DuplicateConsumer if the name is taken."""
        with self._db.write() as conn:
            revision = self._db.bump(conn)
            if self._row(conn, consumer.name) is not None:
                raise DuplicateConsumer(consumer.name)
            return self._insert(conn, consumer, revision)

    def get(self, name: str) -> Consumer:
        return self.record(name).consumer

    def record(self, name: str) -> ConsumerRecord:
        with self._db.read() as conn:
            row = self._row(conn, name)
        if row is None:
            raise UnknownConsumer(name)
        return _record(row)

    def list(self, enabled: bool | None = None) -> builtins.list[Consumer]:
        """Consumers by name; only enabled (or disabled) ones when `enabled` is given."""
        return [record.consumer for record in self.records(enabled)]

    def records(self, enabled: bool | None = None) -> builtins.list[ConsumerRecord]:
        query = sa.select(consumers).order_by(consumers.c.name)
        if enabled is not None:
            query = query.where(consumers.c.enabled == enabled)
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def update(self, name: str, changes: Mapping[str, Any]) -> Consumer:
        """Change some fields. `route` merges field by field; other fields are replaced whole."""
        if "name" in changes and changes["name"] != name:
            raise InvalidConfig(["name: a consumer cannot be renamed; add a new one"])
        with self._db.write() as conn:
            revision = self._db.bump(conn)
            row = self._row(conn, name, lock=True)
            if row is None:
                raise UnknownConsumer(name)
            current = _data(row)
            merged = {**current, **changes}
            if isinstance(changes.get("route"), Mapping):
                merged["route"] = {**current.get("route", {}), **changes["route"]}
            if "events" in changes and "allow" not in (changes.get("route") or {}):
                # an event-set preset replaces the allow list rather than adding to it
                merged["route"] = {**merged.get("route", {}), "allow": []}
            consumer = validate(merged)
            self._replace(conn, row, consumer, revision)
            return consumer

    def set_enabled(self, name: str, enabled: bool) -> Consumer:
        return self.update(name, {"enabled": enabled})

    def remove(self, name: str) -> None:
        """Remove a consumer and its dead letters; a running router stops delivering to it."""
        with self._db.write() as conn:
            revision = self._db.bump(conn)
            deleted = conn.execute(sa.delete(consumers).where(consumers.c.name == name)).rowcount
            if not deleted:
                raise UnknownConsumer(name)
            conn.execute(sa.delete(consumer_removals).where(consumer_removals.c.name == name))
            conn.execute(
                sa.insert(consumer_removals).values(
                    name=name, revision=revision, removed_at=utcnow()
                )
            )

    def revision(self) -> int:
        """The newest control revision: a router starts here after loading every consumer."""
        with self._db.read() as conn:
            return self._db.revision(conn)

    def changes_since(self, revision: int) -> Changes:
        """Consumers added, edited or removed after `revision`; one indexed lookup if none were.

        The revision is read before the rows, so a change committed in between shows up now and
        again next time (harmless), never not at all.
        """
        with self._db.read() as conn:
            newest = self._db.revision(conn)
            if newest <= revision:
                return Changes(newest)
            rows = conn.execute(
                sa.select(consumers)
                .where(consumers.c.revision > revision)
                .order_by(consumers.c.revision)
            )
            changed = [_record(row) for row in rows]
            removed = conn.execute(
                sa.select(consumer_removals.c.name)
                .where(consumer_removals.c.revision > revision)
                .order_by(consumer_removals.c.revision)
            ).scalars()
            return Changes(newest, changed, [str(name) for name in removed])

    def export_yaml(self, with_secrets: bool = False) -> str:
        """Every consumer as YAML for `import_yaml`; secrets left out unless asked for."""
        return config_yaml.render(self.list(), with_secrets)

    def import_yaml(self, text: str) -> ImportResult:
        """Add or replace the consumers in a YAML document, all or nothing.

        A secret the document leaves out keeps its stored value, so an export without secrets can
        be edited and imported back. Consumers not in the document are left alone.
        """
        documents = config_yaml.parse(text)
        added: builtins.list[str] = []
        updated: builtins.list[str] = []
        unchanged: builtins.list[str] = []
        errors: builtins.list[str] = []
        with self._db.write() as conn:
            revision = self._db.bump(conn)
            for name, data in documents:
                row = self._row(conn, name, lock=True)
                if row is not None:
                    config_yaml.keep_secrets(data, _data(row))
                try:
                    consumer = validate(data, prefix=name)
                except InvalidConfig as exc:
                    errors.extend(exc.errors)
                    continue
                if row is None:
                    self._insert(conn, consumer, revision)
                    added.append(name)
                elif _record(row).consumer == consumer:
                    unchanged.append(name)
                else:
                    self._replace(conn, row, consumer, revision)
                    updated.append(name)
            if errors:
                raise InvalidConfig(errors, "nothing imported; fix these and try again")
        return ImportResult(added, updated, unchanged)

    @staticmethod
    def _row(conn: Connection, name: str, lock: bool = False) -> Row[Any] | None:
        query = sa.select(consumers).where(consumers.c.name == name)
        if lock:
            query = query.with_for_update()
        return conn.execute(query).first()

    def _insert(self, conn: Connection, consumer: Consumer, revision: int) -> ConsumerRecord:
        now = utcnow()
        conn.execute(sa.delete(consumer_removals).where(consumer_removals.c.name == consumer.name))
        try:
            inserted = conn.execute(
                sa.insert(consumers)
                .values(
                    name=consumer.name,
                    config=_config(consumer),
                    enabled=consumer.enabled,
                    revision=revision,
                    created_at=now,
                    updated_at=now,
                )
                .returning(consumers.c.id)
            ).scalar_one()
        except sa.exc.IntegrityError:
            raise DuplicateConsumer(consumer.name) from None
        return ConsumerRecord(int(inserted), consumer, revision, now, now)

    def _replace(self, conn: Connection, row: Row[Any], consumer: Consumer, revision: int) -> None:
        conn.execute(
            sa.update(consumers)
            .where(consumers.c.id == row.id)
            .values(
                config=_config(consumer),
                enabled=consumer.enabled,
                revision=revision,
                updated_at=utcnow(),
            )
        )


def _config(consumer: Consumer) -> dict[str, Any]:
    """What the config column holds: everything but the name and the enabled flag (columns)."""
    return consumer.model_dump(mode="json", exclude={"name", "enabled"})


def _data(row: Row[Any]) -> dict[str, Any]:
    return {**row.config, "name": row.name, "enabled": row.enabled}


def _record(row: Row[Any]) -> ConsumerRecord:
    try:
        consumer = Consumer.model_validate(_data(row))
    except ValidationError as exc:
        detail = "; ".join(validation_messages(exc))
        raise StoreError(f"stored consumer {row.name!r} no longer validates: {detail}") from None
    created, updated = as_utc(row.created_at), as_utc(row.updated_at)
    assert created is not None and updated is not None
    return ConsumerRecord(int(row.id), consumer, int(row.revision), created, updated)
