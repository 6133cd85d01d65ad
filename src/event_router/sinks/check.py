"""What a sink's connection check ("Test connection" in the admin) answers, in one shape.

Each sink module that probes its endpoint in its own way (an LRS read, an archive write, a Redis
PING) builds its answer with these, so the admin shows every sink's result alike.
"""

from __future__ import annotations

import time
from typing import Any

from event_router.sinks.outcome import failure

BODY_LIMIT = 1000  # characters of the endpoint's answer shown


def result(request: str, **values: Any) -> dict[str, Any]:
    """`ok`, the HTTP `status`, `latency_ms`, the answer's `body` (excerpt), what was sent
    (`request`) and a one-line `verdict` for people."""
    return {
        "request": request,
        "ok": values.pop("ok", False),
        "status": values.pop("status", None),
        "latency_ms": values.pop("latency_ms", None),
        "body": values.pop("body", ""),
        **values,
    }


def failed(request: str, exc: BaseException, started: float) -> dict[str, Any]:
    """No answer at all (`started`: `time.perf_counter()` when the request began)."""
    outcome = failure(exc, latency=time.perf_counter() - started)
    latency = round(outcome.latency * 1000, 1)
    return result(request, latency_ms=latency, body=outcome.detail, verdict="no answer")
