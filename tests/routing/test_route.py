"""A consumer's route: which events it may see, the rule that decided, and activity types."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from event_router.delivery.encoder import Encoder, Skip, TranslationCache
from event_router.events import normalise
from event_router.journal import Entry
from event_router.routing.consumer import Consumer
from event_router.routing.route import Route, activity_type
from tests.conftest import erb_event, erb_options


def event(name: str = "play_video", **context: Any) -> Any:
    data = context.pop("data", {"id": "v1"})
    return normalise(
        {
            "name": name,
            "timestamp": "2024-01-01T00:00:00+00:00",
            "data": data,
            "context": {"course_id": "course-v1:edX+DemoX+Demo_Course", **context},
        }
    )


def decide(route: dict[str, Any], *args: Any, **kwargs: Any) -> tuple[bool, str]:
    decision = Route(**route).decide(event(*args, **kwargs))
    return decision.allowed, decision.rule


def test_an_empty_route_is_open_and_allows_everything() -> None:
    assert Route().is_open
    assert decide({}) == (True, "allowed")
    for field in ("allow", "deny", "courses", "orgs", "sites", "users"):
        assert not Route(**{field: ["x"]}).is_open
    assert not Route(match_params={"context.org_id": "x"}).is_open


def test_exact_names_are_literal_and_regexes_match_whole_names() -> None:
    assert decide({"allow": ["play_video"]}) == (True, "allow play_video")
    assert decide({"allow": ["edx.video.played"]}, "edxXvideo.played")[0] is False  # dots literal
    assert decide({"allow": [r"edx\.video\..*"]}, "edx.video.played") == (
        True,
        r"allow edx\.video\..*",
    )
    assert decide({"allow": [r"edx\.video"]}, "edx.video.played")[0] is False  # full match only
    assert decide({"allow": ["pause_video"]}) == (False, "not in allow list")


def test_deny_is_checked_after_allow() -> None:
    route = {"allow": [r".*_video"], "deny": ["play_video"]}
    assert decide(route) == (False, "deny play_video")
    assert decide(route, "pause_video") == (True, "allow .*_video")


def test_course_org_site_and_user_restrictions() -> None:
    assert decide({"courses": ["course-v1:edX+DemoX+Demo_Course"]})[0]
    assert decide({"courses": ["course-v1:MITx+X+Y"]}) == (False, "course not in courses")
    assert decide({"orgs": ["edX"]})[0]  # derived from the course key when org_id is absent
    assert decide({"orgs": ["MITx"]}, org_id="MITx")[0]  # org_id wins over the course key
    assert decide({"orgs": ["edX"]}, org_id="MITx") == (False, "org not in orgs")
    assert decide({"sites": ["lms.example.com"]}, host="lms.example.com")[0]
    assert decide({"sites": ["lms.example.com"]}) == (False, "site not in sites")
    assert decide({"users": ["7"]}, user_id=7)[0]  # ids compare as text
    assert decide({"users": ["ana"]}, username="ana")[0]
    assert decide({"users": ["ana"]}, data={"id": "v", "username": "ana"}, username="bob")[0]
    assert decide({"users": ["bob"]}, user_id=8) == (False, "user not in users")


def test_match_params_paths_and_regexes() -> None:
    route = {"match_params": {"context.org_id": ["^edX$", "^MITx$"], "data.id": "v1"}}
    assert decide(route, org_id="MITx")[0]  # list items OR
    assert decide(route, org_id="Harvard") == (False, "match_params context.org_id")
    assert decide(route, org_id="edX", data={"id": "v2"}) == (False, "match_params data.id")
    assert decide({"match_params": {"context.missing.deeper": "x"}})[0] is False
    # Paths address the event as received: a tracking-log line's top-level fields too.
    raw = normalise({"event_type": "x", "time": "2024-01-01T00:00:00Z", "host": "a.org"})
    assert Route(match_params={"host": r"\.org$"}).decide(raw).allowed
    # ERB's paths name the event-tracking layout: `data.*` matches a tracking-log line's `event`.
    line = normalise({"event_type": "x", "time": "2024-01-01T00:00:00Z", "event": '{"id": "v9"}'})
    assert Route(match_params={"data.id": "^v9$"}).decide(line).allowed
    assert Route(match_params={"event": "v9"}).decide(line).allowed  # the raw path still works


@pytest.mark.parametrize("pattern", [".*", "^$", "", "None", ["^x$", ".*"]])
def test_match_params_on_a_missing_key_never_match_as_in_erb(pattern: str | list[str]) -> None:
    """ERB looks the path up (None when absent) and `re.search(pattern, None)` raises, which it
    counts as no match: a rule on a key the event lacks excludes the event whatever the regex.
    The router used to search "" instead, so `.*` or `^$` let such events through."""
    route = {"match_params": {"context.org_id": pattern}}
    assert decide(route) == (False, "match_params context.org_id (missing)")
    assert decide(route, org_id=None) == (False, "match_params context.org_id (missing)")
    assert decide({"match_params": {"data.id": pattern}}, data={}) == (
        False,
        "match_params data.id (missing)",
    )
    assert decide(route, org_id="edX")[0] is (pattern not in ("^$", "None"))
    # an empty string is a value, not a missing key
    assert decide({"match_params": {"context.org_id": "^$"}}, org_id="")[0] is True


@pytest.mark.parametrize(
    "route, message",
    [
        ({"allow": ["edx.(video"]}, "invalid regular expression 'edx.(video'"),
        ({"match_params": {"context.org_id": "(["}}, "match_params['context.org_id']"),
        ({"colours": ["red"]}, "Extra inputs are not permitted"),
    ],
)
def test_bad_routes_are_refused_with_the_reason(route: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Route(**route)


_PLAIN = st.characters(codec="ascii", exclude_characters="*?[]()|^$+{}\\")


@given(name=st.text(_PLAIN, min_size=1, max_size=60).filter(str.strip))
def test_a_plain_name_matches_only_itself(name: str) -> None:
    route = Route(allow=[name])
    assert route.decide(event(name)).allowed
    assert not route.decide(event(name + "x")).allowed


def test_activity_type_of_xapi_and_caliper_items() -> None:
    iri = "https://w3id.org/xapi/video/activity-type/video"
    assert activity_type({"object": {"definition": {"type": iri}}}) == iri
    assert activity_type({"object": {"type": "VideoObject"}}) == "VideoObject"
    assert activity_type({"object": {"objectType": "StatementRef", "id": "x"}}) is None
    assert activity_type({"object": "urn:x"}) is None
    route = Route(activity_types=["video", "AssessmentItem"])
    assert route.is_open  # nothing on the event itself: decided per translated item
    assert route.keeps({"object": {"definition": {"type": iri}}})  # the IRI's last segment
    assert route.keeps({"object": {"type": "AssessmentItem"}})
    assert not route.keeps({"object": {"definition": {"type": iri + "-clip"}}})
    assert Route(activity_types=[iri]).keeps({"object": {"definition": {"type": iri}}})
    assert Route().keeps({"object": {}})


def _encode(consumer: Consumer, name: str) -> list[dict[str, Any]] | Skip:
    source = erb_event(name)
    encoder = Encoder(consumer, erb_options(source), TranslationCache())
    entry = Entry(seq=1, ingested_at=0.0, event=source)
    out = asyncio.run(encoder.encode_all([entry]))[0]
    return out if isinstance(out, Skip) else [orjson.loads(item) for item in out]


def test_a_consumer_gets_only_the_statements_about_its_activity_types() -> None:
    consumer = Consumer(name="x", url="http://127.0.0.1:9/x", route={"activity_types": ["video"]})
    played = _encode(consumer, "play_video")
    assert isinstance(played, list) and len(played) == 1
    assert _encode(consumer, "showanswer") == Skip("activity type not in activity_types")
    # One problem check fans out into a parent and child statements; each is judged alone.
    multi = "problem_check(server,multiple_questions,correct)"
    everything = _encode(Consumer(name="x", url="http://127.0.0.1:9/x"), multi)
    assert isinstance(everything, list) and len(everything) > 1
    interactions = consumer.model_copy(update={"route": Route(activity_types=["cmi.interaction"])})
    kept = _encode(interactions, multi)
    assert isinstance(kept, list)
    assert kept == [s for s in everything if (activity_type(s) or "").endswith("cmi.interaction")]


def test_activity_types_and_overrides_together() -> None:
    consumer = Consumer(
        name="x",
        url="http://127.0.0.1:9/x",
        override_args={"version": "1.0.3"},
        route={"activity_types": ["video"]},
    )
    (statement,) = _encode(consumer, "play_video")  # type: ignore[misc]
    assert statement["version"] == "1.0.3"
    assert _encode(consumer, "showanswer") == Skip("activity type not in activity_types")


def test_caliper_consumers_filter_on_the_caliper_object_type() -> None:
    consumer = Consumer(
        name="c",
        protocol="caliper",
        url="http://127.0.0.1:9/c",
        route={"activity_types": ["VideoObject"]},
    )
    (played,) = _encode(consumer, "play_video")  # type: ignore[misc]
    assert played["object"]["type"] == "VideoObject"
    assert isinstance(_encode(consumer, "showanswer"), Skip)


def test_activity_types_are_refused_for_the_edx_protocol() -> None:
    with pytest.raises(ValidationError, match="not for protocol edx"):
        Consumer(
            name="e",
            protocol="edx",
            url="http://127.0.0.1:9/e",
            route={"activity_types": ["video"]},
        )


@pytest.mark.parametrize(
    "pattern", ["(.*.*)*z", "(a|aa)*b", r"(\w+\.)*x", "(a*)*", "x" * 1001 + ".*"]
)
def test_patterns_that_can_backtrack_for_ever_are_refused(pattern: str) -> None:
    """Python's re has no time limit: one such pattern held the process on a 40-character name."""
    with pytest.raises(ValueError, match="invalid"):
        Route(allow=[pattern])
    with pytest.raises(ValueError, match="invalid"):
        Route(match_params={"context.course_id": pattern})


@pytest.mark.parametrize(
    "pattern", [r"edx\.video\..*", "(play|pause)_video", "[a-z]+_video", r"course-v1:edX\+.*"]
)
def test_ordinary_patterns_are_kept(pattern: str) -> None:
    assert Route(allow=[pattern]).allow == [pattern]


def test_a_pattern_saved_before_the_check_still_loads() -> None:
    """The store loads saved consumers with context stored: an upgrade does not lock them out."""
    from event_router.routing.consumer import Consumer

    saved = {"name": "old", "url": "http://a.test/xapi", "route": {"allow": [r"(\w+\.)*x"]}}
    loaded = Consumer.model_validate(saved, context={"stored": True})
    assert loaded.route.allow == [r"(\w+\.)*x"]
    with pytest.raises(ValueError, match="repeat inside a repeat"):
        Consumer.model_validate(saved)
