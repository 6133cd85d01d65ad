"""Which files a backfill reads, and reading them as blocks of whole lines.

Paths, directories and globs, locally or at any fsspec URL (`s3://bucket/logs/*.gz`), in the order
given, each glob sorted by name. Files are opened by `event_router.reading` (gzip by name or
content) and read in large blocks cut after a newline (workers split them, so the main process
never touches single lines).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from event_router.reading import open_file, whole_lines, why

_GLOB_CHARACTERS = frozenset("*?[")
BLOCK = 1 << 20  # bytes per block handed to a worker (about a thousand tracking-log lines)
HEAD = 4096  # bytes that identify a file's content across runs (see `Reader.fingerprint`)


class InputError(OSError):
    """An input that cannot be listed or read; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Input:
    """One file to read: its name (absolute path or URL, the checkpoint key) and its size."""

    name: str
    size: int
    remote: bool


def expand(patterns: list[str]) -> list[Input]:
    """Every file the patterns name, in order; InputError for a pattern that names nothing."""
    found: list[Input] = []
    seen: set[str] = set()
    for pattern in patterns:
        matches = _remote(pattern) if "://" in pattern else _local(pattern)
        if not matches:
            raise InputError(f"{pattern}: no such file (or the glob matches nothing)")
        for item in matches:
            if item.name not in seen:
                seen.add(item.name)
                found.append(item)
    return found


def _local(pattern: str) -> list[Input]:
    if _GLOB_CHARACTERS & set(pattern):
        paths = [Path(p) for p in sorted(glob.glob(os.path.expanduser(pattern), recursive=True))]
    else:
        path = Path(pattern).expanduser()
        paths = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    out = []
    for path in paths:
        if path.is_dir():
            continue
        try:
            size = path.stat().st_size
        except OSError as exc:
            if not path.exists():
                return []
            raise InputError(f"{path}: {exc.strerror or exc}") from None
        out.append(Input(str(path.resolve()), size, remote=False))
    return out


def _remote(pattern: str) -> list[Input]:
    import fsspec  # type: ignore[import-untyped]  # only for URLs: its import is not free

    try:
        fs, path = fsspec.core.url_to_fs(pattern)
        if _GLOB_CHARACTERS & set(path):
            names = sorted(fs.glob(path))
        elif fs.isdir(path):
            names = sorted(fs.find(path))
        else:
            names = [path] if fs.exists(path) else []
        out = []
        for name in names:
            info = fs.info(name)
            if info.get("type") == "directory":
                continue
            out.append(Input(fs.unstrip_protocol(name), int(info.get("size") or 0), remote=True))
        return out
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"{pattern}: {exc}") from None
    except Exception as exc:  # cloud clients raise their own kinds
        raise InputError(f"{pattern}: {type(exc).__name__}: {exc}") from None


class Reader:
    """Blocks of whole lines from one input, with how far into the stored bytes it has read."""

    def __init__(self, item: Input) -> None:
        self.item = item
        try:
            self._file = open_file(item.name, remote=item.remote)  # closed by Reader.close
        except Exception as exc:  # OSError locally; anything from a cloud client
            raise InputError(f"{item.name}: cannot open: {why(exc)}") from None
        self._pending = b""
        self._eof = False
        self.head = b""

    @property
    def position(self) -> int:
        """Stored (possibly compressed) bytes consumed so far, for progress."""
        try:
            return int(self._file.raw.tell())
        except (OSError, ValueError):
            return 0

    def fingerprint(self) -> bytes:
        """The first `HEAD` bytes of the content (fewer if the file is shorter).

        A checkpoint is only trusted when the file still starts with the bytes it started with
        then: a log rotated under the same name, or replaced, is read again from the top.
        """
        while len(self._pending) < HEAD and not self._eof:
            self._fill()
        self.head = self._pending[:HEAD]
        return self.head

    def blocks(self) -> Iterator[bytes]:
        """Blocks ending with a newline (the last may not); raises InputError on a read error."""
        while True:
            while not self._eof and len(self._pending) < BLOCK:
                self._fill()
            if not self._pending:
                return
            if self._eof:
                block, self._pending = self._pending, b""
                yield block
                continue
            block, rest = whole_lines(self._pending)
            if not block:  # one line longer than everything held: read on
                self._fill()
                continue
            self._pending = rest
            yield block

    def _fill(self) -> None:
        try:
            data = self._file.content.read(BLOCK)
        except (OSError, EOFError, ValueError) as exc:
            raise InputError(f"{self.item.name}: read failed: {why(exc)}") from None
        except Exception as exc:  # cloud clients raise their own kinds
            raise InputError(f"{self.item.name}: read failed: {why(exc)}") from None
        if data:
            self._pending += data
        else:
            self._eof = True

    def close(self) -> None:
        self._file.close()
