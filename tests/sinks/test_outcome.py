"""The classification table, as a pure function (the HTTP tests check it end to end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from event_router.sinks.outcome import (
    DETAIL_LIMIT,
    Verdict,
    classify,
    failure,
    parse_retry_after,
)

TABLE = {
    200: Verdict.DELIVERED,
    201: Verdict.DELIVERED,
    202: Verdict.DELIVERED,
    204: Verdict.DELIVERED,
    301: Verdict.PAUSE,
    307: Verdict.PAUSE,
    400: Verdict.REJECTED,
    401: Verdict.PAUSE,
    403: Verdict.PAUSE,
    404: Verdict.PAUSE,
    405: Verdict.PAUSE,
    408: Verdict.RETRY,
    409: Verdict.DUPLICATE,
    410: Verdict.PAUSE,
    413: Verdict.REJECTED,
    415: Verdict.PAUSE,
    422: Verdict.REJECTED,
    429: Verdict.RETRY,
    500: Verdict.RETRY,
    502: Verdict.RETRY,
    503: Verdict.RETRY,
    504: Verdict.RETRY,
}


@pytest.mark.parametrize(("status", "verdict"), TABLE.items())
def test_status_table(status: int, verdict: Verdict) -> None:
    outcome = classify(status, {}, b'{"error": "x"}')
    assert outcome.verdict is verdict
    assert outcome.status == status
    assert outcome.detail == '{"error": "x"}'


def test_detail_is_an_excerpt_of_at_most_2_kb_cut_on_a_character() -> None:
    outcome = classify(400, {}, ("é" * 5000).encode())
    assert len(outcome.detail.encode()) <= DETAIL_LIMIT
    assert set(outcome.detail) == {"é"}


def test_redirect_says_where_to() -> None:
    outcome = classify(308, {"Location": "https://lrs.example.com/xAPI/statements"}, b"")
    assert outcome.verdict is Verdict.PAUSE
    assert "https://lrs.example.com/xAPI/statements" in outcome.detail


def test_retry_after_seconds_and_date() -> None:
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    assert classify(429, {"Retry-After": "7"}, b"").retry_after == 7
    assert classify(503, {"retry-after": "1.5"}, b"").retry_after == 1.5
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert classify(429, {"Retry-After": later}, b"", now=now).retry_after == 30
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now) == 0
    for bad in (None, "", "soon", "-5x", "nan", "inf"):
        assert parse_retry_after(bad, now) is None
    assert parse_retry_after("-5", now) == 0


def test_failure_retries_unless_told_to_pause() -> None:
    retry = failure(ConnectionRefusedError("refused"), latency=0.5)
    assert (retry.verdict, retry.status, retry.latency) == (Verdict.RETRY, None, 0.5)
    assert retry.detail == "ConnectionRefusedError: refused"
    assert failure(ValueError("bad url"), pause=True).verdict is Verdict.PAUSE
