"""`POST /api/v1/events` in-process on a real journal: gzip bodies, the token, content types."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from event_router.journal import SqliteJournal
from event_router.web.app import create_app

TOKEN = "ingest-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NDJSON = {**AUTH, "Content-Type": "application/x-ndjson"}
GZIP_NDJSON = {**NDJSON, "Content-Encoding": "gzip"}
LIMIT = 1 << 16


def play(i: int) -> dict[str, Any]:
    return {
        "name": "play_video",
        "timestamp": "2024-03-01T00:00:00+00:00",
        "context": {"user_id": 7, "course_id": "course-v1:org+c+r"},
        "data": {"id": f"video-{i}", "currentTime": i},
    }


def lines(*numbers: int) -> bytes:
    return b"".join(orjson.dumps(play(i)) + b"\n" for i in numbers)


class Ingest:
    """The app's ingest endpoint and the journal it appends to."""

    def __init__(self, home: Path, **options: Any) -> None:
        self.journal = SqliteJournal(home / "journal.db")
        self.app = create_app(self.journal, None, max_body_bytes=LIMIT, **options)
        self.client = TestClient(self.app)

    def post(self, body: bytes, headers: dict[str, str]) -> Any:
        return self.client.post("/api/v1/events", content=body, headers=headers)

    def journaled(self) -> list[str]:
        entries, _ = self.journal.read(0, 100_000)
        return [e.event.data["id"] for e in entries]


@pytest.fixture
def ingest(tmp_path: Path) -> Iterator[Ingest]:
    built = Ingest(tmp_path, ingest_token=TOKEN)
    yield built
    built.journal.close()


def test_every_gzip_member_of_a_body_is_ingested(ingest: Ingest) -> None:
    """`(gzip -c a; gzip -c b)` is one gzip body holding both (as `gzip -d` reads it): before
    the fix only the first member was read and the answer was 202 with `b` dropped."""
    body = gzip.compress(lines(1)) + gzip.compress(lines(2, 3))
    answer = ingest.post(body, GZIP_NDJSON)
    assert (answer.status_code, answer.json()) == (202, {"accepted": 3, "rejected": 0})
    assert ingest.journaled() == ["video-1", "video-2", "video-3"]


@pytest.mark.parametrize(
    ("tail", "damage"),
    [
        (b"GARBAGE", "trailing garbage"),
        (b"\x1f", "trailing garbage"),
        (gzip.compress(lines(4, 5))[:-6], "truncated gzip data"),
    ],
    ids=["garbage", "half-a-magic", "torn-member"],
)
def test_anything_after_the_members_is_a_400_and_nothing_is_journaled(
    ingest: Ingest, tail: bytes, damage: str
) -> None:
    """Bytes after the gzip data were ignored (202, events possibly lost): now the body is
    refused whole, so the sender keeps it and can tell what is wrong."""
    answer = ingest.post(gzip.compress(lines(1, 2)) + tail, GZIP_NDJSON)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("body is not valid gzip: " + damage)
    assert ingest.journaled() == []


def test_a_bomb_split_in_members_is_413_by_its_total_size(ingest: Ingest) -> None:
    """Each member inflates to under the limit, all of them together to over it."""
    member = gzip.compress(b" " * (LIMIT // 2 - 10) + b"\n")
    under = ingest.post(member + gzip.compress(lines(1)), GZIP_NDJSON)
    assert under.status_code == 202, under.text
    over = ingest.post(member * 3 + gzip.compress(lines(2)), GZIP_NDJSON)
    assert over.status_code == 413
    assert over.json() == {"error": f"decompressed body larger than {LIMIT} bytes"}
    assert ingest.journaled() == ["video-1"]
