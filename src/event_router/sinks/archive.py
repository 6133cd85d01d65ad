"""Archive sink: gzip JSON lines, one file per consumer per UTC hour, local or on S3.

A batch is DELIVERED only once it is durable. Locally each batch is appended as one complete gzip
member and fsynced (concatenated members are a valid gzip file, readable by `zcat` and Python's
`gzip`). S3 cannot append, so each batch is its own object, named by the hour and a digest of its
content: a retried batch overwrites the same object instead of duplicating it.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import hashlib
import logging
import mmap
import os
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from event_router.home import DIR_MODE, open_private, private_file
from event_router.routing.consumer import Consumer
from event_router.sinks.base import Sink
from event_router.sinks.check import failed, result
from event_router.sinks.destinations import DestinationRefused, Guard, s3_endpoint
from event_router.sinks.outcome import Outcome, Verdict, failure
from event_router.sinks.registry import SinkType, register

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_MEMBER_MAGIC = b"\x1f\x8b\x08"  # gzip magic and the deflate method
_OPERATOR_ERRORS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR})


def _utcnow() -> datetime:
    return datetime.now(UTC)


def encode_lines(items: Sequence[bytes]) -> bytes:
    """JSON lines; an item that spans lines (pretty-printed) is re-serialised onto one."""
    lines = [orjson.dumps(orjson.loads(item)) if b"\n" in item else item for item in items]
    return b"\n".join(lines) + b"\n"


def hour_path(when: datetime) -> str:
    """`YYYY/MM/DD/HH` of the UTC hour of `when`."""
    return when.astimezone(UTC).strftime("%Y/%m/%d/%H")


def build_archive(consumer: Consumer) -> Sink:
    """The local or S3 archive for the consumer's url (`/dir`, `file:///dir`, `s3://bucket/pfx`)."""
    if consumer.url.startswith("s3://"):
        return S3ArchiveSink(consumer)
    return LocalArchiveSink(consumer)


class LocalArchiveSink:
    """Appends one fsynced gzip member per batch to `<dir>/<consumer>/YYYY/MM/DD/HH.jsonl.gz`.

    One process writes a consumer's files (concurrent sends in it are serialised by a lock); a
    crash mid-append leaves a torn last member, which is cut off before the next append to that
    file (that batch was not acknowledged, so it is sent again).
    """

    def __init__(self, consumer: Consumer, clock: Clock = _utcnow) -> None:
        self.root = Path(consumer.url.removeprefix("file://")) / consumer.name
        self._clock = clock
        self._lock = threading.Lock()  # a thread, not the event loop, holds it while writing
        self._checked: list[Path] = []

    def path_for(self, when: datetime) -> Path:
        return self.root / f"{hour_path(when)}.jsonl.gz"

    async def send(self, items: Sequence[bytes]) -> Outcome:
        started = time.perf_counter()
        member = gzip.compress(encode_lines(items), mtime=0)
        path = self.path_for(self._clock())
        try:
            await asyncio.to_thread(self._append, path, member)
        except OSError as error:
            pause = error.errno in _OPERATOR_ERRORS  # retrying cannot fix these
            return failure(error, latency=time.perf_counter() - started, pause=pause)
        return Outcome(Verdict.DELIVERED, detail=str(path), latency=time.perf_counter() - started)

    async def close(self) -> None:
        return None

    def _append(self, path: Path, member: bytes) -> None:
        with self._lock:
            if path not in self._checked:
                _makedirs_durably(path.parent)
                _cut_torn_tail(path)
                self._checked = [*self._checked[-3:], path]
            created = not path.exists()
            fd = open_private(path, os.O_WRONLY | os.O_APPEND)
            try:
                start = os.fstat(fd).st_size
                try:
                    _write_all(fd, member)
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, start)  # never leave half a member behind
                    raise
            finally:
                os.close(fd)
            if created:
                _fsync_dir(path.parent)


def s3_filesystem() -> Any:
    """S3 as the standard AWS configuration describes it (s3fs is imported only when used)."""
    import s3fs  # type: ignore[import-untyped]

    return s3fs.S3FileSystem(skip_instance_cache=True)


