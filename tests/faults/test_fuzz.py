"""10,000 fuzzed inputs through each source (HTTP ingest, a tracking log, the event bus) of a
real router: nothing crashes, and every input is accounted for, accepted or rejected with a reason.

Accepted events then reach the consumers (an xAPI LRS and a Caliper endpoint), and every one of
them is handled there too: delivered, or skipped with a reason (not for the consumer, or not
translatable). The router's log must show no crashed delivery and no traceback.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from event_router.bus.tracking import Decoded, decode_tracking
from event_router.bus.wire import TRACKING_EVENT_TYPE, Metadata, WireError, encode_body, entry
from event_router.events import NormaliseError, line_json, parse_json
from tests.faults.fuzz import hypothesis_lines, hypothesis_values, mutated_lines
from tests.peers.bus import BusRedis
from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.wait import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

HYPOTHESIS, MUTATED = 3000, 7000  # per source: 10,000 inputs (a few hypothesis values are blank)


def fuzz_lines(seed: int) -> list[bytes]:
    lines = hypothesis_lines(HYPOTHESIS) + mutated_lines(MUTATED, seed)
    random.Random(seed).shuffle(lines)
    return lines


def start_router(tmp_path: Path, receiver: Receiver, **kwargs: Any) -> Router:
    router = Router(tmp_path / "home", **kwargs)
    router.add_consumer(name="lrs", protocol="xapi", url=receiver.url + "/xapi", batch_size=200)
    router.add_consumer(name="caliper", protocol="caliper", url=receiver.url + "/caliper")
    router.start()
    return router


def assert_all_handled(router: Router, accepted: int) -> dict[str, Any]:
    """Every accepted event is in the journal, and each consumer handled each of them."""
    wait_until(lambda: router.status()["journal"]["head"] >= accepted, 60, router.status)

    def handled() -> bool:
        consumers = router.status()["consumers"]
        return all(consumers[name]["events"] >= accepted for name in ("lrs", "caliper"))

    wait_until(handled, 120, lambda: str(router.status()["consumers"]))
    status = router.status()
    assert status["journal"]["head"] == accepted
    for name in ("lrs", "caliper"):
        figures = status["consumers"][name]
        assert figures["events"] == accepted, figures
        assert figures["dead_letters"] == 0, figures["last_error"]
        assert figures["state"] == "running", figures
    # The fuzz reached the translations: some accepted events could not be translated.
    assert status["consumers"]["lrs"]["untranslatable"] > 0
    assert router.process is not None and router.process.poll() is None
    assert httpx.get(f"{router.url}/health", timeout=5).status_code == 200
    return status


def assert_clean_log(router: Router) -> None:
    text = router.log.read_text()
    assert "crashed" not in text and "Traceback" not in text, text[-3000:]


def test_fuzzed_http_ingest(tmp_path: Path, receiver: Receiver, seed: int) -> None:
    lines = fuzz_lines(seed)
    assert len(lines) >= 9900
    router = start_router(tmp_path, receiver)
    try:
        accepted = rejected = 0
        reasons: Counter[str] = Counter()
        for start in range(0, len(lines), 100):
            batch = lines[start : start + 100]
            answer = router.post(
                b"\n".join(batch), headers={"Content-Type": "application/x-ndjson"}
            )
            assert answer.status_code in (202, 400), answer.text
            body = answer.json()
            assert body["accepted"] + body["rejected"] == len(batch), body
            errors = body.get("errors", [])
            assert len(errors) == body["rejected"]
            assert all(e["error"].strip() for e in errors), errors
            indexes = [
                *body.get("accepted_indexes", range(len(batch))),
                *(e["index"] for e in errors),
            ]
            assert sorted(indexes) == list(range(len(batch)))
            reasons.update(e["error"].split(" (")[0][:60] for e in errors)
            accepted += body["accepted"]
            rejected += body["rejected"]
        assert accepted + rejected == len(lines)
        assert 2000 < accepted < len(lines) and len(reasons) > 5, reasons
        status = assert_all_handled(router, accepted)
        assert status["ingest"] == {"accepted": accepted, "rejected": rejected, "auth": "token"}
    finally:
        router.stop()
    assert_clean_log(router)


def test_fuzzed_tracking_log(tmp_path: Path, receiver: Receiver, seed: int) -> None:
    lines = fuzz_lines(seed + 1)
    log = tmp_path / "tracking.log"
    log.write_bytes(b"\n".join(lines) + b"\n")
    expected = sum(1 for line in lines if _parses(line))
    router = start_router(tmp_path, receiver, tracking_logs=[log])
    try:
        source = f"file:{log.resolve()}"

        def read_all() -> bool:
            return bool(
                sum(router.status()["source_counts"].get(source, {}).values()) >= len(lines)
            )

        wait_until(read_all, 60, lambda: str(router.status()["source_counts"]))
        counts = router.status()["source_counts"][source]
        assert counts == {"accepted": expected, "rejected": len(lines) - expected}, counts
        assert_all_handled(router, expected)
    finally:
        router.stop()
    assert_clean_log(router)
    assert "rejected line near" in router.log.read_text()  # each with its reason


def _parses(line: bytes) -> bool:
    try:
        parse_json(line_json(line))
    except NormaliseError:
        return False
    return True


def test_fuzzed_event_bus(
    tmp_path: Path, receiver: Receiver, bus_redis: BusRedis, seed: int
) -> None:
    rng = random.Random(seed + 2)
    stream = bus_redis.stream()
    entries = bus_entries(rng, seed)
    assert len(entries) >= 9900
    expected: Counter[str] = Counter()
    for index, fields in enumerate(entries):
        try:
            decoded = decode_tracking(f"0-{index}", fields)
        except WireError:
            expected["malformed"] += 1
        else:
            expected["accepted" if isinstance(decoded, Decoded) else "other_types"] += 1
    router = start_router(
        tmp_path,
        receiver,
        EVENT_ROUTER_REDIS_URL=bus_redis.url,
        EVENT_ROUTER_BUS_PREFIX=bus_redis.prefix,
    )
    try:
        pipe = bus_redis.client.pipeline(transaction=False)
        for fields in entries:
            pipe.xadd(stream, fields)  # type: ignore[arg-type]
        pipe.execute()
        source = next(iter(router.status()["source_counts"]))
        assert source.startswith("bus:")

        def read_all() -> bool:
            counts = router.status()["source_counts"][source]
            return bool(sum(counts.get(k, 0) for k in expected) >= len(entries))

        wait_until(read_all, 60, lambda: str(router.status()["source_counts"]))
        counts = router.status()["source_counts"][source]
        assert {k: counts.get(k, 0) for k in expected} == dict(expected), counts
        assert counts.get("duplicates", 0) == 0
        assert_all_handled(router, expected["accepted"])
        kept = bus_redis.client.xlen(f"{stream}:event-router:rejected")
        assert kept == expected["malformed"]  # each kept aside with its reason
    finally:
        router.stop()
    assert_clean_log(router)


def bus_entries(rng: random.Random, seed: int) -> list[dict[bytes, bytes]]:
    """10,000 stream entries: fuzzed events in well-formed messages, and broken messages."""
    values = list(hypothesis_values(HYPOTHESIS))
    for line in mutated_lines(MUTATED, seed):
        try:
            values.append(parse_json(line_json(line)).raw)
        except NormaliseError:
            values.append(line.decode("utf-8", "replace"))
    out = []
    for value in values:
        metadata = Metadata(TRACKING_EVENT_TYPE, id=str(uuid.UUID(int=rng.getrandbits(128))))
        record = _record(rng, value)
        body = encode_body(TRACKING_EVENT_TYPE, {"tracking_log": record})
        fields = entry(metadata, body)
        if rng.random() < 0.15:
            fields = _break(rng, fields)
        out.append(fields)
    return out


def _record(rng: random.Random, value: Any) -> dict[str, str]:
    """The Avro record's four strings from a fuzzed value (`data`/`context` are JSON text)."""
    import json

    event = value if isinstance(value, dict) else {"name": value}

    def text(item: Any) -> str:
        return item if isinstance(item, str) else json.dumps(item, default=str)

    def json_text(item: Any) -> str:
        if rng.random() < 0.05:
            return text(item)[: rng.randint(0, 20)]  # not always JSON
        return json.dumps(item, default=str)

    return {
        "name": text(event.get("name", "")),
        "timestamp": text(event.get("timestamp", event.get("time", ""))),
        "data": json_text(event.get("data", event.get("event"))),
        "context": json_text(event.get("context", {})),
    }


def _break(rng: random.Random, fields: dict[bytes, bytes]) -> dict[bytes, bytes]:
    broken = dict(fields)
    action = rng.randrange(6)
    if action == 0:
        del broken[b"type"]
    elif action == 1:
        broken[b"event_data"] = rng.randbytes(rng.randint(0, 40))
    elif action == 2:
        broken[b"event_data"] += rng.randbytes(rng.randint(1, 5))
    elif action == 3:
        broken[b"type"] = b"org.openedx.learning.course.enrollment.changed.v1"
    elif action == 4:
        broken[b"minorversion"] = b"one"
    else:
        broken[b"event_data"] = broken[b"event_data"][: rng.randint(0, 10)]
    return broken
