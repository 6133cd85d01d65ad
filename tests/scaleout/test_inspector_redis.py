"""The event inspector on a Redis journal (scale-out): the same search over the stream, positions
are entry ids, and a consumer's outcome comes from its group (acknowledged, or still pending)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_router.journal.redis import RedisJournal
from event_router.journal.search import Query, search
from event_router.routing.consumer import Consumer
from event_router.store import Store
from event_router.web.context import WebContext
from event_router.web.inspector import find, locate, outcomes
from tests.support.databases import JournalRedis


def event(i: int, user: int, name: str = "play_video") -> bytes:
    return orjson.dumps(
        {
            "name": name,
            "timestamp": "2024-01-01T00:00:00+00:00",
            "context": {"user_id": user, "course_id": f"course-v1:O+C{user}+1"},
            "data": {"id": "0b9e39477cf34507a7a48f74be381fdd", "currentTime": i, "duration": 60},
        }
    )


@pytest.fixture
def journal(journal_redis: JournalRedis) -> Iterator[RedisJournal]:
    opened = RedisJournal(journal_redis.url, journal_redis.prefix)
    yield opened
    opened.close()


def ids(journal: RedisJournal) -> list[str]:
    rows: Any = journal._client.xrange(journal.stream)
    return [row[0].decode() for row in rows]


def test_search_pages_and_budget_on_the_stream(journal: RedisJournal) -> None:
    journal.submit([event(i, user=i % 2) for i in range(12)]).result(timeout=10)
    every = ids(journal)
    page = search(journal, Query(learner="1"), limit=3)
    assert [f.position for f in page.found] == [every[11], every[9], every[7]]
    assert page.next == every[7]
    rest = search(journal, Query(learner="1", before=page.next))
    assert [f.position for f in rest.found] == [every[5], every[3], every[1]]
    assert rest.next is None
    spent = search(journal, Query(course="course-v1:O+C0+1"), budget=4)
    assert [f.position for f in spent.found] == [every[10], every[8]]
    assert spent.examined == 4 and spent.next == every[8]
    assert search(journal, Query(name="pause_video")).found == []


def test_outcomes_come_from_the_consumer_group(journal: RedisJournal, tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
        journal.submit([event(1, user=5), event(2, user=5)]).result(timeout=10)
        first, second = ids(journal)
        client = journal._client
        client.xgroup_create(journal.stream, "lrs", id="0")
        client.xreadgroup("lrs", "member", {journal.stream: ">"}, count=2)
        client.xack(journal.stream, "lrs", first)  # the second is still in flight
        context = WebContext(journal, None, store, "secret", "http://lms.test",
                             None, None, None, None)  # type: ignore[arg-type]  # fmt: skip
        page, _ = find(context, Query(learner="5"), 10)
        assert [f.position for f in page.found] == [second, first]
        got = {}
        for position in (first, second):
            found = locate(context, position)
            assert found is not None
            result = outcomes(context, found)[0]
            got[position] = result["outcome"], result["reason"]
        assert got == {
            first: ("delivered", "the endpoint acknowledged it"),
            second: ("pending", "not delivered yet"),
        }
        assert locate(context, "12") is None  # a SQLite position is not one of this journal
