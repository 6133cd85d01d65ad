"""The router's files are private: directories 0700, files 0600, whatever the umask.

The home holds the secret key, consumers' credentials (encrypted, but the key is beside them),
and learners' events (journal, spool, archives, backfill checkpoints). A umask of 022 would make
all of it readable by every local account, so each file is created with an explicit mode, and
`tighten` brings a home written by an older version (or copied in by hand) to the same modes at
start-up. SQLite creates a database's -wal, -shm and -journal files with the main file's mode,
which is why `private_file` creates the main file before SQLite opens it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """mkdir -p, each directory it creates 0700."""
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
            directory.chmod(DIR_MODE)  # mkdir's mode is masked by the umask


def private_file(path: Path) -> None:
    """Create `path` (empty) if missing, in a private directory; 0600 either way."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int) -> int:
    """os.open that creates the file 0600 (the umask cannot widen it; an existing file is
    tightened)."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def tighten(home: Path) -> None:
    """Make the home 0700 and everything in it private (directories 0700, files 0600).

    Symbolic links are not followed: what they point to belongs to whoever set them up.
    """
    if not home.is_dir():
        return
    home.chmod(DIR_MODE)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            _chmod(Path(root, name), DIR_MODE)
        for name in files:
            _chmod(Path(root, name), FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError):  # a spool segment or -shm may go meanwhile
        info = path.lstat()
        if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) != mode:
            path.chmod(mode)
