"""Child processes that end with the process that started them, even when it is killed -9.

A process-pool worker otherwise outlives a killed parent for good: it holds its own end of the
task queue, so it never sees the queue close, and it keeps the parent's log and pipes open.
With the `spawn` start method it also keeps multiprocessing's resource tracker alive: the parent
starts that tracker for the named semaphores of the pool's queues and passes its pipe to every
worker, and the tracker only exits (unlinking what was left) once every holder of that pipe is
gone. So a worker that ends with its parent takes the tracker down with it.

Every worker of `translate.pool.WorkerPool` calls `die_with(parent_pid)` as it starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

_PR_SET_PDEATHSIG = 1
_SIGNAL = signal.SIGUSR1  # unused elsewhere; ignored while the parent lives (see below)
POLL = 0.5  # seconds between two looks at the parent where the kernel does not tell


def die_with(parent: int) -> None:
    """End this process (exit status 1) as soon as `parent` is no longer its parent.

    On Linux the kernel signals at once (`prctl(PR_SET_PDEATHSIG)`). That signal also comes
    when the *thread* that started this process ends while the process lives on, so the handler
    exits only if this process was really orphaned. Everywhere (and should prctl be missing) a
    daemon thread polls `os.getppid()` as well.
    """
    if sys.platform.startswith("linux"):
        signal.signal(_SIGNAL, _on_parent_signal(parent))
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(_SIGNAL))
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before we could ask to be told
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _on_parent_signal(parent: int) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getppid() != parent:
            os._exit(1)

    return handler


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL)
    os._exit(1)
