"""The encoder of delivery/encoder.py: which journal entries a consumer gets and as which bytes.

Forgotten learners and route rules are skips with a reason; a translation is shared by the
consumers of one protocol and identity policy (from the cache, a translation under way or the
one made at ingest) and never across policies; `activity_types` filters items; `encode` (the
playground) decides as `encode_all` (delivery) does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from event_router.delivery.encoder import (
    FORGOTTEN,
    Encoder,
    Pending,
    Skip,
    TranslationCache,
)
from event_router.delivery.made_at_ingest import MadeAtIngest
from event_router.events import TrackingEvent, normalise
from event_router.journal import Entry
from event_router.journal.entry import REDACTED
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy, Policy
from event_router.routing.route import Route
from event_router.translate import Options
from event_router.translate.workers import Translated, translated

LMS = "http://lms.test"
URL = "http://127.0.0.1:9/xapi/statements"


def options(policy: Policy = Policy.ANONYMOUS) -> Options:
    return Options(lms_url=LMS, identity=IdentityPolicy("encoder-tests", LMS, policy=policy))


def play(seq: int, **context: Any) -> TrackingEvent:
    return normalise(
        {
            "name": "play_video",
            "timestamp": f"2024-01-01T00:00:{seq:02d}+00:00",
            "context": {
                "course_id": "course-v1:edX+DemoX+Demo_Course",
                "user_id": 7,
                "username": "ann",
                **context,
            },
            "data": {"id": "0b9e39477cf34507a7a48f74be381fdd", "currentTime": seq, "duration": 600},
        }
    )


def entry(seq: int, event: TrackingEvent | None = None, **kwargs: Any) -> Entry:
    return Entry(seq=seq, ingested_at=0.0, event=event or play(seq), **kwargs)


def encoder(*, cache: TranslationCache | None = None, **config: Any) -> Encoder:
    made: MadeAtIngest | None = config.pop("made", None)
    consumer = Consumer(name=config.pop("name", "c"), url=config.pop("url", URL), **config)
    return Encoder(consumer, options(consumer.identity), cache or TranslationCache(), made=made)


def encode_all(coder: Encoder, entries: list[Entry]) -> list[list[bytes] | Skip]:
    return asyncio.run(coder.encode_all(entries))


def statements(result: list[bytes] | Skip) -> list[dict[str, Any]]:
    assert isinstance(result, list), result
    return [orjson.loads(item) for item in result]


def test_each_entry_is_its_own_translation_in_journal_order() -> None:
    entries = [entry(seq) for seq in (1, 2, 3)]
    results = encode_all(encoder(), entries)
    expected = [translated(e.event, "xapi", options()) for e in entries]
    assert results == expected
    assert [s["result"]["extensions"] for r in results for s in statements(r)] == [
        {"https://w3id.org/xapi/video/extensions/time": seq} for seq in (1, 2, 3)
    ]


def test_a_forgotten_learner_s_entry_is_skipped_whatever_the_consumer() -> None:
    redacted = Entry(seq=1, ingested_at=0.0, body=b"{}", name=REDACTED)
    configs: list[dict[str, Any]] = [
        {},
        {"protocol": "edx", "sink": "webhook", "signing_secret": "s"},
    ]
    for config in configs:
        coder = encoder(**config)
        assert encode_all(coder, [redacted]) == [Skip(FORGOTTEN)]
        assert coder.encode(redacted) == Skip(FORGOTTEN)


def test_route_rules_skip_with_the_rule_that_matched() -> None:
    coder = encoder(route=Route(deny=["play_video"]))
    (result,) = encode_all(coder, [entry(1)])
    assert isinstance(result, Skip) and not result.translation_failed
    assert "play_video" in result.reason
    courses = encoder(route=Route(courses=["course-v1:Other+X+Y"]))
    (other,) = encode_all(courses, [entry(1)])
    assert isinstance(other, Skip) and other.reason


def test_an_untranslatable_event_is_a_skip_marked_as_a_failed_translation() -> None:
    nobody = play(1, user_id=None, username=None)
    (result,) = encode_all(encoder(), [entry(1, nobody)])
    assert isinstance(result, Skip) and result.translation_failed
    assert result.reason == translated(nobody, "xapi", options())  # the translator's reason


def test_an_unreadable_journal_body_is_a_skip_not_a_crash() -> None:
    broken = Entry(seq=1, ingested_at=0.0, body=b"{not json", name="play_video")
    for coder in (encoder(), encoder(route=Route(deny=["problem_check"]))):
        (result,) = encode_all(coder, [broken])
        assert isinstance(result, Skip) and result.translation_failed


def test_the_edx_protocol_is_the_event_as_the_identity_policy_shows_it() -> None:
    event = play(1, ip="203.0.113.9")
    for policy in (Policy.ANONYMOUS, Policy.RAW):
        coder = encoder(protocol="edx", sink="webhook", signing_secret="s", identity=policy)
        (result,) = encode_all(coder, [entry(1, event)])
        (item,) = statements(result)
        assert item == coder.options.identity.edx_event(event)
        assert (item["context"].get("ip") == "203.0.113.9") is (policy is Policy.RAW)


def test_consumers_of_one_protocol_and_policy_share_one_translation() -> None:
    cache = TranslationCache()
    first, second = encoder(cache=cache, name="a"), encoder(cache=cache, name="b")
    entries = [entry(1), entry(2)]
    produced = encode_all(first, entries)
    assert cache.get((1, "xapi", "anonymous")) == produced[0]
    # What the second consumer gets is the cached translation, not one of its own.
    marker: Translated = [b'{"id": "from-the-cache"}']
    cache.put((2, "xapi", "anonymous"), marker)
    assert encode_all(second, entries) == [produced[0], marker]


def test_another_policy_or_protocol_never_reuses_a_translation() -> None:
    cache = TranslationCache()
    for key in ((1, "xapi", "anonymous"), (1, "caliper", "username")):
        cache.put(key, [b'{"id": "not-for-you"}'])
    for config in ({"identity": "username"}, {"protocol": "caliper", "identity": "anonymous"}):
        coder = encoder(cache=cache, **config)
        (result,) = encode_all(coder, [entry(1)])
        assert result != [b'{"id": "not-for-you"}']
        assert statements(result)


def test_a_translation_made_at_ingest_is_used_before_the_cache() -> None:
    ahead: Translated = [b'{"id": "made-at-ingest"}']
    cache = TranslationCache()
    cache.put((1, "xapi", "anonymous"), [b'{"id": "cached"}'])
    made = MadeAtIngest()
    made.keep(1, [{("xapi", "anonymous"): ahead}])
    assert encode_all(encoder(cache=cache, made=made), [entry(1)]) == [ahead]
    made.clear()
    made.keep(1, [{("xapi", "username"): ahead}])
    assert encode_all(encoder(cache=cache, made=made), [entry(1)]) == [[b'{"id": "cached"}']]
    made.settled(1)  # every delivery passed it: gone
    assert made.find(1) is None and len(made) == made.bytes == 0


def test_a_translation_under_way_is_awaited_and_a_failed_one_done_here() -> None:
    event = play(1)
    mine = translated(event, "xapi", options())

    async def scenario(fail: bool) -> list[list[bytes] | Skip]:
        cache = TranslationCache()
        future: asyncio.Future[list[Translated]] = asyncio.get_running_loop().create_future()
        cache.put((1, "xapi", "anonymous"), Pending(future, 1))
        task = asyncio.ensure_future(encoder(cache=cache).encode_all([entry(1, event)]))
        await asyncio.sleep(0)  # a turn of the loop: the encoder now waits on the future
        assert not task.done()
        if fail:
            future.set_exception(RuntimeError("the other consumer's worker died"))
        else:
            future.set_result([[b"other"], [b'{"id": "theirs"}']])
        return await asyncio.wait_for(task, 10)

    assert asyncio.run(scenario(fail=False)) == [[b'{"id": "theirs"}']]
    assert asyncio.run(scenario(fail=True)) == [mine]


def test_activity_types_keep_only_items_about_them() -> None:
    video = encoder(route=Route(activity_types=["video"]))
    problem = encoder(route=Route(activity_types=["cmi.interaction"]))
    (kept,) = encode_all(video, [entry(1)])
    assert statements(kept)[0]["object"]["definition"]["type"].endswith("/video")
    (dropped,) = encode_all(problem, [entry(1)])
    assert dropped == Skip("activity type not in activity_types")


def test_encode_decides_as_encode_all() -> None:
    entries = [
        entry(1),
        entry(2, play(2, user_id=None, username=None)),
        Entry(seq=3, ingested_at=0.0, body=b"{}", name=REDACTED),
        entry(4, normalise({**play(4).as_dict(), "name": "problem_check"})),
    ]
    for config in (
        {},
        {"route": Route(deny=["problem_check"])},
        {"protocol": "caliper", "identity": "username"},
        {"protocol": "edx", "sink": "webhook", "signing_secret": "s"},
    ):
        coder = encoder(**config)
        one_by_one = []
        for item in entries:
            try:
                one_by_one.append(coder.encode(item))
            except Exception as exc:
                one_by_one.append(Skip(f"raised {type(exc).__name__}"))
        assert one_by_one == encode_all(coder, entries), config


def test_the_cache_is_bounded_and_drops_the_oldest_first() -> None:
    cache = TranslationCache(size=2)
    for seq in (1, 2, 3):
        cache.put((seq, "xapi", "anonymous"), [str(seq).encode()])
    assert cache.get((1, "xapi", "anonymous")) is None
    assert cache.get((2, "xapi", "anonymous")) == [b"2"]
    assert cache.get((3, "xapi", "anonymous")) == [b"3"]
    cache.clear()
    assert cache.get((3, "xapi", "anonymous")) is None


def test_forget_drops_only_what_waits_on_the_failed_translation() -> None:
    async def scenario() -> TranslationCache:
        loop = asyncio.get_running_loop()
        failed, other = loop.create_future(), loop.create_future()
        cache = TranslationCache()
        cache.put((1, "xapi", "anonymous"), Pending(failed, 0))
        cache.put((2, "xapi", "anonymous"), Pending(other, 0))
        cache.put((3, "xapi", "anonymous"), [b"done"])
        cache.forget(
            [(1, "xapi", "anonymous"), (2, "xapi", "anonymous"), (3, "xapi", "anonymous")], failed
        )
        return cache

    cache = asyncio.run(scenario())
    assert cache.get((1, "xapi", "anonymous")) is None
    assert isinstance(cache.get((2, "xapi", "anonymous")), Pending)
    assert cache.get((3, "xapi", "anonymous")) == [b"done"]


@pytest.mark.parametrize("protocol", ["xapi", "caliper"])
def test_a_guest_event_is_refused_unless_the_consumer_takes_guests(protocol: str) -> None:
    guest = play(1, user_id=None, username=None, session="s-1")
    (refused,) = encode_all(encoder(protocol=protocol), [entry(1, guest)])
    assert isinstance(refused, Skip) and refused.translation_failed
    (taken,) = encode_all(encoder(protocol=protocol, guest_learners=True), [entry(1, guest)])
    assert statements(taken)
