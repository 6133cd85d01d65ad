"""EVENT_ROUTER_ALLOWED_DESTINATIONS: every sink refuses a destination outside the list, however
its address is spelled, at each send; and local archives stay under their root.

Before the allow-list, each sink below delivered to the loopback receiver whatever the list said.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from event_router.routing.consumer import Consumer
from event_router.settings import Settings
from event_router.sinks.base import build_sink
from event_router.sinks.destinations import (
    Allowlist,
    DestinationRefused,
    Destinations,
    confine_archive,
    literal_address,
)
from event_router.sinks.outcome import Verdict
from tests.peers.bus import BusRedis
from tests.peers.receiver import Receiver
from tests.peers.s3 import MotoS3

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
ITEM = orjson.dumps({"id": "6f1d9b3e-0000-4000-8000-000000000001", "verb": {"id": "x"}})


@pytest.mark.parametrize(
    "spelling",
    ["127.0.0.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "0x7f.1", "::ffff:127.0.0.1"],
)
def test_every_spelling_of_an_address_is_normalised(spelling: str) -> None:
    assert literal_address(spelling) == LOOPBACK
    assert literal_address(f"[{spelling}]" if ":" in spelling else spelling) == LOOPBACK


@pytest.mark.parametrize("name", ["lrs.example.com", "1e100.net", "localhost", "deadbeef"])
def test_names_are_not_addresses(name: str) -> None:
    assert literal_address(name) is None


def test_the_list_is_parsed_strictly() -> None:
    parsed = Allowlist.parse(" LRS.test., *.partner.test, 10.0.0.0/8, 0x7f000001, ::1 ")
    assert parsed.names == {"lrs.test"} and parsed.suffixes == (".partner.test",)
    assert [str(n) for n in parsed.networks] == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]
    for bad in ("10.0.0.0/33", "not a host!", " , "):
        with pytest.raises(ValueError):
            Allowlist.parse(bad)


def test_names_are_judged_by_every_address_they_resolve_to() -> None:
    Allowlist.parse("127.0.0.0/8, ::1").check("localhost")  # 127.0.0.1 and ::1
    with pytest.raises(DestinationRefused, match=r"localhost \(127\.0\.0\.1\)|localhost \(::1\)"):
        Allowlist.parse("10.0.0.0/8").check("localhost")
    Allowlist.parse("localhost").check("localhost")  # a listed name needs no resolution
    with pytest.raises(DestinationRefused, match="cannot be resolved"):
        Allowlist.parse("10.0.0.0/8").check("no-such-host.invalid")


def lrs(url: str) -> Consumer:
    return Consumer(name="lrs", protocol="xapi", url=url)


def send(consumer: Consumer) -> Verdict:
    async def run() -> Verdict:
        sink = build_sink(consumer, secret_key="k")
        try:
            return (await sink.send([ITEM])).verdict
        finally:
            await sink.close()

    return asyncio.run(run())


@pytest.mark.parametrize("host", ["127.0.0.1", "0x7f000001", "2130706433", "localhost"])
def test_http_sinks_refuse_and_pause_outside_the_list(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "10.0.0.0/8")
    url = f"http://{host}:{receiver.port}/xAPI/statements"
    assert send(lrs(url)) is Verdict.PAUSE
    hook = Consumer(name="h", protocol="edx", sink="webhook", url=url, signing_secret="s")
    assert send(hook) is Verdict.PAUSE
    assert receiver.requests == 0
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "127.0.0.1, ::1")
    assert send(lrs(url)) is Verdict.DELIVERED and receiver.requests == 1


def test_the_bus_sink_refuses_a_redis_outside_the_list(
    bus_redis: BusRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "10.0.0.0/8")
    url = f"{bus_redis.url}?prefix={bus_redis.prefix}&topic=xapi"
    consumer = Consumer(name="bus", protocol="xapi", sink="bus", url=url)
    assert send(consumer) is Verdict.PAUSE
    assert bus_redis.client.exists(bus_redis.stream("xapi")) == 0
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "127.0.0.0/8")
    assert send(consumer) is Verdict.DELIVERED
    assert bus_redis.client.xlen(bus_redis.stream("xapi")) == 1


def test_the_s3_archive_refuses_an_endpoint_outside_the_list(
    moto_s3: MotoS3, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "10.0.0.0/8")
    consumer = Consumer(name="files", protocol="xapi", sink="archive", url=f"s3://{s3_bucket}/x")
    assert send(consumer) is Verdict.PAUSE and moto_s3.objects(s3_bucket) == {}
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "127.0.0.0/8")
    assert send(consumer) is Verdict.DELIVERED and len(moto_s3.objects(s3_bucket)) == 1


def test_archive_paths_are_confined_to_the_root(tmp_path: Path) -> None:
    root = tmp_path / "archives"
    assert confine_archive("lrs", root) == str(root / "lrs")
    assert confine_archive(f"file://{root}/a/b", root) == str(root / "a" / "b")
    for escape in ("~/x", "~root/x", "../x", "a/../../x", "/etc", f"{tmp_path}/other", ""):
        with pytest.raises(ValueError, match="archive root"):
            confine_archive(escape, root)


def test_the_settings_refuse_a_bad_list_and_give_the_archive_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "lrs.test, 10.0.0.0/33")
    with pytest.raises(ValidationError, match=r"'10\.0\.0\.0/33' is not a CIDR network"):
        Settings()
    monkeypatch.setenv("EVENT_ROUTER_ALLOWED_DESTINATIONS", "lrs.test")
    monkeypatch.setenv("EVENT_ROUTER_HOME", str(tmp_path))
    destinations = Destinations.from_env()
    assert destinations.archive_root == tmp_path / "archives"
    assert destinations.allowlist is not None and destinations.allowlist.names == {"lrs.test"}
    monkeypatch.setenv("EVENT_ROUTER_ARCHIVE_ROOT", str(tmp_path / "elsewhere"))
    assert Destinations.from_env().archive_root == tmp_path / "elsewhere"
