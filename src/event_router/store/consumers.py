"""Registered consumers: their configuration (secrets included, never shown back) and changes.

Every write takes the next control revision and stamps it on the row it touches (a removal leaves
a tombstone with its revision), so a running router learns what changed with one cheap query per
second: `changes_since(last_seen)`. Re-sealing every row's secrets at once (an upgrade, a key
rotation) is resealing.py's.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Row

from event_router.routing.consumer import Consumer
from event_router.sinks import requirements
from event_router.sinks.destinations import Destinations
from event_router.store import config_yaml
from event_router.store.audit import changed_fields
from event_router.store.audit import record as audit
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.destination import (
    CLEARED,
    drop_unsupplied,
    moved,
)
from event_router.store.encryption import SecretBox
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
        from event_router.web.secrets_mask import mask_url  # the one URL mask (web imports us)

        data = self.consumer.public()
        data["url"] = mask_url(data["url"])
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
class Summary:
    name: str
    enabled: bool


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
    fields: dict[str, list[str]] = field(default_factory=dict)  # updated name -> changed fields


class _DryRun(Exception):
    """Raised inside an import's transaction to roll it back: a preview changes nothing."""


def validate(data: Mapping[str, Any], prefix: str = "") -> Consumer:
    """A Consumer from plain data, or InvalidConfig with `path: message` lines."""
    try:
        return Consumer.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidConfig(validation_messages(exc, prefix)) from None


