"""`event-router backfill` as a real process, into a real HTTP receiver (tests/peers/receiver.py).

The reference for what must arrive is `event-router transform` on the same files with the same
home: the backfill must deliver exactly those statement ids to the chosen consumer, and nothing
to any other.
"""

from __future__ import annotations

import gzip
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from event_router.events import parse_line
from event_router.generate import generate
from event_router.generate.stream import UNSUPPORTED
from tests.backfill.conftest import Home, write_log
from tests.peers.receiver import Receiver
from tests.peers.s3 import MotoS3
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(300)


def split_log(tmp_path: Path, count: int, *, seed: int = 0) -> tuple[Path, Path]:
    """One generated stream cut in two files, the first plain and the second gzipped."""
    lines = [g.line() + b"\n" for g in generate(count, seed=seed, users=150, courses=4)]
    first, second = tmp_path / "tracking.log-1", tmp_path / "tracking.log-2.gz"
    first.write_bytes(b"".join(lines[: count // 2]))
    second.write_bytes(gzip.compress(b"".join(lines[count // 2 :])))
    return first, second


def paths(receiver: Receiver) -> Counter[str]:
    return Counter(exchange.path for exchange in receiver.exchanges)


def checkpoint_rows(home: Home) -> list[tuple[str, str, int, int]]:
    with sqlite3.connect(home.path / "backfill" / "checkpoints.db") as db:
        return db.execute("SELECT consumer, input, line, done FROM checkpoints").fetchall()


def test_backfill_delivers_exactly_the_transform_ids_to_the_chosen_consumer_only(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    first, second = split_log(tmp_path, 3000)
    done = home.backfill(str(tmp_path / "tracking.log-*"), "--consumer", "lrs", "--workers", "2")
    assert done.returncode == 0, done.stderr
    expected = home.expected(first, second)
    assert sorted(receiver.ids) == sorted(expected)
    assert receiver.duplicates == {}
    assert set(paths(receiver)) == {"/lrs/statements"}
    report = home.report()
    assert report["read"] == 3000 and report["malformed"] == {}
    assert [f["state"] for f in report["files"]] == ["done", "done"]
    lrs = report["consumers"]["lrs"]
    assert lrs["delivered"] == lrs["statements"] == len(expected)
    assert lrs["events"] == 3000 and lrs["dead_letters"] == 0
    assert "bystander" not in report["consumers"]
    # Large batches, several at once: far fewer requests than statements.
    assert receiver.requests <= len(expected) // 500 + 2
    assert "backfill finished" in done.stderr
    assert sorted(checkpoint_rows(home)) == [
        ("lrs", str(first.resolve()), 1500, 1),
        ("lrs", str(second.resolve()), 1500, 1),
    ]


def test_a_second_run_sends_nothing_and_restart_sends_again(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    log = write_log(tmp_path / "tracking.log", 400)
    assert home.backfill(str(log), "-c", "lrs").returncode == 0
    count = receiver.count
    again = home.backfill(str(log), "-c", "lrs")
    assert again.returncode == 0 and receiver.count == count
    assert home.report()["files"][0]["state"] == "already done"
    assert home.backfill(str(log), "-c", "lrs", "--restart").returncode == 0
    assert receiver.count == 2 * count
    assert set(receiver.duplicates.values()) == {2}  # the same ids again: the LRS ignores them


def test_interrupted_backfill_resumes_where_it_stopped(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    first, second = split_log(tmp_path, 4000, seed=1)
    receiver.delay = 0.15  # slow enough to interrupt in the middle
    process = home.start_backfill(str(first), str(second), "-c", "lrs", "--batch-size", "100",
                                  "--in-flight", "2")  # fmt: skip
    wait_until(lambda: receiver.count >= 800 or process.poll() is not None, 60, "800 sent")
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "re-run the same command to resume" in stderr
    assert home.report()["interrupted"] is True
    sent_before = receiver.count
    (line_done,) = [row[2] for row in checkpoint_rows(home) if row[1] == str(first.resolve())]
    assert 0 < line_done < 2000
    receiver.delay = 0
    done = home.backfill(str(first), str(second), "-c", "lrs")
    assert done.returncode == 0, done.stderr
    expected = home.expected(first, second)
    assert set(receiver.ids) == set(expected)
    # Only what was in flight when interrupted went twice (same ids, so the LRS ignores it).
    assert sum(receiver.duplicates.values()) - len(receiver.duplicates) <= 2 * 100 + 10
    assert home.report()["read"] < 4000 and receiver.count - sent_before < len(expected)


def test_killed_backfill_resumes_from_its_last_checkpoint(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    log = write_log(tmp_path / "tracking.log.gz", 3000, seed=2)
    receiver.delay = 0.1
    process = home.start_backfill(str(log), "-c", "lrs", "--batch-size", "100", "--in-flight", "1")
    wait_until(lambda: receiver.count >= 1200 or process.poll() is not None, 60, "1200 sent")
    assert process.poll() is None, process.communicate()
    process.kill()  # kill -9: no chance to save anything more
    process.communicate()
    receiver.delay = 0
    done = home.backfill(str(log), "-c", "lrs")
    assert done.returncode == 0, done.stderr
    assert set(receiver.ids) == set(home.expected(log))
    assert home.report()["read"] < 3000  # resumed, not started over


def test_since_and_until_select_a_time_window(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    log = write_log(tmp_path / "tracking.log", 1000, seed=3)
    lines = log.read_bytes().splitlines()
    stamps = [parse_line(line).timestamp for line in lines]
    done = home.backfill(str(log), "-c", "lrs", "--since", stamps[200], "--until", stamps[700])
    assert done.returncode == 0, done.stderr
    inside = tmp_path / "inside.log"
    inside.write_bytes(b"\n".join(lines[200:700]) + b"\n")
    assert sorted(receiver.ids) == sorted(home.expected(inside))
    assert home.report()["outside_window"] == 500


def test_bad_lines_and_untranslatable_events_are_counted_with_reasons(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    good = [g.line() for g in generate(300, seed=4, unsupported=0.1)]
    lines = [*good[:100], b"not json at all", b'{"name": "x"}', b"", b"{broken", *good[100:]]
    log = tmp_path / "mixed.log"
    log.write_bytes(b"\n".join(lines) + b"\n")
    done = home.backfill(str(log), "-c", "lrs")
    assert done.returncode == 0, done.stderr
    report = home.report()
    assert report["read"] == 303  # the blank line is not an event
    assert sum(report["malformed"].values()) == 3
    assert any("mixed.log:101" in example for example in report["malformed_examples"])
    lrs = report["consumers"]["lrs"]
    unsupported = [f'"{name}"'.encode() for name, _, _ in UNSUPPORTED]  # no translation exists
    assert (
        sum(lrs["untranslatable"].values())
        == sum(1 for line in good if any(name in line for name in unsupported))
        > 0
    )
    assert "malformed line(s)" in done.stderr
    good_file = tmp_path / "good.log"
    good_file.write_bytes(b"\n".join(good) + b"\n")
    assert sorted(receiver.ids) == sorted(home.expected(good_file))


def test_transient_failures_are_retried_and_rejected_items_dead_lettered(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    log = write_log(tmp_path / "tracking.log", 600, seed=5)
    expected = home.expected(log)
    poison = expected[123]
    receiver.poison.add(poison)
    receiver.fail_next(3, 503)
    done = home.backfill(str(log), "-c", "lrs", "--batch-size", "200")
    assert done.returncode == 0, done.stderr
    assert set(receiver.ids) == set(expected) - {poison}
    report = home.report()["consumers"]["lrs"]
    assert report["dead_letters"] == 1 and report["retries"] >= 3
    with home.store() as store:
        (letter,) = store.dead_letters.list()
    assert letter.consumer == "lrs" and letter.status == 400 and letter.item["id"] == poison
    assert f"backfill of {log.resolve()}:" in letter.reason
    assert letter.event is not None and letter.event_name == letter.event["name"]


def test_refused_credentials_stop_the_backfill_and_a_fixed_consumer_resumes(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    log = write_log(tmp_path / "tracking.log", 500, seed=6)
    receiver.require_basic("user", "right")
    home.add_consumer(
        name="secured", protocol="xapi", url=receiver.url + "/lrs/statements", auth="basic",
        username="user", password="wrong",
    )  # fmt: skip
    done = home.backfill(str(log), "-c", "secured")
    assert done.returncode == 1
    assert "refused" in done.stderr and "401" in done.stderr
    assert receiver.count == 0
    with home.store() as store:
        store.consumers.update("secured", {"password": "right"})
    done = home.backfill(str(log), "-c", "secured")
    assert done.returncode == 0, done.stderr
    assert sorted(receiver.ids) == sorted(home.expected(log))


def test_several_consumers_and_protocols_at_once(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    log = write_log(tmp_path / "tracking.log", 500, seed=7)
    home.add_consumer(name="caliper", protocol="caliper", url=receiver.url + "/caliper")
    done = home.backfill(str(log), "-c", "lrs", "-c", "caliper", "--workers", "0")
    assert done.returncode == 0, done.stderr
    xapi = [r.id for r in receiver.received if r.kind == "xapi"]
    caliper = [r.id for r in receiver.received if r.kind == "caliper"]
    assert sorted(xapi) == sorted(home.expected(log))
    assert sorted(caliper) == sorted(home.expected(log, to="caliper"))
    assert set(paths(receiver)) == {"/lrs/statements", "/caliper"}
    unsupported = home.report()["consumers"]["caliper"]["untranslatable"]
    assert set(unsupported) == {"no caliper translation for this event"}


def test_logs_on_s3(
    tmp_path: Path, home: Home, receiver: Receiver, moto_s3: MotoS3, s3_bucket: str
) -> None:
    first, second = split_log(tmp_path, 1200, seed=8)
    client = moto_s3.client()
    client.put_object(Bucket=s3_bucket, Key="logs/tracking.log-1", Body=first.read_bytes())
    lines = gzip.decompress(second.read_bytes()).splitlines(keepends=True)
    members = gzip.compress(b"".join(lines[:100])) + gzip.compress(b"".join(lines[100:]))
    client.put_object(Bucket=s3_bucket, Key="logs/tracking.log-2.gz", Body=members)  # 2 members
    client.put_object(Bucket=s3_bucket, Key="other/ignored.log", Body=b"{}\n")
    done = home.backfill(f"s3://{s3_bucket}/logs/tracking.log-*", "-c", "lrs")
    assert done.returncode == 0, done.stderr
    assert sorted(receiver.ids) == sorted(home.expected(first, second))
    names = [f["name"] for f in home.report()["files"]]
    assert names == [f"s3://{s3_bucket}/logs/{name}" for name in (first.name, second.name)]


def test_unreadable_inputs_are_reported_and_the_others_still_sent(
    tmp_path: Path, home: Home, receiver: Receiver
) -> None:
    good = write_log(tmp_path / "c-good.log", 300, seed=9)
    early = tmp_path / "a-early.log.gz"  # broken in its first kilobytes
    early.write_bytes(gzip.compress(good.read_bytes())[:5000])
    source = write_log(tmp_path / "source.log", 3000, seed=10)
    late = tmp_path / "b-late.log.gz"  # broken after a few blocks of good lines
    whole = gzip.compress(source.read_bytes())
    late.write_bytes(whole[: len(whole) * 3 // 4])
    done = home.backfill(str(early), str(late), str(good), "-c", "lrs")
    assert done.returncode == 2, done.stderr
    files = {Path(f["name"]).name: f for f in home.report()["files"]}
    assert [files[name]["state"] for name in ("a-early.log.gz", "b-late.log.gz", "c-good.log")] == [
        "failed",
        "failed",
        "done",
    ]
    assert "a-early.log.gz" in files["a-early.log.gz"]["error"]
    assert "b-late.log.gz: read failed" in files["b-late.log.gz"]["error"]
    assert set(home.expected(good)) <= set(receiver.ids)
    rows = {Path(name).name: (line, done) for _, name, line, done in checkpoint_rows(home)}
    assert rows["c-good.log"] == (300, 1) and "a-early.log.gz" not in rows
    late_lines, late_done = rows["b-late.log.gz"]
    assert (
        late_done == 0 and 0 < late_lines < 3000 and files["b-late.log.gz"]["lines"] == late_lines
    )
    # What could be read of the broken file was delivered, and nothing more.
    readable = tmp_path / "readable.log"
    readable.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:late_lines]))
    assert set(home.expected(readable)) <= set(receiver.ids)


def test_clear_errors_for_bad_requests(tmp_path: Path, home: Home) -> None:
    log = write_log(tmp_path / "tracking.log", 10)
    missing = home.backfill(str(tmp_path / "nope-*.log"), "-c", "lrs")
    assert missing.returncode == 2 and "matches nothing" in missing.stderr
    unknown = home.backfill(str(log), "-c", "nobody")
    assert unknown.returncode == 2
    assert "no consumer named 'nobody'" in unknown.stderr and "bystander, lrs" in unknown.stderr
    window = home.backfill(str(log), "-c", "lrs", "--since", "2025-01-01", "--until", "2024-01-01")
    assert window.returncode == 2 and "--since must be before --until" in window.stderr
    no_consumer = home.backfill(str(log))
    assert no_consumer.returncode == 2 and "--consumer" in no_consumer.stderr
