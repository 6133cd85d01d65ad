"""A local spool of NDJSON lines for events the router could not take yet (LMS side, stdlib only).

Every process writes to its own segment file (`<time_ns>-<pid>.ndjson`) and holds an exclusive
`flock` on it while writing, so the many worker processes of an LMS share one directory safely.
A segment is replayed by whoever can lock it: the process that wrote it (after rotating to a new
segment), or any process once the writer died (the kernel drops a dead process's locks). A
replayed segment is deleted; if the router fails half-way, the unsent lines are written back.
Replays can repeat a few events after a crash; the router's deterministic ids make that harmless.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from event_router.home import open_private, private_dir, tighten

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: one process per spool directory then
    fcntl = None  # type: ignore[assignment]

_SUFFIX = ".ndjson"


class SpoolFull(OSError):
    """The spool reached its size limit: the event is dropped rather than filling the disk."""


class Spool:
    """Append lines; replay whole segments through a `send(lines) -> bool` callable."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int = 512 * 1024 * 1024):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._pid = os.getpid()
        self._size = -1  # bytes in the directory, counted lazily
        self.dirty = False  # lines appended since the last rotation (not yet in a replay)
        with contextlib.suppress(OSError):  # segments spooled by an older version were 0644
            tighten(self.directory)

    def append(self, lines: Sequence[bytes]) -> None:
        """Write lines to this process's current segment (raises SpoolFull or OSError)."""
        data = b"".join(line + b"\n" for line in lines)
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's file and lock are not ours
                self._handle, self._pid, self._size = None, os.getpid(), -1
            if self._size < 0:
                self._size = self._measure()
            if self._size + len(data) > self.max_bytes:
                raise SpoolFull(f"spool {self.directory} holds {self._size} bytes (limit reached)")
            if self._handle is None:
                self._handle = self._open_segment()
            self._handle.write(data)
            self._handle.flush()
            self._size += len(data)
            self.dirty = True

    def pending(self) -> bool:
        """Whether any segment (ours or an orphan) may hold lines."""
        with contextlib.suppress(FileNotFoundError):
            return any(p.suffix == _SUFFIX for p in self.directory.iterdir())
        return False

    def replay(self, send: Callable[[list[bytes]], bool], batch: int) -> bool:
        """Send every lockable segment, oldest first; False as soon as `send` fails."""
        self.rotate()
        for path in sorted(self._segments()):
            with self._locked(path) as handle:
                if handle is None:
                    continue  # another live process is writing or replaying it
                lines = [line.rstrip(b"\n") for line in handle if line.strip()]
                for start in range(0, len(lines), batch):
                    if not send(lines[start : start + batch]):
                        self._rewrite(path, lines[start:])
                        return False
                path.unlink(missing_ok=True)
                with self._lock:
                    self._size = -1
        return True

    def rotate(self) -> None:
        """Close the current segment so that it can be replayed; appends open a new one."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()  # releases our lock on it
                self._handle = None
            self.dirty = False

    # -- files --

    def _segments(self) -> Iterator[Path]:
        with contextlib.suppress(FileNotFoundError):
            yield from (p for p in self.directory.iterdir() if p.suffix == _SUFFIX)

    def _measure(self) -> int:
        total = 0
        for path in self._segments():
            with contextlib.suppress(FileNotFoundError):
                total += path.stat().st_size
        return total

    def _open_segment(self) -> IO[bytes]:
        private_dir(self.directory)
        path = self.directory / f"{time.time_ns():020d}-{os.getpid()}{_SUFFIX}"
        # Learners' events: 0600 whatever the LMS's umask; kept open while this process spools.
        handle = os.fdopen(open_private(path, os.O_WRONLY | os.O_APPEND), "ab")
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[IO[bytes] | None]:
        try:
            handle = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            yield None
            return
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield None
                    return
            yield handle
        finally:
            handle.close()

    def _rewrite(self, path: Path, lines: list[bytes]) -> None:
        """Keep only the unsent lines of a segment (written aside, then renamed over it)."""
        tmp = path.with_suffix(".tmp")
        with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as out:
            out.write(b"".join(line + b"\n" for line in lines))
        os.replace(tmp, path)
        with self._lock:
            self._size = -1
