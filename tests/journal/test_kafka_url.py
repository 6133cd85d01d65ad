"""The Kafka journal's settings: its URL, key and partition count are checked before anything
connects (no broker needed here; tests/scaleout/test_kafka_journal.py runs it on Tansu)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from event_router.journal.kafka import parse_url, seq_of
from event_router.settings import Settings


def test_the_url_names_brokers_and_a_prefix() -> None:
    assert parse_url("kafka://k1:9092,k2:9092/router") == ("k1:9092,k2:9092", "router")
    assert parse_url("kafka://k1:9092") == ("k1:9092", "event-router")
    assert parse_url("kafka://k1:9092/") == ("k1:9092", "event-router")
    with pytest.raises(ValueError, match="names no broker"):
        parse_url("kafka:///router")
    with pytest.raises(ValueError, match="not a kafka"):
        parse_url("redis://x")


def test_settings_accept_a_kafka_journal_and_refuse_an_unknown_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENT_ROUTER_JOURNAL", "kafka://k1:9092/r")
    monkeypatch.setenv("EVENT_ROUTER_JOURNAL_KEY", "course")
    settings = Settings()
    assert settings.journal_url == "kafka://k1:9092/r" and settings.journal_key == "course"
    monkeypatch.setenv("EVENT_ROUTER_JOURNAL_KEY", "session")
    with pytest.raises(ValidationError, match="journal_key"):
        Settings()
    monkeypatch.setenv("EVENT_ROUTER_JOURNAL_KEY", "learner")
    monkeypatch.setenv("EVENT_ROUTER_JOURNAL_PARTITIONS", "2000")
    with pytest.raises(ValidationError, match="journal_partitions"):
        Settings()


def test_seqs_are_unique_and_ordered_within_a_partition() -> None:
    seqs = {seq_of(p, o) for p in range(1024) for o in range(20)}
    assert len(seqs) == 1024 * 20
    assert [seq_of(3, o) for o in range(5)] == sorted(seq_of(3, o) for o in range(5))
