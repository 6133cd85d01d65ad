"""Translations made at ingest wait for delivery by seq: kept as the commit completes, before a
woken reader can see the entries, bounded, dropped once delivered; a miss only costs a
translation."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from pathlib import Path

from event_router.delivery.cursor import CursorReader
from event_router.delivery.made_at_ingest import MadeAtIngest
from event_router.events import parse_json
from event_router.journal import JournalFull, SqliteJournal
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


def test_commit_callbacks_run_before_the_entries_join_the_tail(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    at_callback: list[bool] = []
    try:
        write = journal.submit(bodies(3))
        write.add_done_callback(lambda _: at_callback.append(journal.recent(0)))
        assert write.result(10) == (1, 3)
        assert journal.recent(0)  # in memory now
    finally:
        journal.close()
    assert at_callback in ([False], [True])  # True only when it was added after the commit


def test_failed_cancelled_or_scattered_commits_keep_nothing() -> None:
    made = MadeAtIngest()
    failed: Future[tuple[int, int]] = Future()
    failed.add_done_callback(made.on_commit(made_for(2)))
    failed.set_exception(JournalFull("disk full"))
    cancelled: Future[tuple[int, int]] = Future()
    cancelled.add_done_callback(made.on_commit(made_for(2)))
    cancelled.cancel()
    scattered: Future[tuple[int, int]] = Future()  # Kafka: seqs across partitions
    scattered.add_done_callback(made.on_commit(made_for(2)))
    scattered.set_result((1, 1 << 40))
    assert len(made) == 0
    done: Future[tuple[int, int]] = Future()
    done.add_done_callback(made.on_commit(made_for(2)))
    done.set_result((7, 8))
    assert made.find(7) == made_for(2)[0] and made.find(8) == made_for(2)[1]


def test_bounded_by_count_and_bytes_and_dropped_once_delivered() -> None:
    made = MadeAtIngest(count=100, max_bytes=1000)
    made.keep(1, made_for(150, size=1))
    assert len(made) == 100 and made.find(50) is None and made.find(51) is not None
    made.keep(151, made_for(30, size=50))  # 1,500 bytes: the oldest go for room
    assert made.bytes <= 1000 and made.find(180) is not None and made.find(151) is None
    made.settled(175)
    assert len(made) == 5 and made.bytes == 250
    made.keep(181, [{}])  # nothing made for that event: nothing kept
    assert made.find(181) is None
    made.clear()
    assert len(made) == made.bytes == 0
