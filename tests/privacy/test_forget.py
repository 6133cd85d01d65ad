"""Forgetting a learner: one transaction per store (control plane on SQLite and PostgreSQL, the
journal on SQLite and Redis), counts per store, nothing of anyone else touched."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from event_router.delivery.encoder import FORGOTTEN, Encoder, Skip, TranslationCache
from event_router.events import parse_json
from event_router.journal import SqliteJournal
from event_router.journal.entry import REDACTED
from event_router.journal.redis import RedisJournal
from event_router.privacy.forget import ForgetError, Learner, forget, forget_in_journal
from event_router.privacy.screen import retired_key
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy
from event_router.store import Store
from event_router.store.schema import retired_learners
from event_router.translate import Options
from tests.privacy.conftest import LMS, SECRET, bus_event, log_line
from tests.support.databases import JournalRedis, stream_entries

ANN = Learner.of(7, "ann")


@pytest.fixture
def store(store: Store) -> Store:
    store.consumers.add(Consumer(name="lrs", url="http://lrs.test/xapi"))
    return store


def fill_store(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "username", "kind", "anonymous_id"])
        for kind in ("xapi", "caliper"):
            writer.writerow(["7", "ann", kind, f"ann-{kind}"])
            writer.writerow(["8", "bob", kind, f"bob-{kind}"])
        writer.writerow(["", "ann", "xapi", "ann-by-name"])
    store.identities.import_csv(path)
    for seq, raw in enumerate([bus_event(7, None), log_line(None, "ann"), bus_event(8, "bob")]):
        store.dead_letters.add("lrs", seq + 1, "edx.course.enrollment.activated", raw, "x")


def bodies(journal: SqliteJournal) -> list[tuple[int, bytes]]:
    entries, _ = journal.read(0, 1000)
    return [(entry.seq, entry.body) for entry in entries]


def test_a_learner_is_named_by_id_or_username() -> None:
    with pytest.raises(ForgetError, match="user id, a username"):
        Learner.of(None, "  ")
    assert Learner.of(" 7 ", None).user_id == "7"


def test_forget_removes_the_learner_from_every_store_and_says_how_much(
    store: Store, tmp_path: Path
) -> None:
    fill_store(store, tmp_path)
    journal = SqliteJournal(tmp_path / "journal.db")
    try:
        raws = [bus_event(7, "ann"), bus_event(8, "bob"), log_line(None, "ann"), log_line(9, "cy")]
        journal.submit([orjson.dumps(r) for r in raws]).result()
        journal.submit((), None, {"lrs": 1}).result()  # a consumer part-way through
        before = bodies(journal)
        removed = forget(store, journal, SECRET, ANN)
        assert removed == {
            "forgotten": True,
            "control_plane": {"identities": 3, "dead_letters": 2, "retired_keys": 2},
            "journal": {"kind": "sqlite", "events": 2, "action": "redacted in place"},
        }
        after = bodies(journal)
        # Redacted in place: the same seqs in the same order, the cursor still points at seq 1.
        assert [seq for seq, _ in after] == [seq for seq, _ in before] == [1, 2, 3, 4]
        assert journal.cursor("lrs") == 1 and journal.head == 4
        for seq in (1, 3):
            body = dict(after)[seq]
            assert b"ann" not in body and b'"user_id"' not in body
            assert parse_json(body).name == REDACTED
        assert dict(after)[2] == dict(before)[2] and dict(after)[4] == dict(before)[4]
        journal.drop_recent()  # what a reader of the file gets (another process, a restart)
        assert bodies(journal) == after
        # Their keyed hashes are listed, never their id or name.
        assert store.retired.keys() == {
            retired_key(SECRET, "id", "7"),
            retired_key(SECRET, "name", "ann"),
        }
        with store._db.read() as conn:
            rows = conn.execute(sa.select(retired_learners)).all()
        assert not any("ann" in str(row) or row[0] == "7" for row in rows)
        table = store.identities.table()
        assert set(table.anonymous.values()) == {"bob-xapi", "bob-caliper"}
        assert [letter.event_seq for letter in store.dead_letters.list()] == [3]
        # Forgetting again finds nothing more, and lists nothing twice.
        again = forget(store, journal, SECRET, ANN)
        assert again["control_plane"] == dict.fromkeys(again["control_plane"], 0)
        assert again["journal"]["events"] == 0
    finally:
        journal.close()


def test_redacted_events_are_never_delivered(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    try:
        journal.submit([orjson.dumps(bus_event(7, "ann"))]).result()
        assert journal.redact(ANN.in_body) == 1
        (entry,), _ = journal.read(0, 10)
        options = Options(lms_url=LMS, identity=IdentityPolicy(SECRET, LMS))
        for protocol in ("xapi", "edx"):
            consumer = Consumer(name="c", protocol=protocol, url="http://x.test/")
            assert Encoder(consumer, options, TranslationCache()).encode(entry) == Skip(FORGOTTEN)
    finally:
        journal.close()


def test_the_redis_journal_deletes_the_learners_entries(journal_redis: JournalRedis) -> None:
    journal = RedisJournal(journal_redis.url, journal_redis.prefix)
    try:
        raws = [bus_event(7, "ann"), bus_event(8, "bob"), log_line(None, "ann")]
        journal.submit([orjson.dumps(r) for r in raws]).result()
        assert forget_in_journal(journal, ANN) == {
            "kind": "redis",
            "events": 2,
            "action": "deleted",
        }
        left = stream_entries(journal_redis.client, journal_redis.stream)
        assert [parse_json(fields[b"b"]).context["username"] for _, fields in left] == ["bob"]
        assert journal.refresh() == 3  # the count of events ever accepted is unchanged
    finally:
        journal.close()


def test_a_username_written_with_escapes_is_found(tmp_path: Path) -> None:
    """The LMS writes non-ASCII text as \\u escapes: the quick look in the bytes sees both."""
    learner = Learner.of(None, "zoë")
    escaped = orjson.dumps(bus_event(1, None)).replace(b'"user_id":1', b'"username":"zo\\u00eb"')
    assert learner.in_body(escaped) and learner.in_body(orjson.dumps(bus_event(None, "zoë")))
    assert not learner.in_body(orjson.dumps(bus_event(None, "zoe")))