class S3ArchiveSink:
    """Puts one object per batch: `<prefix>/<consumer>/YYYY/MM/DD/HH-<digest>.jsonl.gz`.

    Endpoint and credentials come from the standard AWS configuration (`AWS_ENDPOINT_URL`,
    `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, profiles, instance roles).
    """

    def __init__(self, consumer: Consumer, clock: Clock = _utcnow, fs: Any = None) -> None:
        self._fs = fs if fs is not None else s3_filesystem()
        self.prefix = f"{consumer.url.removeprefix('s3://').strip('/')}/{consumer.name}"
        self._clock = clock
        self._destination = Guard(s3_endpoint)

    def key_for(self, when: datetime, lines: bytes) -> str:
        digest = hashlib.sha256(lines).hexdigest()[:20]
        return f"{self.prefix}/{hour_path(when)}-{digest}.jsonl.gz"

    async def send(self, items: Sequence[bytes]) -> Outcome:
        started = time.perf_counter()
        lines = encode_lines(items)
        key = self.key_for(self._clock(), lines)
        try:
            await self._destination.check()
        except DestinationRefused as error:
            return failure(error, latency=time.perf_counter() - started, pause=True)
        try:
            await asyncio.to_thread(self._fs.pipe_file, key, gzip.compress(lines, mtime=0))
        except (PermissionError, FileNotFoundError) as error:  # denied, or no such bucket
            return failure(error, latency=time.perf_counter() - started, pause=True)
        except Exception as error:  # botocore/aiohttp errors vary; all of them are transient
            return failure(error, latency=time.perf_counter() - started)
        latency = time.perf_counter() - started
        return Outcome(Verdict.DELIVERED, detail=f"s3://{key}", latency=latency)

    async def close(self) -> None:
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _makedirs_durably(path: Path) -> None:
    """mkdir -p, fsyncing each parent that gained an entry so the new file can be found later."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        directory.chmod(DIR_MODE)  # learners' events: private whatever the umask
        _fsync_dir(directory.parent)


def _cut_torn_tail(path: Path) -> None:
    """Truncate the file after its last complete gzip member (a crash can tear the last one)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    good = _complete_length(path)
    if good < size and _member_after(path, good):
        # Damage in the middle (a crash only ever tears the last write): cutting would lose the
        # delivered batches after it, so the file is set aside whole and a new one begun.
        aside = path.with_name(f"{path.name}.damaged-{time.time_ns()}")
        log.error("archive %s: damaged before byte %d, batches follow; kept as %s", path, size,
                  aside)  # fmt: skip
        os.replace(path, aside)
        _fsync_dir(path.parent)
    elif good < size:
        log.warning("archive %s: cutting %d bytes of an incomplete batch", path, size - good)
        with path.open("r+b") as file:
            file.truncate(good)
            os.fsync(file.fileno())


def _member_after(path: Path, start: int) -> bool:
    """Whether a complete gzip member begins somewhere after byte `start` of the file."""
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
        at = view.find(_MEMBER_MAGIC, start + 1)
        while at != -1:
            decoder = zlib.decompressobj(wbits=31)
            try:
                for pos in range(at, len(view), 1 << 16):
                    decoder.decompress(view[pos : pos + (1 << 16)], 1 << 20)
                    while decoder.unconsumed_tail and not decoder.eof:
                        decoder.decompress(decoder.unconsumed_tail, 1 << 20)
                    if decoder.eof:
                        return True
            except zlib.error:
                pass
            at = view.find(_MEMBER_MAGIC, at + 1)
    return False


def _complete_length(path: Path) -> int:
    """Bytes taken by the complete gzip members at the start of the file."""
    good = pos = 0
    decoder = zlib.decompressobj(wbits=31)
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            while chunk:
                try:
                    decoder.decompress(chunk)
                except zlib.error:
                    return good
                if not decoder.eof:
                    pos += len(chunk)
                    break
                rest = decoder.unused_data
                pos += len(chunk) - len(rest)
                good = pos
                decoder = zlib.decompressobj(wbits=31)
                chunk = rest
    return good


async def check_archive(consumer: Consumer) -> dict[str, Any]:
    """A small probe file written and removed (in the directory, or under the S3 prefix)."""
    return await asyncio.to_thread(_probe_archive, consumer)


def _probe_archive(consumer: Consumer) -> dict[str, Any]:
    started = time.perf_counter()
    probe = f".connection-test-{uuid.uuid4().hex[:8]}"
    if consumer.url.startswith("s3://"):
        key = f"{consumer.url.removeprefix('s3://').strip('/')}/{consumer.name}/{probe}"
        request = f"PUT and DELETE s3://{key}"
        try:
            fs = s3_filesystem()
            fs.pipe_file(key, b"")
            fs.rm_file(key)
        except Exception as exc:  # botocore errors vary; report whichever it is
            return failed(consumer, request, exc, started)
    else:
        root = Path(consumer.url.removeprefix("file://")) / consumer.name
        request = f"write and remove {root / probe}"
        try:
            path = root / probe
            private_file(path)
            os.unlink(path)
        except OSError as exc:
            return failed(consumer, request, exc, started)
    latency = round((time.perf_counter() - started) * 1000, 1)
    return result(request, ok=True, latency_ms=latency, verdict="the archive is writable")


register(
    SinkType(
        "archive",
        build_archive,
        "gzip JSON lines, one file per hour, local or S3",
        check=check_archive,
    )
)
