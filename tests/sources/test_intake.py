"""Intake: lines normalised once (in the workers for big chunks) and translated ahead for the
consumers that keep up; the translations reach the consumers by seq, kept as the commit
completes (`MadeAtIngest`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pytest

from event_router.delivery.encoder import Encoder, TranslationCache
from event_router.delivery.made_at_ingest import MadeAtIngest
from event_router.events import line_json, parse_json
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer
from event_router.sources.intake import IN_PROCESS_BELOW, Intake
from event_router.sources.tracking_log import TrackingLogSource
from event_router.translate import translate
from event_router.translate.options import Options
from event_router.translate.workers import (
    Prepared,
    ProtocolPolicies,
    Translated,
    TranslationPool,
    prepare_lines,
)
from tests.conftest import ERB, erb_fixture_names, erb_options
from tests.support.wait import until

XAPI: ProtocolPolicies = (("xapi", "anonymous"),)
BOTH: ProtocolPolicies = (("caliper", "anonymous"), ("xapi", "anonymous"))
PREFIX = b"2023-05-23 13:53:13,461 INFO 20 [tracking] logger.py:41 - "


def log_lines() -> list[bytes]:
    """Every ERB fixture as a log line, with two blank lines and four bad ones among them."""
    events = [(ERB / "events" / f"{n}.json").read_bytes() for n in erb_fixture_names()]
    lines = [PREFIX + orjson.dumps(orjson.loads(e)) for e in events]
    lines[3:3] = [b"", b"not json at all", b'{"name": "x", "time": "yesterday"}', b"  ", b'{"na']
    lines.append(b'["an", "array"]')
    return lines


@pytest.fixture(scope="module")
def options() -> Options:
    return erb_options()


@pytest.fixture(scope="module")
def pool(options: Options) -> Iterator[TranslationPool]:
    pool = TranslationPool(2)
    pool.configure("test-secret", options.lms_url, options.identity._table, options.courses)
    yield pool
    pool.close()


def chunk_of(lines: list[bytes], copies: int) -> tuple[list[bytes], bytes]:
    many = lines * copies
    return many, b"\n".join(many) + b"\n"


def test_workers_prepare_exactly_what_this_process_would(
    pool: TranslationPool, options: Options
) -> None:
    lines, chunk = chunk_of(log_lines(), 40)  # big enough to be split between both workers
    assert len(chunk) > IN_PROCESS_BELOW
    here = prepare_lines({"anonymous": options}, lines, BOTH)
    there = asyncio.run(pool.prepare(chunk, BOTH))
    assert there.bodies == here.bodies and there.names == here.names
    assert there.rejects == here.rejects and there.ahead == here.ahead
    assert there.lines == len(lines)
    # Rejections name the line (its index in the chunk) and why; blank lines are not rejections.
    bad = [i for i, line in enumerate(lines) if line.strip() and not line.startswith(PREFIX)]
    assert [i for i, _ in there.rejects] == bad
    reasons = [reason for _, reason in there.rejects[:4]]
    assert reasons[0] == "no JSON object on the line"
    assert "not ISO 8601" in reasons[1] and reasons[1].startswith("x: ")  # names the event
    assert reasons[2].startswith("not valid JSON")
    assert reasons[3] == "no JSON object on the line"  # a JSON array is not an event


def test_translations_made_ahead_are_the_translations(options: Options) -> None:
    lines = log_lines()
    prepared = prepare_lines({"anonymous": options}, lines, BOTH)
    assert prepared.ahead is not None and len(prepared.ahead) == len(prepared.bodies)
    refused = 0
    for body, made in zip(prepared.bodies, prepared.ahead, strict=True):
        event = parse_json(body)
        for protocol, policy in BOTH:
            value = made[protocol, policy]
            try:
                expected = [orjson.dumps(s) for s in translate(event, protocol, options)]
            except Exception as exc:  # a refusal travels as its reason
                refused += 1
                assert value == getattr(exc, "reason", None)
                continue
            assert value == expected
    assert refused  # some fixtures have no Caliper translation: their reason is kept


def test_intake_normalises_a_trickle_here_and_a_flood_in_the_workers(
    tmp_path: Path, pool: TranslationPool
) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    made = MadeAtIngest()
    intake = Intake(journal, pool, lambda: XAPI, made=made)
    small = b"\n".join(log_lines()[:5]) + b"\n"
    _, big = chunk_of(log_lines(), 40)

    async def go() -> None:
        trickle = await intake.prepare(small)
        assert trickle.events is not None and trickle.ahead is None  # parsed here, kept
        flood = await intake.prepare(big)
        assert flood.events is None and flood.ahead is not None  # parsed there only
        await intake.commit(trickle, ("test", "1"))
        await intake.commit(flood, ("test", "2"))

    try:
        asyncio.run(go())
        entries, bad = journal.read(0, 100_000)
        assert not bad and journal.position("test") == "2"
        trickled = len(flood_bodies(small))
        assert [e.body for e in entries] == flood_bodies(small) + flood_bodies(big)
        assert all(made.find(e.seq) is None for e in entries[:trickled])
        assert all(XAPI[0] in (made.find(e.seq) or {}) for e in entries[trickled:])
        # The tail's entries parse on demand, and their names came from the workers.
        assert all(e.name == e.event.name for e in entries)
    finally:
        journal.close()


def flood_bodies(chunk: bytes) -> list[bytes]:
    out = []
    for line in chunk.splitlines():
        try:
            body = line_json(line)
            parse_json(body)
        except ValueError:
            continue
        out.append(body)
    return out


def test_consumers_use_the_translation_made_ahead(tmp_path: Path, options: Options) -> None:
    """An entry's translation made at ingest is what the consumer sends, not a new one."""
    journal = SqliteJournal(tmp_path / "journal.db")
    body = line_json(log_lines()[0])
    marker = [b'{"made": "at ingest"}']
    made = MadeAtIngest()
    prepared = Prepared([body], [parse_json(body).name], ahead=[{XAPI[0]: marker}])

    async def go() -> list[object]:
        await Intake(journal, made=made).commit(prepared, None)
        entries, _ = journal.read(0, 10)
        consumer = Consumer(name="lrs", url="http://127.0.0.1:9/xapi/statements")
        caliper = Consumer(name="c", url="http://127.0.0.1:9/c", protocol="caliper")
        xapi = Encoder(consumer, options, TranslationCache(), made=made)
        xapi_items = await xapi.encode_all(entries)
        caliper_items = await Encoder(caliper, options, TranslationCache(), made=made).encode_all(
            entries
        )
        return [xapi_items[0], caliper_items[0]]

    try:
        xapi_items, caliper_items = asyncio.run(go())
    finally:
        journal.close()
    assert xapi_items == marker
    assert isinstance(caliper_items, list) and caliper_items != marker  # not warm: translated


