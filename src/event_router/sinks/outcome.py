"""What one send achieved, decided from the endpoint's answer alone.

The delivery engine acts on the verdict only: advance the cursor, retry, split the batch, or pause
the consumer. Keeping the HTTP-status rules in one pure function makes them testable and the same
for every HTTP sink.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

DETAIL_LIMIT = 2048  # bytes of the endpoint's answer kept for operators and dead letters


class Verdict(StrEnum):
    DELIVERED = "delivered"  # 2xx: the endpoint has it
    RETRY = "retry"  # transient: connection error, timeout, 408, 429, 5xx
    REJECTED = "rejected"  # 400, 413, 422: the content is refused; split to find the bad items
    DUPLICATE = "duplicate"  # 409: split a batch; a single item counts as delivered
    PAUSE = "pause"  # 401, 403, 404, 405, 415, redirects...: an operator must act


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    status: int | None = None  # HTTP status; None when no answer came back
    detail: str = ""  # endpoint body excerpt (≤ 2 KB) or the exception text
    retry_after: float | None = None  # seconds the endpoint asked us to wait
    latency: float = 0.0  # seconds spent on the request


_REJECTED = frozenset({400, 413, 422})
_RETRY = frozenset({408, 429})


def verdict_for(status: int) -> Verdict:
    """The verdict for an HTTP status.

    Unknown 4xx pause rather than reject: a status nobody planned for is more likely a
    misconfiguration than bad content, and rejecting would dead-letter every item one by one.
    """
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status in _RETRY or status >= 500:
        return Verdict.RETRY
    if status in _REJECTED:
        return Verdict.REJECTED
    if status == 409:
        return Verdict.DUPLICATE
    return Verdict.PAUSE  # 1xx/3xx (we never follow redirects), 401, 403, 404, 405, 415, ...


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    latency: float = 0.0,
    now: datetime | None = None,
) -> Outcome:
    """Turn an HTTP answer into an Outcome (pure: `now` only resolves HTTP-date Retry-After)."""
    verdict = verdict_for(status)
    detail = excerpt(body)
    if 300 <= status < 400 and (location := _header(headers, "location")):
        detail = f"redirected to {location} (update the consumer's url) {detail}".rstrip()
    return Outcome(
        verdict=verdict,
        status=status,
        detail=detail,
        retry_after=parse_retry_after(_header(headers, "retry-after"), now),
        latency=latency,
    )


def failure(error: BaseException, *, latency: float = 0.0, pause: bool = False) -> Outcome:
    """No answer: a transport error retries; `pause` marks errors only an operator can fix."""
    text = str(error) or type(error).__name__
    verdict = Verdict.PAUSE if pause else Verdict.RETRY
    return Outcome(
        verdict=verdict, detail=f"{type(error).__name__}: {text}"[:DETAIL_LIMIT], latency=latency
    )


def excerpt(body: bytes | str, limit: int = DETAIL_LIMIT) -> str:
    """At most `limit` bytes of the body as text, cut on a character boundary."""
    raw = body.encode("utf-8", "replace") if isinstance(body, str) else body
    return raw[:limit].decode("utf-8", "ignore").strip()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, from delay-seconds or an HTTP date (RFC 9110 §10.2.3); else None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive look-up that works on plain dicts as well as httpx.Headers."""
    value = headers.get(name)
    if value is not None:
        return value
    for key, item in headers.items():
        if key.lower() == name:
            return item
    return None
