"""How a learner appears in the `edx` protocol (anonymous by default, `raw` opt-in) and how a
guest learner (no user id, no username) appears to a consumer that takes guests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from event_router.delivery.encoder import Encoder, Skip, TranslationCache
from event_router.events import TrackingEvent, normalise
from event_router.journal import Entry
from event_router.routing.consumer import Consumer
from event_router.routing.identity import NO_LEARNER, IdentityPolicy, Policy
from event_router.translate import Options, translate
from event_router.translate.workers import translated
from tests.conftest import ERB
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

SECRET, LMS = "identity-tests", "http://lms.test"


def options(policy: Policy = Policy.ANONYMOUS) -> Options:
    return Options(lms_url=LMS, identity=IdentityPolicy(SECRET, LMS, policy=policy))


def fixture(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((ERB / "events" / f"{name}.json").read_text())
    return raw


def guest(name: str = "play_video", session: str | None = "sess-1") -> TrackingEvent:
    raw = fixture(name)
    for key in ("user_id", "username"):
        raw["context"].pop(key, None)
    if session is None:
        raw["context"].pop("session")
    else:
        raw["context"]["session"] = session
    return normalise(raw)


def edx_item(consumer: Consumer, event: TrackingEvent) -> dict[str, Any]:
    policy = Policy(consumer.identity)
    encoder = Encoder(consumer, options(policy), TranslationCache())
    result = encoder.encode(Entry(1, 0.0, event))
    assert not isinstance(result, Skip), result
    (item,) = result
    parsed: dict[str, Any] = json.loads(item)
    return parsed


def edx_consumer(**fields: Any) -> Consumer:
    return Consumer(name="raw-events", protocol="edx", url="http://hook.test/", **fields)


def test_edx_is_anonymous_by_default() -> None:
    event = normalise(fixture("play_video"))
    item = edx_item(edx_consumer(), event)
    context = item["context"]
    assert "ip" not in context and "agent" not in context
    pseudonym = context["user_id"]
    assert context["username"] == pseudonym and pseudonym not in ("3", 3, "edx")
    assert len(pseudonym) == 36  # a UUID derived with the secret key, as xAPI's anonymous ids
    assert item["data"] == event.data and item["name"] == "play_video"
    text = json.dumps(item)
    assert '"edx"' not in text and "172.18.0.1" not in text and "Mozilla" not in text


def test_edx_names_the_learner_acted_upon_by_their_own_pseudonym() -> None:
    raw = fixture("edx.course.enrollment.activated")
    raw["context"].update(user_id=1, username="staff")
    raw["data"]["user_id"] = 42
    item = edx_item(edx_consumer(), normalise(raw))
    assert item["data"]["user_id"] not in (42, "42")
    assert item["data"]["user_id"] != item["context"]["user_id"]
    assert item["context"]["username"] == item["context"]["user_id"]


def test_edx_username_policy_keeps_usernames_only() -> None:
    item = edx_item(edx_consumer(identity="username"), normalise(fixture("play_video")))
    assert item["context"]["username"] == "edx" and "user_id" not in item["context"]
    assert "ip" not in item["context"]


def test_edx_raw_is_the_event_as_received_when_asked_for() -> None:
    event = normalise(fixture("play_video"))
    assert edx_item(edx_consumer(identity="raw"), event) == event.as_dict()


def test_raw_is_only_for_protocol_edx() -> None:
    with pytest.raises(ValueError, match="identity raw is for protocol edx"):
        Consumer(name="lrs", url="http://lrs.test/xapi", identity="raw")


def test_without_guests_an_event_of_no_learner_is_refused() -> None:
    assert translated(guest(), "xapi", options()) == NO_LEARNER


@pytest.mark.parametrize("name", ["play_video", "edx.ui.lms.link_clicked", "load_video"])
def test_a_guest_gets_a_valid_per_session_actor(name: str) -> None:
    guests = options().identity.for_guests("lrs")
    opts = Options(lms_url=LMS, identity=guests)
    (statement,) = translate(guest(name), "xapi", opts)
    assert_valid_xapi(statement)
    account = statement["actor"]["account"]
    assert account["homePage"] == LMS and account["name"].startswith("guest-")
    (event,) = translate(guest(name), "caliper", opts)
    assert_valid_caliper_event(event)
    assert event["actor"]["id"] == f"{LMS}/user/{account['name']}"


def test_a_guest_pseudonym_is_stable_in_a_session_and_unlinkable_across_consumers() -> None:
    base = options().identity
    one, other = base.for_guests("lrs-a"), base.for_guests("lrs-b")
    first = one.xapi_actor(guest(session="s1")).value
    assert one.xapi_actor(guest("pause_video", session="s1")).value == first
    assert one.xapi_actor(guest(session="s2")).value != first
    assert other.xapi_actor(guest(session="s1")).value != first
    # No session: nothing to be stable within; still refused.
    with pytest.raises(ValueError, match="names no learner"):
        one.xapi_actor(guest(session=None))


def test_a_guest_consumer_translates_what_the_shared_translation_refused() -> None:
    """Consumers share translations by (protocol, policy): a guest event fails there for every
    consumer alike, and one that takes guests translates it again with its own pseudonyms."""
    cache = TranslationCache()
    opts = options()
    entries = [Entry(1, 0.0, guest()), Entry(2, 0.0, normalise(fixture("play_video")))]
    plain = Encoder(Consumer(name="a", url="http://a.test/x"), opts, cache)
    guests = Encoder(Consumer(name="b", url="http://b.test/x", guest_learners=True), opts, cache)
    refused, named = asyncio.run(plain.encode_all(entries))
    assert refused == Skip(NO_LEARNER, translation_failed=True)
    taken, same = asyncio.run(guests.encode_all(entries))
    assert same == named
    assert not isinstance(taken, Skip)
    statement = json.loads(taken[0])
    assert_valid_xapi(statement)
    assert statement["actor"]["account"]["name"].startswith("guest-")
    guests.options = options()  # new tables: the guests' options follow
    assert not isinstance(guests.encode(entries[0]), Skip)