class Consumers:
    """Consumer configuration in the control-plane database."""

    def __init__(
        self, db: Database, box: SecretBox | None = None, destinations: Destinations | None = None
    ) -> None:
        self._db = db
        self._box = box or SecretBox(None)
        self._destinations = destinations

    @property
    def destinations(self) -> Destinations:
        """What configurations are checked against: as given, else from the environment."""
        return self._destinations or Destinations.from_env()

    def check(self, consumer: Consumer, prefix: str = "") -> Consumer:
        """The consumer as it will be stored, or InvalidConfig if its sink cannot work with it
        (sinks/requirements.py). Every write goes through here: CLI, API, UI and YAML import."""
        found, url = requirements.problems(consumer, self.destinations)
        if found:
            raise InvalidConfig([f"{prefix}.{line}" if prefix else line for line in found])
        return consumer if url is None else consumer.model_copy(update={"url": url})

    def add(self, consumer: Consumer) -> ConsumerRecord:
        """Register a new consumer; DuplicateConsumer if the name is taken."""
        consumer = self.check(consumer)
        with self._db.write() as conn:
            revision = self._db.bump(conn)
            if self._row(conn, consumer.name) is not None:
                raise DuplicateConsumer(consumer.name)
            added = self._insert(conn, consumer, revision)
            audit(conn, "consumer.add", consumer.name, protocol=consumer.protocol.value)
            return added

    def get(self, name: str) -> Consumer:
        return self.record(name).consumer

    def record(self, name: str) -> ConsumerRecord:
        with self._db.read() as conn:
            row = self._row(conn, name)
        if row is None:
            raise UnknownConsumer(name)
        return self._record(row)

    def list(self, enabled: bool | None = None) -> builtins.list[Consumer]:
        """Consumers by name; only enabled (or disabled) ones when `enabled` is given."""
        return [record.consumer for record in self.records(enabled)]

    def records(self, enabled: bool | None = None) -> builtins.list[ConsumerRecord]:
        query = sa.select(consumers).order_by(consumers.c.name)
        if enabled is not None:
            query = query.where(consumers.c.enabled == enabled)
        with self._db.read() as conn:
            return [self._record(row) for row in conn.execute(query)]

    def summaries(self) -> builtins.list[Summary]:
        """Name and enabled flag of every consumer, by name: for reports that need no secrets
        (and so no secret key)."""
        query = sa.select(consumers.c.name, consumers.c.enabled).order_by(consumers.c.name)
        with self._db.read() as conn:
            return [Summary(str(row.name), bool(row.enabled)) for row in conn.execute(query)]

    def update(
        self, name: str, changes: Mapping[str, Any], *, action: str = "consumer.update"
    ) -> Consumer:
        """Change some fields. `route` merges field by field; other fields are replaced whole.
        The audit log records `action` with the names of the fields that changed."""
        if "name" in changes and changes["name"] != name:
            raise InvalidConfig(["name: a consumer cannot be renamed; add a new one"])
        with self._db.write() as conn:
            revision = self._db.bump(conn)
            row = self._row(conn, name, lock=True)
            if row is None:
                raise UnknownConsumer(name)
            current = self._data(row, unreadable_as_none=True)
            merged = {**current, **changes}
            if isinstance(changes.get("route"), Mapping):
                merged["route"] = {**current.get("route", {}), **changes["route"]}
            if "events" in changes and "allow" not in (changes.get("route") or {}):
                # an event-set preset replaces the allow list rather than adding to it
                merged["route"] = {**merged.get("route", {}), "allow": []}
            dropped = drop_unsupplied(merged, current, changes)
            consumer = self.check(_validate_moved(merged, dropped))
            self._replace(conn, row, consumer, revision)
            audit(conn, action, name, fields=changed_fields(current, consumer))
            return consumer

    def set_enabled(self, name: str, enabled: bool) -> Consumer:
        action = "consumer.enable" if enabled else "consumer.disable"
        return self.update(name, {"enabled": enabled}, action=action)

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
            audit(conn, "consumer.remove", name)

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
            changed = [self._record(row) for row in rows]
            removed = conn.execute(
                sa.select(consumer_removals.c.name)
                .where(consumer_removals.c.revision > revision)
                .order_by(consumer_removals.c.revision)
            ).scalars()
            return Changes(newest, changed, [str(name) for name in removed])

    def export_yaml(self, with_secrets: bool = False) -> str:
        """Every consumer as YAML for `import_yaml`; secrets left out unless asked for."""
        return config_yaml.render(self.list(), with_secrets)

    def import_yaml(self, text: str, *, dry_run: bool = False) -> ImportResult:
        """Add or replace the consumers in a YAML document, all or nothing; with `dry_run`, only
        say what would change (the same checks, rolled back).

        A secret the document leaves out keeps its stored value, so an export without secrets can
        be edited and imported back. Consumers not in the document are left alone.
        """
        result = ImportResult([], [], [])
        with contextlib.suppress(_DryRun):
            self._import(config_yaml.parse(text), result, dry_run)
        return result

    def _import(
        self, documents: builtins.list[tuple[str, dict[str, Any]]], done: ImportResult, dry: bool
    ) -> None:
        errors: builtins.list[str] = []
        with self._db.write() as conn:
            revision = self._db.bump(conn)
            for name, data in documents:
                row = self._row(conn, name, lock=True)
                stored = self._data(row, unreadable_as_none=True) if row is not None else {}
                dropped: builtins.list[str] = []
                if row is not None and moved(stored.get("url"), data.get("url")):
                    dropped = drop_unsupplied(dict(stored), stored, data)
                elif row is not None:
                    config_yaml.keep_secrets(data, stored)
                try:
                    consumer = self.check(_validate_moved(data, dropped, prefix=name), prefix=name)
                except InvalidConfig as exc:
                    errors.extend(exc.errors)
                    continue
                if row is None:
                    self._insert(conn, consumer, revision)
                    done.added.append(name)
                elif self._record(row).consumer == consumer:
                    done.unchanged.append(name)
                else:
                    done.fields[name] = changed_fields(stored, consumer)
                    self._replace(conn, row, consumer, revision)
                    done.updated.append(name)
            if errors:
                raise InvalidConfig(errors, "nothing imported; fix these and try again")
            if dry:
                raise _DryRun  # a preview: roll it all back
            if done.added or done.updated:
                audit(conn, "config.import", "consumers", added=done.added, updated=done.updated)

    def _data(self, row: Row[Any], unreadable_as_none: bool = False) -> dict[str, Any]:
        config = self._box.open_config(row.config, f"consumer {row.name!r}", unreadable_as_none)
        return {**config, "name": row.name, "enabled": row.enabled}

    def _record(self, row: Row[Any]) -> ConsumerRecord:
        try:
            # Saved before a newer, stricter check: still loads (route.check_regex).
            consumer = Consumer.model_validate(self._data(row), context={"stored": True})
        except ValidationError as exc:
            detail = "; ".join(validation_messages(exc))
            raise StoreError(
                f"stored consumer {row.name!r} no longer validates: {detail}"
            ) from None
        created, updated = as_utc(row.created_at), as_utc(row.updated_at)
        assert created is not None and updated is not None
        return ConsumerRecord(int(row.id), consumer, int(row.revision), created, updated)

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
                    config=self._box.seal_config(_config(consumer)),
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
                config=self._box.seal_config(_config(consumer)),
                enabled=consumer.enabled,
                revision=revision,
                updated_at=utcnow(),
            )
        )


def _validate_moved(data: Mapping[str, Any], dropped: list[str], prefix: str = "") -> Consumer:
    """`validate`, saying why credentials are missing when a move dropped them."""
    try:
        return validate(data, prefix)
    except InvalidConfig as exc:
        if not dropped:
            raise
        where = f"{prefix}: " if prefix else ""
        note = where + CLEARED.format(names=", ".join(dropped))
        raise InvalidConfig([*exc.errors, note]) from None


def _config(consumer: Consumer) -> dict[str, Any]:
    """What the config column holds: everything but the name and the enabled flag (columns)."""
    return consumer.model_dump(mode="json", exclude={"name", "enabled"})
