"""An event-tracking backend for the LMS that forwards every tracking event to the router.

Add it to the LMS's `EVENT_TRACKING_BACKENDS` (see docs/integration.md):

    "event_router": {
        "ENGINE": "event_router.integrations.eventtracking.EventRouterBackend",
        "OPTIONS": {"url": "http://router:8400", "token": "…", "spool_dir": "/openedx/data/…"},
    }

A learner's request must never wait for, or fail because of, the router. `send` only serialises
the event and puts it in a bounded in-memory buffer; a background thread sends batches as NDJSON
to `POST /api/v1/events` with the bearer token. When the router cannot take them (down, 5xx,
507 journal full, timeout, wrong token), batches go to a local spool directory and are replayed,
oldest first, once it answers again; while the spool holds anything, new events queue behind it
so the order is kept. When the buffer is full the request thread appends to the spool itself.
Only a full spool (`max_spool_bytes`) drops events, counted and logged. Events the router rejects
as invalid (400 with per-item errors) are logged and not retried.

Only the standard library is used, so the module runs inside any LMS Python environment.
"""

from __future__ import annotations

import atexit
import gzip
import json
import logging
import os
import queue
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from typing import Any

from event_router.integrations.spool import Spool, SpoolFull

log = logging.getLogger(__name__)
INGEST_PATH = "/api/v1/events"


def encode_event(event: dict[str, Any]) -> bytes:
    """One event as compact JSON; datetimes as event-tracking writes them (UTC ISO 8601), so the
    router derives the same statement ids as from the tracking log."""

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            return aware.astimezone(UTC).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)  # UUIDs, opaque keys, Decimals...

    return json.dumps(event, default=default, separators=(",", ":")).encode()


