"""The privacy screen at ingest: fields dropped in both layouts, retired learners' events dropped,
in this process and in the translation workers alike, before anything reaches the journal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from event_router.events import normalise, parse_json
from event_router.journal import SqliteJournal
from event_router.privacy.screen import (
    DropFieldsError,
    Privacy,
    Screen,
    parse_drop_fields,
    retired_key,
)
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.identity import IdentityTable
from event_router.settings import Settings
from event_router.sources.intake import IN_PROCESS_BELOW, Intake
from event_router.translate.workers import TranslationPool
from tests.privacy.conftest import SECRET, bus_event, log_line

DROP = parse_drop_fields("ip, agent, context.client_id, data.answers")


def retired(*pairs: tuple[str, str]) -> frozenset[str]:
    return frozenset(retired_key(SECRET, kind, value) for kind, value in pairs)


def test_paths_are_on_the_normalised_event() -> None:
    assert DROP == (
        ("context", "ip"),
        ("context", "agent"),
        ("context", "client_id"),
        ("data", "answers"),
    )
    for bad, why in (
        ("name", "keeps its name"),
        ("context..ip", "empty part"),
        ("data", "not the whole"),
    ):
        with pytest.raises(DropFieldsError, match=why):
            parse_drop_fields(bad)


def test_a_bad_setting_is_refused_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_ROUTER_DROP_FIELDS", "ip,timestamp")
    with pytest.raises(ValueError, match="EVENT_ROUTER_DROP_FIELDS: 'timestamp'"):
        Settings()
    monkeypatch.setenv("EVENT_ROUTER_DROP_FIELDS", "ip,agent")
    assert Settings().drop_paths() == (("context", "ip"), ("context", "agent"))


@pytest.mark.parametrize("layout", [log_line, bus_event])
def test_dropped_fields_are_gone_from_the_body_the_journal_keeps(layout: object) -> None:
    raw = layout(7, "ann")  # type: ignore[operator]
    body = orjson.dumps(raw)
    screen = Screen(SECRET, DROP)
    event, kept = screen.apply(parse_json(body), body) or (None, b"")
    assert event is not None
    for field in (b"203.0.113.9", b"Mozilla", b"GA1.1.1", b"answers"):
        assert field not in kept
    again = parse_json(kept)  # what a consumer reads back from the journal
    assert "ip" not in again.context and "agent" not in again.context
    assert again.data == {"course_id": "course-v1:edX+D+1", "mode": "audit"}
    assert again.context["session"] == "s-1" and again.context["user_id"] == 7
    assert event.as_dict() == again.as_dict()


def test_an_event_without_those_fields_keeps_its_exact_bytes() -> None:
    raw = bus_event(7, "ann")
    raw["context"] = {"user_id": 7}
    raw["data"] = {"mode": "audit"}
    body = orjson.dumps(raw)
    result = Screen(SECRET, DROP).apply(parse_json(body), body)
    assert result is not None and result[1] is body


def test_retired_learners_are_dropped_by_id_or_by_name_wherever_named() -> None:
    screen = Screen(SECRET, (), retired(("id", "7"), ("name", "ann")))
    named = [
        bus_event(7, None),  # id in context
        bus_event(None, "ann"),  # username only
        log_line(None, "ann"),  # tracking-log top-level username
        {**bus_event(1, "teacher"), "data": {"user_id": 7}},  # the learner acted upon
    ]
    for raw in named:
        body = orjson.dumps(raw)
        assert screen.apply(parse_json(body), body) is None, raw
    other = orjson.dumps(bus_event(8, "bob"))
    assert screen.apply(parse_json(other), other) is not None


def test_the_retired_list_holds_keyed_hashes_not_names() -> None:
    key = retired_key(SECRET, "name", "ann")
    assert "ann" not in key and len(key) == 64
    assert key != retired_key("another-secret", "name", "ann")


def lines(count: int, retired_every: int) -> bytes:
    out = []
    for index in range(count):
        user = 7 if index % retired_every == 0 else 100 + index
        out.append(orjson.dumps(log_line(user, f"u{user}")))
    return b"\n".join(out) + b"\n"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[SqliteJournal]:
    opened = SqliteJournal(tmp_path / "journal.db")
    yield opened
    opened.close()


def stored(journal: SqliteJournal) -> list[bytes]:
    entries, _ = journal.read(0, 100_000)
    return [entry.body for entry in entries]


@pytest.mark.parametrize("workers", [0, 2])
def test_intake_screens_lines_here_and_in_the_workers(journal: SqliteJournal, workers: int) -> None:
    """The screen travels to the translation workers: a big chunk prepared there is screened
    exactly as a small one prepared here."""
    screen = Screen(SECRET, DROP, retired(("id", "7")))
    privacy = Privacy(screen)
    pool = None
    if workers:
        pool = TranslationPool(workers)
        pool.configure(SECRET, "http://lms.test", IdentityTable(), CourseCatalogue(), screen)
    try:
        intake = Intake(journal, pool, privacy=privacy)
        chunk = lines(400, 4) if workers else lines(40, 4)
        assert (len(chunk) >= IN_PROCESS_BELOW) == bool(workers)

        async def ingest() -> None:
            prepared = await intake.prepare(chunk)
            await intake.commit(prepared, ("test", "1"))

        asyncio.run(ingest())
    finally:
        if pool is not None:
            pool.close()
    total = 400 if workers else 40
    bodies = stored(journal)
    assert len(bodies) == total - total // 4
    assert privacy.dropped == total // 4
    assert not any(b"203.0.113.9" in body or b"answers" in body for body in bodies)
    assert all(parse_json(body).context["user_id"] != 7 for body in bodies)


def test_events_a_source_parsed_itself_pass_the_same_screen(journal: SqliteJournal) -> None:
    """HTTP JSON bodies and the event bus hand parsed events to `Intake.screen`."""
    privacy = Privacy(Screen(SECRET, DROP, retired(("name", "ann"))))
    intake = Intake(journal, privacy=privacy)
    raws = [bus_event(7, "ann"), bus_event(8, "bob")]
    events, bodies = intake.screen(
        [normalise(orjson.loads(orjson.dumps(r))) for r in raws], [orjson.dumps(r) for r in raws]
    )
    assert [e.context["username"] for e in events] == ["bob"]
    assert b"client_id" not in bodies[0] and privacy.dropped == 1
