"""Reading gzip data as `gzip -d` does: every member, in order, and nothing else after them.

A gzip file may hold several members (`cat a.gz b.gz`, logrotate's appends, our own archive
files); each member's data is part of the content. Bytes after the last member that are not a
member are an error (`GzipError`), never silently ignored: they may be events. NUL padding at
the very end (left by tape or block devices) is the one tolerated exception, as `gzip -d` and
Python's `gzip` tolerate it. Every source of gzip data (HTTP ingest, backfill, `transform`, the
tracking-log follower) reads through here, so they all agree on what a gzip stream holds.
"""

from __future__ import annotations

import io
import zlib
from typing import IO

_CHUNK = 1 << 16  # compressed bytes read at a time
_MAGIC = b"\x1f\x8b"


class GzipError(OSError):
    """Gzip data that is truncated, corrupt, or followed by something that is not gzip."""


class GzipStream(io.RawIOBase):
    """The decompressed content of every member of the gzip data read from `raw`.

    Reads are bounded: one call never inflates more than it was asked for, so a small
    compressed file cannot fill memory (a decompression bomb is read as slowly as any file).
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._inflater: zlib._Decompress | None = zlib.decompressobj(wbits=31)
        self._input = b""  # compressed bytes read but not yet inflated
        self._consumed = 0  # compressed bytes taken from `raw`, for messages
        self._done = False

    def readable(self) -> bool:
        return True

    @property
    def name(self) -> str:
        """The compressed file's name (messages name the file, as for any opened file)."""
        return str(getattr(self._raw, "name", "<gzip data>"))

    def close(self) -> None:
        """Closes `raw` too: the stream owns the file it reads."""
        if not self.closed:
            self._raw.close()
        super().close()

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        out = self._inflate(len(buffer))
        buffer[: len(out)] = out
        return len(out)

    def _inflate(self, size: int) -> bytes:
        while not self._done:
            if self._inflater is None and not self._next_member():
                self._done = True
                break
            assert self._inflater is not None
            data, self._input = self._input or self._read(), b""
            try:
                out = self._inflater.decompress(data, max(size, 1))
            except zlib.error as exc:
                raise GzipError(f"corrupt gzip data near byte {self._consumed}: {exc}") from None
            if self._inflater.eof:
                self._input = self._inflater.unused_data
                self._inflater = None
            else:
                self._input = self._inflater.unconsumed_tail
                if not data and not out:  # no more input, and the member is not finished
                    if not self._consumed:
                        raise GzipError("empty: no gzip data")
                    raise GzipError(
                        f"truncated gzip data: it ends inside a member (byte {self._consumed})"
                    )
            if out:
                return out
        return b""

    def _read(self) -> bytes:
        data = self._raw.read(_CHUNK)
        self._consumed += len(data)
        return data

    def _next_member(self) -> bool:
        """After a member's end: True if another member starts, False at a clean end."""
        while len(self._input) < len(_MAGIC):
            more = self._read()
            if not more:
                break
            self._input += more
        if not self._input:
            return False
        if self._input.startswith(_MAGIC):
            self._inflater = zlib.decompressobj(wbits=31)
            return True
        at = self._consumed - len(self._input)
        if self._input.startswith(b"\0") and not self._input.strip(b"\0"):
            while more := self._read():  # NUL padding: only NULs up to the end
                if more.strip(b"\0"):
                    break
            else:
                self._input = b""
                return False
        raise GzipError(f"trailing garbage after the gzip data (at byte {at}): not a gzip member")


def open_gzip(raw: IO[bytes]) -> io.BufferedReader:
    """A buffered reader (read, readline, peek, iteration) of every member of `raw`'s gzip
    data; errors in the data are `GzipError`, an `OSError` whose message says what is wrong."""
    return io.BufferedReader(GzipStream(raw), buffer_size=1 << 16)


def gunzip(data: bytes, limit: int) -> bytes:
    """All members of `data`, decompressed; `OverflowError` when that is more than `limit`
    bytes in total (across members: a bomb split in many members is still a bomb)."""
    out = open_gzip(io.BytesIO(data)).read(limit + 1)
    if len(out) > limit:
        raise OverflowError(f"decompressed data larger than {limit} bytes")
    return out
