"""Reading inputs in blocks of whole lines, naming them, and recognising them across runs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from event_router.backfill import inputs
from event_router.backfill.checkpoints import Busy, Checkpoints
from event_router.backfill.inputs import Input, InputError, Reader, expand
from event_router.backfill.runner import line_count


def read_all(path: Path) -> list[bytes]:
    reader = Reader(Input(str(path), path.stat().st_size, remote=False))
    try:
        reader.fingerprint()
        return list(reader.blocks())
    finally:
        reader.close()


@pytest.mark.parametrize("name", ["plain.log", "packed.log.gz", "packed-without-suffix"])
def test_blocks_are_whole_lines_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(inputs, "BLOCK", 1000)
    lines = [f'{{"n": {i}, "pad": "{"x" * (i % 300)}"}}'.encode() for i in range(400)]
    lines[50] = b"y" * 5000  # longer than a block
    data = b"\n".join(lines)  # no newline at the very end
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name != "plain.log" else data)
    blocks = read_all(path)
    assert len(blocks) > 10
    assert all(block.endswith(b"\n") for block in blocks[:-1])
    assert b"".join(blocks) == data
    assert sum(line_count(block) for block in blocks) == 400


def test_a_truncated_gzip_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.log.gz"
    path.write_bytes(gzip.compress(b"line\n" * 100_000)[:200])
    with pytest.raises(InputError, match=r"cut\.log\.gz: read failed"):
        read_all(path)


def test_expand_keeps_the_order_given_sorts_globs_and_drops_repeats(tmp_path: Path) -> None:
    for name in ("b.log", "a.log", "c.log.gz", "sub/d.log"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    found = expand([str(tmp_path / "c.log.gz"), str(tmp_path / "*.log"), str(tmp_path / "a.log")])
    assert [Path(i.name).name for i in found] == ["c.log.gz", "a.log", "b.log"]
    assert [Path(i.name).name for i in expand([str(tmp_path)])] == ["a.log", "b.log", "c.log.gz"]
    assert [Path(i.name).name for i in expand([str(tmp_path / "**" / "*.log")])] == [
        "a.log",
        "b.log",
        "d.log",
    ]
    with pytest.raises(InputError, match="no such file"):
        expand([str(tmp_path / "missing.log")])


def test_checkpoints_trust_only_the_same_file(tmp_path: Path) -> None:
    checkpoints = Checkpoints(tmp_path)
    head = b"first line\nsecond line\n"
    checkpoints.save("lrs", "/logs/tracking.log", head, 2, False)
    checkpoints.flush()
    assert checkpoints.get("lrs", "/logs/tracking.log", head + b"more\n") is not None  # it grew
    assert checkpoints.get("lrs", "/logs/tracking.log", b"other content\n") is None  # rotated
    assert checkpoints.get("other", "/logs/tracking.log", head) is None
    with pytest.raises(Busy, match="another backfill"):
        Checkpoints(tmp_path)
    assert checkpoints.forget(["lrs"], ["/logs/tracking.log"]) == 1
    checkpoints.close()
    Checkpoints(tmp_path).close()  # the lock went with the first one


def test_every_gzip_member_is_read_and_trailing_garbage_is_an_input_error(
    tmp_path: Path,
) -> None:
    """`cat a.gz b.gz` holds both (as `gzip -d` reads it), NUL padding at the end included;
    anything else after the last member is an error naming the file, never dropped quietly."""
    first, second = b"one\ntwo\n", b"three\nfour\n"
    joined = tmp_path / "joined.log.gz"
    joined.write_bytes(gzip.compress(first) + gzip.compress(second) + b"\0" * 512)
    assert b"".join(read_all(joined)) == first + second
    garbage = tmp_path / "garbage.log.gz"
    garbage.write_bytes(gzip.compress(first) + gzip.compress(second) + b"GARBAGE")
    with pytest.raises(InputError, match=r"garbage\.log\.gz: read failed: trailing garbage"):
        read_all(garbage)
