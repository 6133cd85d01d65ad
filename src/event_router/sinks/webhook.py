"""Webhook sink: a signed JSON array, so a receiver can tell our requests from anyone else's.

Signature scheme (see docs/sinks.md): `X-Event-Router-Timestamp: <unix seconds>` and
`X-Event-Router-Signature: sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + body)>`. Signing the
timestamp with the body lets a receiver refuse replays of old requests.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence

from event_router.routing.consumer import Consumer
from event_router.sinks.base import SinkError
from event_router.sinks.http import HttpSink, join_array
from event_router.sinks.registry import SinkType, register

TIMESTAMP_HEADER = "X-Event-Router-Timestamp"
SIGNATURE_HEADER = "X-Event-Router-Signature"
_PREFIX = "sha256="


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(
    secret: str | bytes,
    timestamp: str | int | None,
    body: bytes,
    signature: str | None,
    tolerance: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """For receivers: is this request ours, untampered and at most `tolerance` seconds old?

    Compares in constant time; a missing or malformed header is simply False.
    """
    if timestamp is None or not signature:
        return False
    try:
        sent = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    expected = sign(secret, sent, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


class WebhookSink(HttpSink):
    """POST `[item, ...]` signed with the consumer's `signing_secret`."""

    def __init__(self, consumer: Consumer, clock: Callable[[], float] = time.time) -> None:
        if not consumer.signing_secret:
            raise SinkError(
                f"consumer {consumer.name!r}: a webhook needs a signing_secret so receivers can "
                "verify requests (X-Event-Router-Signature, see docs/sinks.md)"
            )
        super().__init__(consumer)
        self._secret = consumer.signing_secret.encode()
        self._clock = clock

    def build(self, items: Sequence[bytes]) -> tuple[bytes, dict[str, str]]:
        body = join_array(items)
        timestamp = int(self._clock())
        return body, {
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }


register(
    SinkType("webhook", WebhookSink, "a signed JSON array POSTed", schemes=("http://", "https://"))
)
