"""How often each plugin ran, with what outcome and how long, per consumer.

Plugins run in the translation workers, other processes than the one `/metrics` answers from: a
worker adds up its figures and hands them over once per task (through a queue given at start),
and a thread of the router adds them to the totals. Nothing is counted when no plugin runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

log = logging.getLogger(__name__)

OUTCOMES = ("ok", "dropped", "failed")
# The consumer label of plugin translators run for a translation consumers share (same protocol
# and identity policy, no hooks): made once, at ingest or for the first consumer that asks.
SHARED = "(shared)"

Key = tuple[str, str, str, str]  # (consumer, plugin, stage, outcome)
Figures = dict[Key, list[float]]  # key → [calls, seconds]

_PENDING: Figures = {}
_TOTALS: Figures = {}
_LOCK = threading.Lock()
_QUEUE: Any = None  # in a worker: where `flush` sends its figures
_CONSUMER = [SHARED]  # on whose behalf plugins run now


@contextmanager
def on_behalf(consumer: str) -> Iterator[None]:
    """Plugins that run inside count for `consumer`."""
    before = _CONSUMER[0]
    _CONSUMER[0] = consumer
    try:
        yield
    finally:
        _CONSUMER[0] = before


def record(plugin: str, stage: str, outcome: str, seconds: float) -> None:
    key = (_CONSUMER[0], plugin, stage, outcome)
    found = _PENDING.get(key)
    if found is None:
        _PENDING[key] = [1, seconds]
    else:
        found[0] += 1
        found[1] += seconds


def send_to(queue: Any) -> None:
    """In a worker process: `flush` hands figures to `queue` instead of keeping them."""
    global _QUEUE
    _QUEUE = queue


def flush() -> None:
    """Hand over what was counted since the last flush (nothing to do when no plugin ran)."""
    if not _PENDING:
        return
    figures = dict(_PENDING)
    _PENDING.clear()
    if _QUEUE is not None:
        with suppress(OSError, ValueError):  # the router is going away: no figures matter then
            _QUEUE.put(figures)
        return
    add(figures)


def add(figures: Figures) -> None:
    with _LOCK:
        for key, (calls, seconds) in figures.items():
            found = _TOTALS.setdefault(key, [0, 0.0])
            found[0] += calls
            found[1] += seconds


def totals() -> Figures:
    """Every figure so far, this process's and its workers' (a copy)."""
    flush()
    with _LOCK:
        return {key: list(value) for key, value in _TOTALS.items()}


_RECEIVER: list[Any] = []  # this process's queue for its workers' figures (made once)


def worker_queue() -> Any:
    """The queue workers hand their figures to (read by a thread of this process), or None
    when no plugin is installed. One for the life of the process: a queue must outlive every
    worker that may still be starting with it."""
    from event_router.plugins.loader import installed

    if not installed():
        return None
    if not _RECEIVER:
        import multiprocessing

        queue = multiprocessing.get_context("spawn").Queue()
        threading.Thread(target=_receive, args=(queue,), name="plugin-figures", daemon=True).start()
        _RECEIVER.append(queue)
    return _RECEIVER[0]


def _receive(queue: Any) -> None:
    while True:
        try:
            figures = queue.get()
        except (EOFError, OSError, ValueError):
            return
        add(figures)
