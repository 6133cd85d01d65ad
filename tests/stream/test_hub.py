"""The stream hub on a real SQLite journal, in-process: positions it refuses, what a partial
`Last-Event-ID` resumes with, and a subscriber's buffer rule."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest

from event_router.delivery.encoder import Encoder, TranslationCache
from event_router.delivery.stats import Stats
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy, IdentityTable, Policy
from event_router.stream.hub import Hub, PositionRefused
from event_router.stream.sse import Position, message_ids, parse_position
from event_router.stream.subscriber import Message
from event_router.stream.tail import SqliteTail
from event_router.translate import Options
from tests.support.traffic import play

LMS = "http://localhost:18000"


def hub_on(journal: SqliteJournal, **options: object) -> Hub:
    consumer = Consumer(name="engine", url="stream:", sink="stream", sink_options=options)
    identity = IdentityPolicy("secret", LMS, IdentityTable(), Policy.ANONYMOUS)
    encoder = Encoder(consumer, Options(lms_url=LMS, identity=identity), TranslationCache())
    return Hub(encoder, SqliteTail(journal), Stats())


def test_positions_are_parsed_and_numbered_as_the_wire_says() -> None:
    assert parse_position("12") == Position(12) and parse_position(" 12.3 ") == Position(12, 3)
    assert str(Position(12, 3)) == "12.3" and str(Position(7)) == "7"
    assert message_ids(5, 1) == ["5"] and message_ids(5, 3) == ["5.0", "5.1", "5"]
    for bad in ("", "x", "1.2.3", "-1", "1e3"):
        with pytest.raises(ValueError, match="not a position"):
            parse_position(bad)


def test_a_position_the_journal_no_longer_keeps_is_gone(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    try:
        journal.submit([orjson.dumps(play(i)) for i in range(10)]).result()
        hub = hub_on(journal)
        hub.check(Position(0))  # everything is still there
        hub.check(Position(10))
        with pytest.raises(PositionRefused) as unknown:
            hub.check(Position(11))
        assert unknown.value.code == "unknown" and unknown.value.details == {"head": 10}
        journal.trim(6, time.time() + 1)  # events 1..6 go (retention)
        hub.check(Position(6))  # 7 onwards: still there
        with pytest.raises(PositionRefused) as gone:
            hub.check(Position(5))
        assert gone.value.code == "gone" and gone.value.details == {"oldest": 7, "head": 10}
        with pytest.raises(PositionRefused):
            hub.check(Position(6, 0))  # the rest of event 6: gone with it
    finally:
        journal.close()


def test_catching_up_from_a_partial_position_sends_the_rest_then_joins(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")

    async def scenario() -> list[str]:
        journal.submit([orjson.dumps(play(i)) for i in range(5)]).result()
        hub = hub_on(journal)
        hub.position = journal.head  # the hub is at the head: the subscriber catches up to it
        subscriber = hub.subscribe(Position(3, 0), user="u", token="t", client="c")
        written: list[bytes] = []

        async def write(data: bytes) -> None:
            written.append(data)

        await hub._catch_up(subscriber, write)
        assert subscriber.live and subscriber.sent == 5
        return [line for chunk in written for line in chunk.decode().splitlines() if "id:" in line]

    try:
        ids = asyncio.run(scenario())
    finally:
        journal.close()
    # play_video makes one statement each: "3.0" already had it all, so 4 and 5 follow.
    assert ids == ["id: 4", "id: 5"]


def test_only_what_is_left_of_earlier_offers_counts_against_the_buffer(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    try:
        hub = hub_on(journal, buffer=3)
        subscriber = hub.subscribe(None, user="u", token="t", client="c")
        burst = [Message(seq, b"m", 0.0) for seq in range(1, 11)]
        assert subscriber.offer(burst, 10)  # a burst of 10 over a buffer of 3: taken
        assert subscriber.buffered == 10
        assert not subscriber.offer([Message(11, b"m", 0.0)], 11)  # 10 still wait: cut off
        subscriber.close("slow", "too slow")
        assert subscriber.buffered == 0 and subscriber.reason == "slow"
    finally:
        journal.close()
