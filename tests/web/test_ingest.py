"""`POST /api/v1/events` in-process on a real journal: gzip bodies, the token, content types."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from event_router.journal import SqliteJournal
from event_router.web.app import create_app
from tests.web.conftest import Template, make_web

TOKEN = "ingest-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NDJSON = {**AUTH, "Content-Type": "application/x-ndjson"}
GZIP_NDJSON = {**NDJSON, "Content-Encoding": "gzip"}
NDJSON_TYPE = {"Content-Type": "application/x-ndjson"}
LIMIT = 1 << 16


def play(i: int) -> dict[str, Any]:
    return {
        "name": "play_video",
        "timestamp": "2024-03-01T00:00:00+00:00",
        "context": {"user_id": 7, "course_id": "course-v1:org+c+r"},
        "data": {"id": f"video-{i}", "currentTime": i, "duration": 600},
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


def test_without_a_token_ingest_is_refused_unless_opened(tmp_path: Path) -> None:
    """Before the fix a router without a token took events from anyone (a log line only)."""
    closed = Ingest(tmp_path / "closed", ingest_token=None)
    opened = Ingest(tmp_path / "open", ingest_token=None, ingest_open=True)
    try:
        refused = closed.post(lines(1), {"Content-Type": "application/x-ndjson"})
        assert refused.status_code == 401
        assert "EVENT_ROUTER_INGEST_TOKEN" in refused.json()["error"]
        assert "--ingest-open" in refused.json()["error"]
        assert closed.journaled() == []
        taken = opened.post(lines(2), {"Content-Type": "application/x-ndjson"})
        assert taken.status_code == 202, taken.text
        assert opened.journaled() == ["video-2"]
    finally:
        closed.journal.close()
        opened.journal.close()


def test_a_token_is_required_even_when_opened_and_compared_whole(tmp_path: Path) -> None:
    guarded = Ingest(tmp_path, ingest_token=TOKEN, ingest_open=True)
    try:
        for header in ("", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", TOKEN, f"bearer {TOKEN}"):
            wrong = guarded.post(lines(1), {"Authorization": header, **NDJSON_TYPE})
            assert wrong.status_code == 401, header
            assert wrong.json() == {"error": "missing or wrong bearer token"}
        assert guarded.post(lines(2), NDJSON).status_code == 202
        assert guarded.journaled() == ["video-2"]
    finally:
        guarded.journal.close()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "", "application/jsonp"],
)  # fmt: skip
def test_only_json_media_types_are_taken(ingest: Ingest, content_type: str) -> None:
    """A web page can post text/plain (or no type, or a form) cross-site without a CORS
    preflight: before the fix such a body was parsed as JSON and its events journaled."""
    headers = {**AUTH, "Content-Type": content_type} if content_type else AUTH
    answer = ingest.post(orjson.dumps([play(1)]), headers)
    assert answer.status_code == 415
    body = answer.json()
    assert body["accepted_types"] == [
        "application/json",
        "application/x-ndjson",
        "application/jsonl",
    ]
    assert "application/json, application/x-ndjson or application/jsonl" in body["error"]
    assert ingest.journaled() == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", orjson.dumps([play(1), play(2)])),
        ("Application/JSON; charset=utf-8", orjson.dumps(play(1)) + b"\n" + orjson.dumps(play(2))),
        ("application/x-ndjson", lines(1, 2)),
        ("application/jsonl", lines(1, 2)),
    ],
)
def test_json_types_are_taken_with_parameters_and_gzip(
    ingest: Ingest, content_type: str, body: bytes
) -> None:
    headers = {**AUTH, "Content-Type": content_type}
    assert ingest.post(body, headers).status_code == 202
    assert ingest.post(gzip.compress(body), {**headers, "Content-Encoding": "gzip"}).json() == {
        "accepted": 2,
        "rejected": 0,
    }
    assert ingest.journaled() == ["video-1", "video-2"] * 2


def test_an_unknown_content_encoding_is_415(ingest: Ingest) -> None:
    answer = ingest.post(lines(1), {**NDJSON, "Content-Encoding": "br"})
    assert answer.status_code == 415 and "content encoding 'br'" in answer.json()["error"]
    assert ingest.journaled() == []


def test_the_dashboard_warns_when_ingest_is_open(tmp_path: Path, template: Template) -> None:
    for opened, shown, hidden in (
        (True, "ingest-open", "ingest-closed"),
        (False, "ingest-closed", "ingest-open"),
    ):
        home = tmp_path / str(opened)
        home.mkdir()
        web = make_web(home, template, with_engine=False, ingest_open=opened)
        try:
            page = web.login().client.get("/").text
            status = web.viewer().get("/api/v1/status").json()
        finally:
            web.journal.close()
            web.store.close()
        assert f'id="{shown}"' in page and f'id="{hidden}"' not in page
        assert status["ingest"]["auth"] == ("open" if opened else "closed")


def test_a_blank_token_is_a_clear_start_up_error(tmp_path: Path) -> None:
    env = {**os.environ, "EVENT_ROUTER_HOME": str(tmp_path), "EVENT_ROUTER_INGEST_TOKEN": "  "}
    done = subprocess.run(
        [sys.executable, "-m", "event_router", "run", "--listen", "127.0.0.1:1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "EVENT_ROUTER_INGEST_TOKEN is set but empty" in done.stderr
    assert "validation error" not in done.stderr  # said plainly, not as a pydantic dump
    assert not (tmp_path / "journal.db").exists()  # refused before anything started
