"""`override_args` land at the root of each item a consumer receives, whatever its protocol,
except with the Caliper sink, whose envelope takes them (tests/sinks covers the envelope)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from event_router.delivery.encoder import Encoder, TranslationCache
from event_router.journal import Entry
from event_router.routing.consumer import Consumer
from tests.conftest import erb_event, erb_options

URL = "http://127.0.0.1:9/x"


def received(**config: Any) -> list[dict[str, Any]]:
    config.setdefault("url", URL)
    consumer = Consumer(name="c", override_args={"extra": {"tenant": 7}}, **config)
    event = erb_event("play_video")
    encoder = Encoder(consumer, erb_options(event), TranslationCache())
    (items,) = asyncio.run(encoder.encode_all([Entry(seq=1, ingested_at=0.0, event=event)]))
    assert isinstance(items, list)
    return [orjson.loads(item) for item in items]


@pytest.mark.parametrize(
    "config",
    [
        {"protocol": "xapi"},
        {"protocol": "edx", "sink": "webhook", "signing_secret": "s"},
        {"protocol": "caliper", "sink": "webhook", "signing_secret": "s"},
        {"protocol": "xapi", "sink": "archive", "url": "/tmp/archive"},
    ],
    ids=["xapi-lrs", "edx-webhook", "caliper-webhook", "xapi-archive"],
)
def test_each_item_carries_the_overrides(config: dict[str, Any]) -> None:
    (item,) = received(**config)
    assert item["extra"] == {"tenant": 7}


def test_the_caliper_sink_puts_them_in_its_envelope_not_in_the_events() -> None:
    (event,) = received(protocol="caliper")
    assert "extra" not in event and event["type"] == "MediaEvent"