def test_two_consumers_asking_at_once_share_one_translation(
    tmp_path: Path, pool: TranslationPool, options: Options
) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    bodies = flood_bodies(chunk_of(log_lines(), 3)[1])
    calls = []
    translate_in_pool = pool.translate

    async def counted(protocol: str, policy: str, batch: Sequence[bytes]) -> list[Translated]:
        calls.append(len(batch))
        return await translate_in_pool(protocol, policy, batch)

    async def go() -> tuple[list[object], list[object]]:
        await journal.append(bodies)  # no translations ahead
        entries, _ = journal.read(0, 1000)
        cache = TranslationCache()
        one = Encoder(Consumer(name="a", url="http://127.0.0.1:9/a"), options, cache, pool)
        two = Encoder(Consumer(name="b", url="http://127.0.0.1:9/b"), options, cache, pool)
        first, second = await asyncio.gather(one.encode_all(entries), two.encode_all(entries))
        return first, second  # type: ignore[return-value]

    pool.translate = counted  # type: ignore[method-assign, assignment]  # count the real pool's calls
    try:
        first, second = asyncio.run(go())
    finally:
        del pool.translate
        journal.close()
    assert calls == [len(bodies)]
    assert first == second and len(first) == len(bodies)
    assert any(isinstance(x, list) for x in first)


