"""The archive sink: local gzip JSON-lines files per hour, and one S3 object per batch (moto)."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_router.routing.consumer import Consumer
from event_router.sinks import Verdict, build_sink
from event_router.sinks.archive import LocalArchiveSink, S3ArchiveSink
from tests.peers.payloads import encode, send, statement
from tests.peers.s3 import MotoS3


class Clock:
    """A settable UTC clock."""

    def __init__(self, when: datetime) -> None:
        self.now = when

    def __call__(self) -> datetime:
        return self.now


def archive(url: str) -> Consumer:
    return Consumer(name="warehouse", protocol="xapi", sink="archive", url=url)


def lines(data: bytes) -> list[Any]:
    return [orjson.loads(line) for line in gzip.decompress(data).splitlines()]


def test_local_files_per_hour_hold_every_batch_as_a_gzip_member(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 5, 1, 10, 59, 59, tzinfo=UTC))
    sink = LocalArchiveSink(archive(str(tmp_path)), clock=clock)
    first, second, third = (
        [statement() for _ in range(3)],
        [statement()],
        [statement() for _ in range(2)],
    )
    outcomes = [send(sink, encode(*first))[0]]
    outcomes += send(sink := LocalArchiveSink(archive(str(tmp_path)), clock=clock), encode(*second))
    clock.now = datetime(2024, 5, 1, 11, 0, 0, tzinfo=UTC)
    outcomes += send(sink, encode(*third))
    assert [o.verdict for o in outcomes] == [Verdict.DELIVERED] * 3
    ten = tmp_path / "warehouse/2024/05/01/10.jsonl.gz"
    eleven = tmp_path / "warehouse/2024/05/01/11.jsonl.gz"
    assert outcomes[0].detail == str(ten) and outcomes[2].detail == str(eleven)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.gz")) == [
        "warehouse/2024/05/01/10.jsonl.gz",
        "warehouse/2024/05/01/11.jsonl.gz",
    ]
    assert lines(ten.read_bytes()) == first + second
    assert lines(eleven.read_bytes()) == third
    with gzip.open(ten, "rt") as file:  # members read as one stream, as zcat does
        assert len(file.readlines()) == 4


def test_the_hour_is_the_utc_hour_of_sending(tmp_path: Path) -> None:
    from datetime import timedelta, timezone

    paris = timezone(timedelta(hours=2))
    sink = LocalArchiveSink(
        archive(str(tmp_path)), clock=lambda: datetime(2024, 5, 1, 1, 30, tzinfo=paris)
    )
    send(sink, encode(statement()))
    assert (tmp_path / "warehouse/2024/04/30/23.jsonl.gz").exists()


def test_a_torn_last_member_is_cut_before_appending(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 5, 1, 10, tzinfo=UTC))
    kept, lost, later = statement(), statement(), statement()
    send(LocalArchiveSink(archive(str(tmp_path)), clock=clock), encode(kept))
    path = tmp_path / "warehouse/2024/05/01/10.jsonl.gz"
    torn = gzip.compress(orjson.dumps(lost) + b"\n")[:-9]  # a crash in the middle of a write
    with path.open("ab") as file:
        file.write(torn)
    (outcome,) = send(LocalArchiveSink(archive(str(tmp_path)), clock=clock), encode(later))
    assert outcome.verdict is Verdict.DELIVERED
    assert lines(path.read_bytes()) == [kept, later]


def test_multi_line_items_become_one_line_and_file_urls_work(tmp_path: Path) -> None:
    pretty = orjson.dumps(statement(), option=orjson.OPT_INDENT_2)
    consumer = archive(f"file://{tmp_path}")
    (outcome,) = send(consumer, [pretty])  # through build_sink
    assert outcome.verdict is Verdict.DELIVERED
    (path,) = tmp_path.rglob("*.jsonl.gz")
    assert lines(path.read_bytes()) == [orjson.loads(pretty)]


def test_concurrent_sends_each_land_whole(tmp_path: Path) -> None:
    batches = [encode(*(statement() for _ in range(5))) for _ in range(20)]

    async def run() -> list[Verdict]:
        sink = build_sink(archive(str(tmp_path)), secret_key="k")
        outcomes = await asyncio.gather(*(sink.send(batch) for batch in batches))
        await sink.close()
        return [o.verdict for o in outcomes]

    assert asyncio.run(run()) == [Verdict.DELIVERED] * 20
    stored = [line for path in tmp_path.rglob("*.gz") for line in lines(path.read_bytes())]
    assert sorted(s["id"] for s in stored) == sorted(
        orjson.loads(i)["id"] for batch in batches for i in batch
    )


def test_an_archive_path_through_a_file_pauses(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    (outcome,) = send(archive(str(blocker)), encode(statement()))
    assert outcome.verdict is Verdict.PAUSE
    assert "NotADirectoryError" in outcome.detail


# -- S3 --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_s3_one_object_per_batch_and_a_resent_batch_overwrites(
    moto_s3: MotoS3, s3_bucket: str
) -> None:
    clock = Clock(datetime(2024, 5, 1, 10, 15, tzinfo=UTC))
    first, second = [statement() for _ in range(3)], [statement()]
    consumer = archive(f"s3://{s3_bucket}/events/")
    sink = S3ArchiveSink(consumer, clock=clock)
    assert isinstance(build_sink(consumer, secret_key="k"), S3ArchiveSink)
    outcomes = send(sink, encode(*first), encode(*second), encode(*first))
    assert [o.verdict for o in outcomes] == [Verdict.DELIVERED] * 3
    assert outcomes[0].detail == outcomes[2].detail  # same content, same object
    objects = moto_s3.objects(s3_bucket)
    assert len(objects) == 2
    for key in objects:
        assert key.startswith("events/warehouse/2024/05/01/10-") and key.endswith(".jsonl.gz")
    assert sorted(map(lines, objects.values()), key=len) == [second, first]
    assert outcomes[0].detail.startswith(f"s3://{s3_bucket}/events/warehouse/2024/05/01/10-")


@pytest.mark.slow
def test_s3_missing_bucket_pauses(moto_s3: MotoS3, s3_bucket: str) -> None:
    (outcome,) = send(archive(f"s3://{s3_bucket}-missing/x"), encode(statement()))
    assert outcome.verdict is Verdict.PAUSE


def test_damage_with_batches_after_it_sets_the_file_aside_instead_of_cutting(
    tmp_path: Path,
) -> None:
    """Only the last write can be torn by a crash; damage followed by whole members (a bad
    disk, a hand edit) used to be cut away with every delivered batch after it."""
    clock = Clock(datetime(2024, 5, 1, 10, tzinfo=UTC))
    first, second, later = statement(), statement(), statement()
    path = tmp_path / "warehouse/2024/05/01/10.jsonl.gz"
    send(LocalArchiveSink(archive(str(tmp_path)), clock=clock), encode(first))
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # a flipped byte inside the first member
    path.write_bytes(bytes(damaged) + gzip.compress(orjson.dumps(second) + b"\n"))
    before = path.read_bytes()
    (outcome,) = send(LocalArchiveSink(archive(str(tmp_path)), clock=clock), encode(later))
    assert outcome.verdict is Verdict.DELIVERED
    (aside,) = path.parent.glob("10.jsonl.gz.damaged-*")
    assert aside.read_bytes() == before  # every byte kept, the whole batch after the damage too
    assert lines(path.read_bytes()) == [later]
