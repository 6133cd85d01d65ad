"""What a Kafka journal keeps beside its topic, in the PostgreSQL control plane.

A topic is an append-only log: it holds the events, and Kafka holds each consumer group's
committed offsets. The small mutable state around them lives in the `journal_state` table of the
control plane the router processes already share (migration 0009):

| kind | name | value |
| --- | --- | --- |
| `position:<node>` | source id | the source's position (one machine's tracking log, a bus) |
| `seen:<scope>` | idempotency key | "" (`at`: when it was journaled) |
| `status` | process (member) name | its last figures (JSON) |
| `rewind` | consumer | the moment to rewind to (epoch seconds; `at`: when asked) |

Positions and keys are written once Kafka acknowledged the events they go with: a crash between
the two re-reads a source's last events, which are journaled again (statement ids are
deterministic: an LRS stores each once). See docs/scaling.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from event_router.store.database import Database
from event_router.store.schema import journal_state as table

_CHUNK = 1000


class JournalState:
    """The `journal_state` rows of one control plane (thread-safe: pooled connections)."""

    def __init__(self, url: str) -> None:
        self.db = Database.connect(url)
        self.db.migrate()

    def put(self, rows: Iterable[tuple[str, str, str]], at: float | None = None) -> None:
        """Insert or replace (kind, name, value) rows, in one transaction."""
        values = [{"kind": k, "name": n, "value": v, "at": at or time.time()} for k, n, v in rows]
        if not values:
            return
        with self.db.write() as conn:
            for start in range(0, len(values), _CHUNK):
                insert = postgresql.insert(table).values(values[start : start + _CHUNK])
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[table.c.kind, table.c.name],
                        set_={"value": insert.excluded.value, "at": insert.excluded.at},
                    )
                )

    def get(self, kind: str, name: str) -> str | None:
        with self.db.read() as conn:
            query = sa.select(table.c.value).where(table.c.kind == kind, table.c.name == name)
            return conn.execute(query).scalar_one_or_none()

    def all(self, kind: str) -> dict[str, tuple[str, float]]:
        """Every row of `kind`: name -> (value, at)."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(table.c.name, table.c.value, table.c.at).where(table.c.kind == kind)
            )
            return {name: (value, at) for name, value, at in rows}

    def present(self, kind: str, names: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self.db.read() as conn:
            for start in range(0, len(names), _CHUNK):
                chunk = list(names[start : start + _CHUNK])
                query = sa.select(table.c.name).where(table.c.kind == kind, table.c.name.in_(chunk))
                found.update(conn.execute(query).scalars())
        return found

    def keep_newest(self, kind: str, keep: int) -> int:
        """Delete all but the newest `keep` rows of `kind`; how many went."""
        with self.db.write() as conn:
            newest = (
                sa.select(table.c.name)
                .where(table.c.kind == kind)
                .order_by(table.c.at.desc())
                .limit(keep)
            )
            gone = conn.execute(
                sa.delete(table).where(table.c.kind == kind, table.c.name.not_in(newest))
            )
            return int(gone.rowcount or 0)

    def delete(self, kind: str, names: Sequence[str]) -> None:
        with self.db.write() as conn:
            conn.execute(sa.delete(table).where(table.c.kind == kind, table.c.name.in_(names)))

    def lease(self, name: str, member: str, ttl: float) -> bool:
        """Take or keep the lease `name` for `ttl` seconds; whether `member` holds it now."""
        now = time.time()
        insert = postgresql.insert(table).values(kind="lease", name=name, value=member, at=now)
        upsert = insert.on_conflict_do_update(
            index_elements=[table.c.kind, table.c.name],
            set_={"value": member, "at": now},
            where=sa.or_(table.c.value == member, table.c.at < now - ttl),
        )
        with self.db.write() as conn:
            return bool(conn.execute(upsert).rowcount)

    def close(self) -> None:
        self.db.dispose()
