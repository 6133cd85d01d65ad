"""Kafka client plumbing: settings (SASL/SSL, secrets never shown), the registry client against
the stand-in registry, the Confluent framing and the CloudEvents headers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from event_router.bus.wire import TRACKING_EVENT_TYPE, Metadata, WireError
from event_router.kafka.framing import frame, headers, read_headers, schema_text, unframe
from event_router.kafka.registry import Registry, RegistryError
from event_router.kafka.settings import KafkaSettings
from tests.peers.schema_registry import SchemaRegistry


def test_sasl_settings_and_secrets_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_ROUTER_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("EVENT_ROUTER_KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    monkeypatch.setenv("EVENT_ROUTER_KAFKA_SASL_USERNAME", "api-key")
    monkeypatch.setenv("EVENT_ROUTER_KAFKA_SASL_PASSWORD", "s3cret-value")
    monkeypatch.setenv("EVENT_ROUTER_SCHEMA_REGISTRY_PASSWORD", "r3gistry-secret")
    settings = KafkaSettings()
    config = settings.consumer_config("g")
    assert config["bootstrap.servers"] == "k1:9092,k2:9092"
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.mechanism"] == "PLAIN"
    assert (config["sasl.username"], config["sasl.password"]) == ("api-key", "s3cret-value")
    assert config["enable.auto.commit"] is False and config["auto.offset.reset"] == "earliest"
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "s3cret-value" not in shown and "r3gistry-secret" not in shown
    assert settings.registry_auth() is None  # a password without a user is not used
    monkeypatch.delenv("EVENT_ROUTER_KAFKA_SASL_PASSWORD")
    with pytest.raises(ValueError, match="EVENT_ROUTER_KAFKA_SASL_PASSWORD"):
        KafkaSettings().client_config()
    with pytest.raises(ValueError, match="SASL_SSL"):
        KafkaSettings(kafka_security_protocol="TLS")


def test_run_refuses_incomplete_sasl_settings_without_showing_secrets(tmp_path: Path) -> None:
    env = {
        "EVENT_ROUTER_HOME": str(tmp_path),
        "EVENT_ROUTER_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "EVENT_ROUTER_KAFKA_SASL_PASSWORD": "s3cret-value",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "event_router", "run", "--kafka-bootstrap-servers", "k:9092"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "EVENT_ROUTER_KAFKA_SASL_USERNAME" in done.stderr
    assert "s3cret-value" not in done.stderr + done.stdout


def test_registry_client_against_the_stand_in(schema_registry: SchemaRegistry) -> None:
    text = schema_text(TRACKING_EVENT_TYPE)
    schema_registry.require_basic("key", "pw")
    denied = Registry(schema_registry.url, auth=("key", "wrong"))
    with pytest.raises(RegistryError, match="401") as refused:
        denied.register("t-value", text)
    assert not refused.value.missing and "wrong" not in str(refused.value)
    client = Registry(schema_registry.url, auth=("key", "pw"))
    schema_id = client.register("t-value", text)
    assert client.register("t-value", text) == schema_id  # cached: one request
    assert [m for m, p, _ in schema_registry.requests if p.startswith("/subjects/t-value")] == [
        "POST",
        "POST",
    ]
    assert client.schema(schema_id)["name"] == f"{TRACKING_EVENT_TYPE}.CloudEvent"
    version, latest_id, _ = client.latest("t-value")
    assert (version, latest_id) == (1, schema_id)
    with pytest.raises(RegistryError) as missing:
        client.schema(987_654)
    assert missing.value.missing
    schema_registry.down()
    try:
        with pytest.raises(RegistryError, match="unreachable") as down:
            Registry(schema_registry.url).schema(987_655)
        assert not down.value.missing
    finally:
        schema_registry.up()
    client.close()
    denied.close()


def test_framing_and_headers_round_trip() -> None:
    assert unframe(frame(258, b"body")) == (258, b"body")
    assert frame(258, b"") == b"\x00\x00\x00\x01\x02"
    for bad in (None, b"", b"\x00\x00", b"\x01\x00\x00\x00\x01x"):
        with pytest.raises(WireError):
            unframe(bad)
    metadata = Metadata.new(TRACKING_EVENT_TYPE, "key")
    raw = headers(metadata)
    assert [name for name, _ in raw][:3] == ["ce_specversion", "content-type", "ce_datacontenttype"]
    assert read_headers(raw) == metadata
    with pytest.raises(WireError, match="ce_minorversion"):
        read_headers([("ce_type", b"t"), ("ce_minorversion", b"x")])
    with pytest.raises(WireError, match="not UTF-8"):
        read_headers([("ce_type", b"\xff")])
