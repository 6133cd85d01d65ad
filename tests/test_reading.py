"""The one file reader: what every reader (follower, backfill, transform) agrees a file holds."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import orjson
import pytest

from event_router import reading
from event_router.backfill.inputs import Input, Reader
from event_router.gunzip import GzipError
from event_router.sources.rotation import open_log

LINES = [orjson.dumps({"event_type": f"e{i}", "time": "2026-12-06T00:00:00Z"}) for i in range(50)]
DATA = b"\n".join(LINES) + b"\n"


def write(tmp_path: Path, name: str, data: bytes, packed: bool) -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data[:100]) + gzip.compress(data[100:]) if packed else data)
    return path


@pytest.mark.parametrize(
    ("name", "packed"), [("plain.log", False), ("packed.log.gz", True), ("no-suffix", True)]
)
def test_every_reader_sees_the_same_content(tmp_path: Path, name: str, packed: bool) -> None:
    path = write(tmp_path, name, DATA, packed)  # two gzip members: both are read
    opened = reading.open_file(path)
    try:
        assert opened.content.read() == DATA
        assert opened.packed is packed
    finally:
        opened.close()
    assert opened.raw.closed and opened.content.closed

    reader = Reader(Input(str(path), path.stat().st_size, remote=False))
    try:
        assert b"".join(reader.blocks()) == DATA
    finally:
        reader.close()

    assert [data for _, data in reading.read_raw(str(path))] == [line + b"\n" for line in LINES]


def test_the_follower_goes_by_the_name_alone(tmp_path: Path) -> None:
    """A followed log is seeked in: only a `.gz` name makes it a compressed copy."""
    path = write(tmp_path, "tracking.log", DATA, packed=True)
    handle, inode = open_log(path)
    try:
        assert handle.read(2) == reading.GZIP_MAGIC  # the stored bytes, not inflated
        assert inode == path.stat().st_ino
    finally:
        handle.close()
    renamed = path.rename(tmp_path / "tracking.log.1.gz")
    handle, _ = open_log(renamed)
    try:
        assert handle.read() == DATA
    finally:
        handle.close()


def test_damaged_gzip_is_an_error_for_every_reader(tmp_path: Path) -> None:
    path = tmp_path / "bad.log.gz"
    path.write_bytes(gzip.compress(DATA) + b"not gzip")
    with pytest.raises(GzipError):
        list(reading.read_raw(str(path)))
    reader = Reader(Input(str(path), path.stat().st_size, remote=False))
    try:
        with pytest.raises(OSError, match="read failed"):
            list(reader.blocks())
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("data", "whole", "rest"),
    [(b"a\nb\nc", b"a\nb\n", b"c"), (b"a\n", b"a\n", b""), (b"abc", b"", b"abc"), (b"", b"", b"")],
)
def test_whole_lines(data: bytes, whole: bytes, rest: bytes) -> None:
    assert reading.whole_lines(data) == (whole, rest)


def test_items_of_each_shape(tmp_path: Path) -> None:
    one = {"event_type": "x", "time": "2026-12-06T00:00:00Z"}
    array = tmp_path / "array.json"
    array.write_bytes(orjson.dumps([one, one]))
    pretty = tmp_path / "pretty.json"
    pretty.write_bytes(orjson.dumps(one, option=orjson.OPT_INDENT_2))
    assert [loc for loc, _ in reading.read_raw(str(array))] == [f"{array}:[0]", f"{array}:[1]"]
    assert [loc for loc, _ in reading.read_raw(str(pretty))] == [f"{pretty}:1"]
    item = reading.parse_raw(("here:3", b"not json"))
    assert item.event is None and item.error is not None and item.location == "here:3"


def test_standard_input_is_read_gzipped_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BufferedReader(io.BytesIO(gzip.compress(DATA))))
    monkeypatch.setattr(sys, "stdin", stdin)
    items = list(reading.read_raw(reading.STDIN))
    assert len(items) == len(LINES) and items[0][0] == "<stdin>:1"
