"""Searching the SQLite journal: every filter, newest first, a bounded scan that says where to go
on, time ranges by arrival, and redacted events never found."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from event_router.journal import SqliteJournal
from event_router.journal.search import Query, search
from tests.support.wait import wait_until


def event(i: int, user: int, course: str, name: str = "play_video") -> bytes:
    return orjson.dumps(
        {
            "name": name,
            "timestamp": "2024-01-01T00:00:00+00:00",
            "context": {"user_id": user, "username": f"user{user}", "course_id": course},
            "data": {"n": i},
        }
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[SqliteJournal]:
    opened = SqliteJournal(tmp_path / "journal.db")
    yield opened
    opened.close()


def fill(journal: SqliteJournal) -> None:
    bodies = [
        event(i, user=i % 3, course="course-v1:A+B+C" if i % 2 else "course-v1:X+Y+Z",
              name="pause_video" if i % 5 == 0 else "play_video")
        for i in range(1, 31)
    ]  # fmt: skip
    journal.submit(bodies).result(timeout=10)


def seqs(journal: SqliteJournal, query: Query, **kwargs: int) -> list[int]:
    return [found.seq for found in search(journal, query, **kwargs).found]


def test_each_filter_and_all_together(journal: SqliteJournal) -> None:
    fill(journal)
    assert seqs(journal, Query(learner="1")) == [i for i in range(30, 0, -1) if i % 3 == 1]
    assert seqs(journal, Query(learner="user2")) == [i for i in range(30, 0, -1) if i % 3 == 2]
    assert seqs(journal, Query(course="course-v1:A+B+C")) == list(range(29, 0, -2))
    assert seqs(journal, Query(name="pause_video")) == [30, 25, 20, 15, 10, 5]
    both = Query(learner="0", course="course-v1:A+B+C", name="pause_video")
    assert seqs(journal, both) == [15]
    # Close is not equal: a user id that only starts like another matches nothing.
    assert seqs(journal, Query(learner="11")) == []


def test_a_full_page_and_a_spent_budget_say_where_to_go_on(journal: SqliteJournal) -> None:
    fill(journal)
    page = search(journal, Query(course="course-v1:X+Y+Z"), limit=4)
    assert [f.seq for f in page.found] == [30, 28, 26, 24] and page.next == "24"
    page = search(journal, Query(course="course-v1:X+Y+Z", before=page.next), limit=4)
    assert [f.seq for f in page.found] == [22, 20, 18, 16]
    # The budget bounds the scan: 10 entries examined, then `next` continues below them.
    page = search(journal, Query(name="pause_video"), budget=10)
    assert [f.seq for f in page.found] == [30, 25] and page.examined == 10
    assert page.next == "21"
    page = search(journal, Query(name="pause_video", before=page.next), budget=10)
    assert [f.seq for f in page.found] == [20, 15] and page.next == "11"
    page = search(journal, Query(name="pause_video", before="11"), budget=100)
    assert [f.seq for f in page.found] == [10, 5] and page.next is None


def test_time_ranges_are_arrival_times(journal: SqliteJournal) -> None:
    journal.submit([event(1, 1, "c")]).result(timeout=10)
    middle = time.time()
    wait_until(lambda: time.time() > middle, 5, "the clock stands still", 0.001)  # then later
    journal.submit([event(2, 1, "c"), event(3, 1, "c")]).result(timeout=10)
    assert seqs(journal, Query(since=middle)) == [3, 2]
    assert seqs(journal, Query(until=middle)) == [1]
    assert seqs(journal, Query(since=time.time() + 60)) == []


def test_redacted_events_are_not_found(journal: SqliteJournal) -> None:
    fill(journal)
    journal.redact(lambda body: b'"user_id":1,' in body)
    assert seqs(journal, Query(learner="1")) == []
    assert len(seqs(journal, Query(), limit=100)) == 20
