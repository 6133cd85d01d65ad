"""Translations made at ingest wait for delivery by seq: kept as the commit completes, before a
woken reader can see the entries, bounded, dropped once delivered; a miss only costs a
translation."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from event_router.delivery.cursor import CursorReader
from event_router.delivery.made_at_ingest import MadeAtIngest
from event_router.events import parse_json
from event_router.journal import SqliteJournal
from event_router.sources.intake import Intake
from event_router.translate.workers import IngestTranslations, Prepared
from tests.support.traffic import bodies

PAIR = ("xapi", "anonymous")


def made_for(count: int, size: int = 10) -> list[IngestTranslations]:
    return [{PAIR: [bytes([65 + i % 26]) * size]} for i in range(count)]


def test_a_woken_reader_finds_the_translations_of_what_it_reads(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    made = MadeAtIngest()
    intake = Intake(journal, made=made)
    events = bodies(100)
    name = parse_json(events[0]).name

    async def deliver(read_to: int) -> list[bool]:
        reader, found = CursorReader(journal, "lrs", 0), []
        while reader.position < read_to:
            read = await reader.read(7, 5)  # waiting for each commit, woken by it
            assert read is not None
            found += [made.find(entry.seq) is not None for entry in read.entries]
            await reader.ack([read.mark])
        return found

    async def go() -> list[bool]:
        delivering = asyncio.create_task(deliver(len(events)))
        for start in range(0, len(events), 5):
            chunk = events[start : start + 5]
            prepared = Prepared(chunk, [name] * len(chunk), ahead=made_for(len(chunk)))
            await intake.commit(prepared, None)
        return await delivering

    try:
        found = asyncio.run(go())
    finally:
        journal.close()
    assert found == [True] * len(events)


def test_the_commit_hook_runs_before_the_entries_join_the_tail(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    seen_at_hook: list[tuple[int, int, bool]] = []
    try:
        write = journal.submit(
            bodies(3),
            on_commit=lambda first, last: seen_at_hook.append((first, last, journal.recent(0))),
        )
        assert write.result(10) == (1, 3)
        assert journal.recent(0)  # in memory now
    finally:
        journal.close()
    assert seen_at_hook == [(1, 3, False)]  # the hook ran before a reader could see them


def test_a_raising_hook_or_a_cancelled_write_leaves_the_writer_working(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")

    def broken(first: int, last: int) -> None:
        raise RuntimeError("bug in a hook")

    try:
        assert journal.submit(bodies(2), on_commit=broken).result(10) == (1, 2)
        abandoned = journal.submit(bodies(2))
        abandoned.cancel()  # as a cancelled task cancels the future it awaited: dropped
        after = (3, 3) if abandoned.cancelled() else (5, 5)  # unless the writer had taken it
        assert journal.submit(bodies(1)).result(10) == after  # the writer still commits
    finally:
        journal.close()


def test_a_failed_or_miscounted_commit_keeps_nothing(tmp_path: Path) -> None:
    made = MadeAtIngest()
    made.on_commit(made_for(2))(1, 1 << 40)  # not one seq per event: nothing kept
    assert len(made) == 0
    made.on_commit(made_for(2))(7, 8)
    assert made.find(7) == made_for(2)[0] and made.find(8) == made_for(2)[1]
    journal = SqliteJournal(tmp_path / "journal.db")
    journal.close()  # a write to a closed journal fails: its hook never runs
    failed = MadeAtIngest()
    with contextlib.suppress(Exception):
        journal.submit(bodies(2), on_commit=failed.on_commit(made_for(2))).result(5)
    assert len(failed) == 0


def test_only_the_sqlite_journal_is_given_translations_made_at_ingest() -> None:
    class Elsewhere:  # any journal but SQLite (Redis, Kafka): seqs not one per event in order
        pass

    with pytest.raises(ValueError, match="SQLite journal only"):
        Intake(Elsewhere(), made=MadeAtIngest())  # type: ignore[arg-type]


def test_bounded_by_count_and_bytes_and_dropped_once_delivered() -> None:
    made = MadeAtIngest(count=100, max_bytes=1000)
    for first in range(1, 151, 10):  # 15 commits of 10 events: the oldest commits go for room
        made.keep(first, made_for(10, size=1))
    assert len(made) == 100 and made.find(50) is None and made.find(51) is not None
    made.keep(151, made_for(15, size=50))  # 750 bytes: older commits go until it fits
    made.keep(166, made_for(15, size=50))  # 750 more: the commit of 151-165 goes too
    assert made.bytes <= 1000 and made.find(180) is not None and made.find(151) is None
    made.keep(181, made_for(5, size=1))
    made.settled(175)  # the commit of 166-180 is not wholly delivered: it stays
    assert made.find(166) is not None and made.find(181) is not None
    made.settled(180)
    assert len(made) == 5 and made.bytes == 5 and made.find(166) is None
    made.settled(185)  # all delivered
    assert len(made) == made.bytes == 0
    made.keep(186, [{}])  # nothing made for that event: nothing kept
    assert made.find(186) is None
    made.clear()
    assert len(made) == made.bytes == 0
