"""Dead letters: items a consumer's endpoint rejected as invalid, kept with its answer for replay.

Lifecycle: `dead` (recorded) → `replay` (an operator asked) → `replayed` (the router re-sent it);
or → `discarded` (an operator gave up on it; it can still be marked for replay later). The router
polls `take_replays`, re-sends, then calls `mark_replayed`; a crash in between re-sends on restart,
which is harmless because statement and event ids are deterministic.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from event_router.store.audit import record as audit
from event_router.store.database import Database, as_utc, utcnow
from event_router.store.errors import UnknownConsumer, UnknownDeadLetter
from event_router.store.schema import consumers, dead_letters

ANSWER_LIMIT = 4096  # bytes of the endpoint's answer kept: enough to see why, bounded


class State(StrEnum):
    DEAD = "dead"
    REPLAY = "replay"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    consumer: str
    event_seq: int
    event_name: str
    event: dict[str, Any] | None
    item: Any
    status: int | None
    answer: str
    reason: str
    created_at: datetime
    state: State
    replayed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "consumer": self.consumer,
            "event_seq": self.event_seq,
            "event_name": self.event_name,
            "state": self.state.value,
            "status": self.status,
            "reason": self.reason,
            "answer": self.answer,
            "created_at": self.created_at.isoformat(),
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
            "event": self.event,
            "item": self.item,
        }


def excerpt(answer: str | bytes | None, limit: int = ANSWER_LIMIT) -> str:
    """At most `limit` bytes of UTF-8, cut on a character boundary, marked when cut."""
    if answer is None:
        return ""
    data = answer if isinstance(answer, bytes) else answer.encode("utf-8", "replace")
    if len(data) <= limit:
        return data.decode("utf-8", "replace")
    return data[: limit - 3].decode("utf-8", "ignore") + "..."


class DeadLetters:
    """Dead letters of every consumer; removed with their consumer."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        consumer: str,
        event_seq: int,
        event_name: str,
        event: Mapping[str, Any] | None,
        reason: str,
        *,
        item: Any = None,
        status: int | None = None,
        answer: str | bytes | None = None,
    ) -> int:
        """Record a rejected item. `event` is the normalised event (None if the journal no longer
        has it); `item` what was sent (None when rejected before translation)."""
        values = {
            "consumer": consumer,
            "event_seq": event_seq,
            "event_name": event_name,
            "event": None if event is None else dict(event),
            "item": item,
            "status": status,
            "answer": excerpt(answer),
            "reason": reason,
            "created_at": utcnow(),
            "state": State.DEAD.value,
        }
        with self._db.write() as conn:
            try:
                inserted = conn.execute(
                    sa.insert(dead_letters).values(values).returning(dead_letters.c.id)
                ).scalar_one()
            except sa.exc.IntegrityError:
                raise UnknownConsumer(consumer) from None
        return int(inserted)

    def get(self, letter_id: int) -> DeadLetter:
        with self._db.read() as conn:
            query = sa.select(dead_letters).where(dead_letters.c.id == letter_id)
            row = conn.execute(query).first()
        if row is None:
            raise UnknownDeadLetter(letter_id)
        return _letter(row)

    def list(
        self,
        consumer: str | None = None,
        state: State | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[DeadLetter]:
        """Newest first."""
        query = (
            sa.select(dead_letters)
            .where(*_filters(consumer, state))
            .order_by(dead_letters.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._db.read() as conn:
            return [_letter(row) for row in conn.execute(query)]

    def of_event(self, event_seq: int) -> builtins.list[DeadLetter]:
        """Every consumer's letters made from one journal event (the event inspector)."""
        query = sa.select(dead_letters).where(dead_letters.c.event_seq == event_seq)
        with self._db.read() as conn:
            return [_letter(row) for row in conn.execute(query.order_by(dead_letters.c.id))]

    def count(self, consumer: str | None = None, state: State | str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(dead_letters)
        with self._db.read() as conn:
            return int(conn.execute(query.where(*_filters(consumer, state))).scalar_one())

    def mark_for_replay(self, ids: Sequence[int] | None = None, consumer: str | None = None) -> int:
        """Ask the router to re-send these (dead or discarded) letters; how many were marked."""
        return self._move(ids, consumer, (State.DEAD, State.DISCARDED), State.REPLAY)

    def take_replays(self, consumer: str, limit: int = 100) -> builtins.list[DeadLetter]:
        """Letters waiting for replay, oldest first. They stay `replay` until `mark_replayed`."""
        query = (
            sa.select(dead_letters)
            .where(*_filters(consumer, State.REPLAY))
            .order_by(dead_letters.c.id)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_letter(row) for row in conn.execute(query)]

    def mark_replayed(self, ids: Sequence[int]) -> int:
        """Record that these were re-sent (accepted, or dead-lettered anew)."""
        if not ids:
            return 0
        with self._db.write() as conn:
            return conn.execute(
                sa.update(dead_letters)
                .where(dead_letters.c.id.in_(list(ids)), dead_letters.c.state == State.REPLAY.value)
                .values(state=State.REPLAYED.value, replayed_at=utcnow())
            ).rowcount

    def mark_dead(
        self,
        letter_id: int,
        status: int | None,
        answer: str | bytes | None,
        reason: str | None = None,
    ) -> None:
        """A replay was rejected again: back to `dead`, with the endpoint's new answer."""
        values: dict[str, Any] = {"state": State.DEAD.value, "status": status}
        values["answer"] = excerpt(answer)
        values["replayed_at"] = utcnow()
        if reason is not None:
            values["reason"] = reason
        with self._db.write() as conn:
            update = sa.update(dead_letters).where(dead_letters.c.id == letter_id).values(values)
            if not conn.execute(update).rowcount:
                raise UnknownDeadLetter(letter_id)

    def discard(self, ids: Sequence[int] | None = None, consumer: str | None = None) -> int:
        """Give up on these (dead or waiting for replay) letters; how many were discarded."""
        return self._move(ids, consumer, (State.DEAD, State.REPLAY), State.DISCARDED)

    def _move(
        self,
        ids: Sequence[int] | None,
        consumer: str | None,
        sources: tuple[State, ...],
        target: State,
    ) -> int:
        if not ids and consumer is None:
            raise ValueError("name dead letter ids or a consumer")
        where = [dead_letters.c.state.in_([s.value for s in sources]), *_filters(consumer, None)]
        if ids:
            where.append(dead_letters.c.id.in_(list(ids)))
        with self._db.write() as conn:
            if consumer is not None:
                exists = conn.execute(sa.select(consumers.c.id).where(consumers.c.name == consumer))
                if exists.first() is None:
                    raise UnknownConsumer(consumer)
            if ids:
                found = set(
                    conn.execute(
                        sa.select(dead_letters.c.id).where(dead_letters.c.id.in_(list(ids)))
                    ).scalars()
                )
                missing = sorted(set(ids) - found)
                if missing:
                    raise UnknownDeadLetter(missing[0])
            update = sa.update(dead_letters).where(*where).values(state=target.value)
            moved = int(conn.execute(update).rowcount)
            action = "dead_letters.replay" if target is State.REPLAY else "dead_letters.discard"
            what = consumer if consumer is not None else "dead letters"
            audit(conn, action, what, ids=list(ids) if ids else None, count=moved)
            return moved


def _filters(consumer: str | None, state: State | str | None) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if consumer is not None:
        where.append(dead_letters.c.consumer == consumer)
    if state is not None:
        where.append(dead_letters.c.state == State(state).value)
    return where


def _letter(row: Row[Any]) -> DeadLetter:
    created = as_utc(row.created_at)
    assert created is not None
    return DeadLetter(
        id=int(row.id),
        consumer=row.consumer,
        event_seq=int(row.event_seq),
        event_name=row.event_name,
        event=row.event,
        item=row.item,
        status=row.status,
        answer=row.answer,
        reason=row.reason,
        created_at=created,
        state=State(row.state),
        replayed_at=as_utc(row.replayed_at),
    )
