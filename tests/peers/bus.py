"""The real Redis at 127.0.0.1:6379 as an Open edX event bus, for source, sink and interop tests.

`bus_redis` gives each test a unique key prefix (its streams are `<prefix>-<topic>`) and deletes
every key under it afterwards. `publish` writes an entry exactly as edx-event-bus-redis does
(field order, UTF-8 metadata, schemaless Avro body, `json.dumps` JSON text), using the router's
own wire module; the interop tests use the real library instead (tests/peers/openedx.py).

Redis unreachable: the tests fail under CI=true (CI must test it) and are skipped elsewhere.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from event_router.bus.wire import TRACKING_EVENT_TYPE, Metadata, encode_body, entry
from tests.support.databases import REDIS_URL, Entries, delete_keys, redis_client, stream_entries


class BusRedis:
    """A Redis connection and a private namespace of stream names for one test."""

    def __init__(self, client: redis.Redis) -> None:
        self.url = REDIS_URL
        self.client = client
        self.prefix = f"test-{uuid.uuid4().hex[:12]}"

    def stream(self, topic: str = "analytics") -> str:
        return f"{self.prefix}-{topic}"

    def publish(
        self,
        stream: str,
        event: dict[str, Any],
        *,
        message_id: str | None = None,
        event_type: str = TRACKING_EVENT_TYPE,
        maxlen: int | None = None,
    ) -> str:
        """XADD one tracking event the way the LMS's producer does; returns the entry id."""
        metadata = Metadata(
            event_type=event_type,
            id=message_id or str(uuid.uuid1()),
            source="openedx/lms/web",
            time=datetime.now(UTC).isoformat(),
            minorversion=0,
            sourcehost=socket.gethostname(),
            sourcelib="10.5.0",
        )
        record = {
            "tracking_log": {
                "name": event["name"],
                "timestamp": event["timestamp"],
                "data": json.dumps(event.get("data")),
                "context": json.dumps(event.get("context")),
            }
        }
        return self.add(stream, entry(metadata, encode_body(TRACKING_EVENT_TYPE, record)), maxlen)

    def publish_many(self, stream: str, events: list[dict[str, Any]]) -> None:
        """Publish many events in pipelined round trips (same entries as `publish`)."""
        client, self.client = self.client, self.client.pipeline(transaction=False)
        try:
            for start in range(0, len(events), 1000):
                for item in events[start : start + 1000]:
                    self.publish(stream, item)
                self.client.execute()
        finally:
            self.client = client

    def add(self, stream: str, fields: dict[bytes, bytes], maxlen: int | None = None) -> str:
        entry_id = self.client.xadd(stream, fields, maxlen=maxlen, approximate=False)  # type: ignore[arg-type]
        return entry_id.decode() if isinstance(entry_id, bytes) else ""  # "" inside a pipeline

    def entries(
        self, stream: str, start: str = "-", end: str = "+", count: int | None = None
    ) -> Entries:
        """The stream's entries (XRANGE), ids and fields as bytes."""
        return stream_entries(self.client, stream, start, end, count)

    def pending(self, stream: str, group: str) -> int:
        return int(self.client.xpending(stream, group)["pending"])

    def cleanup(self) -> None:
        delete_keys(self.client, f"{self.prefix}*")


@pytest.fixture
def bus_redis() -> Iterator[BusRedis]:
    client = redis_client()
    bus = BusRedis(client)
    try:
        yield bus
    finally:
        bus.cleanup()
        client.close()