class EventRouterBackend:
    """Forwards events to the router without ever blocking or failing the caller."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        spool_dir: str | None = None,
        buffer_size: int = 10_000,
        batch_size: int = 500,
        linger: float = 0.2,
        timeout: float = 5.0,
        max_spool_bytes: int = 512 * 1024 * 1024,
        compress: bool = True,
        **_ignored: Any,
    ) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith(INGEST_PATH) else base + INGEST_PATH
        self.token = token
        if not token:
            log.warning(
                "event router backend has no token: the router refuses its events (kept in the "
                "spool) unless it has no EVENT_ROUTER_INGEST_TOKEN and runs with --ingest-open"
            )
        directory = spool_dir or os.path.join(tempfile.gettempdir(), "event-router-spool")
        self.spool = Spool(directory, max_spool_bytes)
        self.buffer_size = buffer_size
        self.batch_size = batch_size
        self.linger = linger
        self.timeout = timeout
        self.compress = compress
        self.stats: dict[str, int] = dict.fromkeys(
            ("sent", "spooled", "replayed", "rejected", "dropped", "failures"), 0
        )
        self._pid = -1
        self._start_lock = threading.Lock()

    # -- the LMS side: called in the learner's request --

    def send(self, event: dict[str, Any]) -> None:
        try:
            line = encode_event(event)
            if self._pid != os.getpid():
                self._start()
            try:
                self._queue.put_nowait(line)
            except queue.Full:
                self._to_spool([line])  # the sender is behind: disk, not memory, takes it
        except Exception:  # never let the router's problems reach the learner
            self._count("dropped")
            log.exception("event router backend could not take an event")

    def _start(self) -> None:
        """Start (or, after a fork, restart) the sender thread for this process."""
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._queue: queue.Queue[bytes] = queue.Queue(self.buffer_size)
            self._stop = threading.Event()
            self._down_until = 0.0
            self._backoff = 0.0
            self._replay_failed = False
            self._thread = threading.Thread(
                target=self._run, name="event-router-sender", daemon=True
            )
            self._pid = os.getpid()
            self._thread.start()
            atexit.register(self.close)

    # -- sending, in the background thread --

    def _run(self) -> None:
        next_scan = 0.0
        while not self._stop.is_set():
            batch = self._take()
            try:
                now = time.monotonic()
                if now >= self._down_until and (self._backlog or now >= next_scan):
                    next_scan = now + 30  # look for orphaned segments now and then
                    self._replay_failed = not self.spool.replay(self._replayed, self.batch_size)
                if batch:
                    if self._backlog or time.monotonic() < self._down_until:
                        self._to_spool(batch)  # keep the order: behind what is spooled
                    elif not self._post(batch):
                        self._to_spool(batch)
            except Exception:
                log.exception("event router sender failed; events kept in the spool")
                self._to_spool(batch)
            finally:
                self._done(len(batch))

    @property
    def _backlog(self) -> bool:
        """Spooled events wait: new ones must queue behind them."""
        return self._replay_failed or self.spool.dirty

    def _take(self) -> list[bytes]:
        """The next batch: up to `batch_size` lines, `linger` seconds after the first arrived."""
        try:
            batch = [self._queue.get(timeout=0.5)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.linger
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                if remaining > 0:
                    batch.append(self._queue.get(timeout=remaining))
                else:
                    batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _done(self, count: int) -> None:
        for _ in range(count):
            self._queue.task_done()

    def _replayed(self, lines: list[bytes]) -> bool:
        ok = self._post(lines)
        if ok:
            self._count("replayed", len(lines))
        return ok

    def _post(self, lines: list[bytes]) -> bool:
        """Send one batch; True when the router has it (or refused it for good)."""
        body = b"\n".join(lines) + b"\n"
        headers = {"Content-Type": "application/x-ndjson", "User-Agent": "event-router-lms"}
        if self.compress:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
            self._healthy(len(lines))
            return True
        except urllib.error.HTTPError as answer:
            detail = answer.read()[:2048]
            status = answer.code
        except (OSError, ValueError) as exc:  # refused, reset, timeout, DNS...
            return self._failed(f"router unreachable: {exc}")
        if status == 400:
            self._healthy(len(lines) - self._invalid(lines, detail))
            return True
        if status == 413 and len(lines) > 1:
            half = len(lines) // 2
            return self._post(lines[:half]) and self._post(lines[half:])
        if status == 413:
            self._count("rejected")
            log.error("event router refused an event larger than its body limit; dropped")
            return True
        text = detail.decode("utf-8", "replace")
        return self._failed(f"router answered {status}: {text}", fatal=status in (401, 403, 404))

    def _healthy(self, sent: int) -> None:
        self._count("sent", sent)
        if self._backoff:
            log.info("event router reachable again at %s", self.url)
        self._backoff = 0.0
        self._down_until = 0.0

    def _failed(self, reason: str, fatal: bool = False) -> bool:
        self._count("failures")
        self._backoff = 60.0 if fatal else min(max(self._backoff * 2, 0.5), 30.0)
        self._down_until = time.monotonic() + self._backoff
        level = logging.ERROR if fatal or self._backoff >= 30 else logging.WARNING
        log.log(level, "%s; spooling, retry in %.1f s", reason, self._backoff)
        return False

    def _invalid(self, lines: list[bytes], detail: bytes) -> int:
        """The router took the valid events and said why it refused the others (counted)."""
        try:
            errors = json.loads(detail).get("errors", [])
        except (ValueError, AttributeError):
            errors = [{"index": None, "error": detail.decode("utf-8", "replace")}]
        for error in errors:
            self._count("rejected")
            index = error.get("index")
            event = lines[index][:300] if isinstance(index, int) and index < len(lines) else b""
            log.warning("event router rejected an event (%s): %s", error.get("error"), event)
        return len(errors)

    def _to_spool(self, lines: list[bytes]) -> None:
        if not lines:
            return
        try:
            self.spool.append(lines)
            self._count("spooled", len(lines))
        except (SpoolFull, OSError) as exc:
            self._count("dropped", len(lines))
            log.error("event router spool cannot take %d event(s): %s", len(lines), exc)

    def _count(self, key: str, n: int = 1) -> None:
        with self._start_lock:
            self.stats[key] += n

    # -- lifecycle --

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the buffer is empty and the batch in hand is sent or spooled."""
        if self._pid != os.getpid():
            return True
        deadline = time.monotonic() + timeout
        done = self._queue.all_tasks_done  # notified when every item taken is marked done
        with done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                done.wait(remaining)
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Stop the sender; whatever is still buffered goes to the spool (nothing is lost)."""
        if self._pid != os.getpid():
            return
        self.flush(timeout)
        self._stop.set()
        self._thread.join(timeout)
        left: list[bytes] = []
        while True:
            try:
                left.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._to_spool(left)
        self.spool.rotate()
        self._pid = -1