def test_followed_log_through_the_workers_with_a_journal_refusing_nothing(
    tmp_path: Path, pool: TranslationPool
) -> None:
    """The tracking-log source with an intake: every good line once, in order; bad ones counted."""
    log = tmp_path / "tracking.log"
    lines = log_lines() * 60
    log.write_bytes(b"\n".join(lines) + b"\n")
    journal = SqliteJournal(tmp_path / "journal.db")
    expected = flood_bodies(log.read_bytes())

    async def go() -> TrackingLogSource:
        stop = asyncio.Event()
        source = TrackingLogSource(log, journal, intake=Intake(journal, pool, lambda: XAPI))
        task = asyncio.create_task(source.run(stop))
        await until(lambda: journal.head >= len(expected), 30, lambda: f"head {journal.head}")
        stop.set()
        await task
        return source

    try:
        source = asyncio.run(go())
        entries, _ = journal.read(0, 100_000)
    finally:
        journal.close()
    assert [e.body for e in entries] == expected
    assert source.counts["accepted"] == len(expected)
    assert source.counts["rejected"] == 4 * 60


def test_ndjson_posted_to_ingest_goes_through_the_workers(
    tmp_path: Path, pool: TranslationPool
) -> None:
    """A large NDJSON body: errors numbered by item (blank lines are not items), the valid ones
    committed in order with their translations made ahead, as in-process for a small body."""
    from fastapi.testclient import TestClient

    from event_router.web.app import create_app

    events = [
        orjson.loads((ERB / "events" / f"{n}.json").read_bytes()) for n in erb_fixture_names()
    ]
    lines = [orjson.dumps(e) for e in events] * 30
    lines[5:5] = [b"", b"{broken", b"   "]
    undated, prefixed = b'{"name": "x", "timestamp": "soon"}', PREFIX + lines[0]
    lines[40:40] = [undated, prefixed]  # a logger prefix is not NDJSON
    body = b"\n".join(lines) + b"\n"
    assert len(body) > IN_PROCESS_BELOW
    items = [line for line in lines if line.strip()]
    journal = SqliteJournal(tmp_path / "journal.db")
    made = MadeAtIngest()
    app = create_app(
        journal, None, ingest_token=None, ingest_open=True, max_body_bytes=10 << 20,
        intake=Intake(journal, pool, lambda: XAPI, made=made),
    )  # fmt: skip
    try:
        with TestClient(app) as client:
            # Said to be one JSON document, found to be lines; then said to be lines.
            sniffed = {"content-type": "application/json"}
            big = client.post("/api/v1/events", content=body, headers=sniffed)
            said = {"content-type": "application/x-ndjson"}
            small = client.post(
                "/api/v1/events", content=b"\n".join(lines[:12]) + b"\n", headers=said
            )
        entries, _ = journal.read(0, 100_000)
    finally:
        journal.close()
    assert big.status_code == 400, big.text
    answer = big.json()
    bad = {items.index(b"{broken"), items.index(undated), items.index(prefixed)}  # not line numbers
    assert bad == {5, 38, 39}
    assert {e["index"] for e in answer["errors"]} == bad
    assert answer["accepted"] == len(items) - 3 and answer["rejected"] == 3
    assert answer["accepted_indexes"] == [i for i in range(len(items)) if i not in bad]
    assert "not valid JSON" in answer["errors"][0]["error"]
    # The small body (in-process) says the same of the same lines.
    assert small.status_code == 400 and [e["index"] for e in small.json()["errors"]] == [5]
    good = [line.strip() for i, line in enumerate(items) if i not in bad]
    assert [e.body for e in entries[: len(good)]] == good
    assert all(XAPI[0] in (made.find(e.seq) or {}) for e in entries[: len(good)])
    assert all(made.find(e.seq) is None for e in entries[len(good) :])  # the small body: none
