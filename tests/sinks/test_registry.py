"""The sink table: each sink module registers itself, a consumer's sink options are that sink's
typed settings, and consumers stored when bus options rode in the URL still load."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from event_router.routing.consumer import Consumer
from event_router.sinks import build_sink
from event_router.sinks.archive import LocalArchiveSink
from event_router.sinks.base import SinkError
from event_router.sinks.bus import BusSink
from event_router.sinks.caliper import CaliperSink
from event_router.sinks.lrs import LrsSink
from event_router.sinks.registry import sink_type, sink_types
from event_router.sinks.webhook import WebhookSink
from event_router.store import Store
from event_router.store.schema import consumers
from tests.peers.bus import BusRedis


def test_every_sink_module_fills_the_table_and_builds_its_sink(tmp_path: Path) -> None:
    built = {
        "lrs": (Consumer(name="a", url="http://lrs.test/xapi/statements"), LrsSink),
        "caliper": (
            Consumer(name="b", protocol="caliper", url="http://caliper.test/"),
            CaliperSink,
        ),
        "webhook": (
            Consumer(name="c", protocol="edx", url="http://hook.test/", signing_secret="k"),
            WebhookSink,
        ),
        "archive": (Consumer(name="d", sink="archive", url=str(tmp_path)), LocalArchiveSink),
        "bus": (Consumer(name="e", sink="bus", url="redis://127.0.0.1:6379/0"), BusSink),
    }
    assert set(built) <= set(sink_types())
    for kind, (consumer, cls) in built.items():
        assert consumer.sink == kind
        assert isinstance(build_sink(consumer, secret_key="k"), cls)
    assert sink_type("bus").check is not None and sink_type("webhook").check is None


def test_a_consumer_is_checked_against_its_sink_when_configured() -> None:
    with pytest.raises(ValueError, match=r"unknown sink 'pigeon' \(known: .*archive.*bus"):
        Consumer(name="a", sink="pigeon", url="http://x/")
    with pytest.raises(ValueError, match="a lrs sink takes protocol xapi"):
        Consumer(name="a", sink="lrs", protocol="caliper", url="http://x/")
    with pytest.raises(ValueError, match="url must be http"):
        Consumer(name="a", url="ftp://x/")
    with pytest.raises(ValueError, match="sink_options of a bus sink: stream: Extra inputs"):
        Consumer(name="a", sink="bus", url="redis://h/0", sink_options={"stream": "x"})
    with pytest.raises(ValueError, match="maxlen: Input should be greater than or equal to 0"):
        Consumer(name="a", sink="bus", url="redis://h/0", sink_options={"maxlen": -1})
    with pytest.raises(ValueError, match="sink_options of a lrs sink"):
        Consumer(name="a", url="http://x/", sink_options={"topic": "xapi"})


def test_bus_options_are_typed_settings(bus_redis: BusRedis) -> None:
    options = {"topic": "learning", "prefix": bus_redis.prefix, "maxlen": 5}
    consumer = Consumer(
        name="e", protocol="caliper", sink="bus", url=bus_redis.url, sink_options=options
    )
    sink = build_sink(consumer, secret_key="k")
    assert isinstance(sink, BusSink)
    assert sink.stream == bus_redis.stream("learning") and sink.maxlen == 5


def test_bus_options_in_the_url_move_into_sink_options(tmp_path: Path) -> None:
    """Consumers stored before sink options existed (options in the URL's query string) load
    with the options moved out; other query parameters stay, typed options given win."""
    store = Store.open(f"sqlite:///{tmp_path / 'control.db'}")
    try:
        store.consumers.add(Consumer(name="bus", sink="bus", url="redis://h:6379/0"))
        old = "redis://h:6379/0?topic=learning&prefix=dev&maxlen=5&db=0"
        with store._db.engine.begin() as conn:
            row = conn.execute(sa.select(consumers.c.config)).scalar_one()
            row = {key: value for key, value in row.items() if key != "sink_options"}
            conn.execute(sa.update(consumers).values(config={**row, "url": old}))
        loaded = store.consumers.get("bus")
    finally:
        store.close()
    assert loaded.url == "redis://h:6379/0?db=0"
    assert loaded.sink_options == {"topic": "learning", "prefix": "dev", "maxlen": 5}
    given = Consumer(
        name="b", sink="bus", url="redis://h/0?topic=old", sink_options={"topic": "new"}
    )
    assert given.url == "redis://h/0" and given.sink_options == {"topic": "new"}
    lrs = Consumer(name="l", url="http://lrs.test/x?topic=kept")
    assert lrs.url == "http://lrs.test/x?topic=kept" and lrs.sink_options == {}


def test_kafka_registers_itself_and_reads_its_query_as_sink_options() -> None:
    """The Kafka sink is one of the table's, its options typed like the bus's; a kafka:// URL with
    its settings in the query (as stored before sink options) still configures the same sink."""
    from event_router.sinks.kafka import KafkaOptions, KafkaSink, kafka_settings

    assert sink_type("kafka").options is KafkaOptions
    old = Consumer(
        name="k",
        sink="kafka",
        url="kafka://b1:9092,b2:9092?topic=learning&prefix=dev&registry=http://reg.test",
    )
    assert old.url == "kafka://b1:9092,b2:9092"
    assert old.sink_options == {"topic": "learning", "prefix": "dev", "registry": "http://reg.test"}
    settings, options = kafka_settings(old)
    assert options.topic == "learning" and options.prefix == "dev"
    assert settings.kafka_bootstrap_servers == "b1:9092,b2:9092"
    assert settings.schema_registry_url == "http://reg.test"
    sink = build_sink(old, secret_key="s")
    assert isinstance(sink, KafkaSink) and sink.topic == "dev-learning"
    with pytest.raises(ValueError, match="stream: Extra inputs are not permitted"):
        Consumer(name="k", sink="kafka", url="kafka://b:9092", sink_options={"stream": "x"})
    unknown = Consumer(name="k", sink="kafka", url="kafka://b:9092?acks=0")
    with pytest.raises(SinkError, match="unknown url parameter 'acks'"):
        build_sink(unknown, secret_key="s")
