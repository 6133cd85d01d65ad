"""`POST /api/v1/playground`: per consumer, the route decision with its rule and the exact items."""

from __future__ import annotations

import json
from typing import Any

import pytest

from event_router.events import normalise
from event_router.routing.consumer import Consumer
from event_router.routing.identity import IdentityPolicy, Policy
from event_router.translate import Options, translate
from tests.conftest import ERB
from tests.web.conftest import LMS, SECRET, Web

ENROLLMENT = json.loads((ERB / "events" / "edx.course.enrollment.activated.json").read_text())


def consumers(web: Web) -> None:
    add = web.store.consumers.add
    add(Consumer(name="everything", url="http://a.test/xapi"))
    add(Consumer(name="videos", url="http://b.test/xapi", route={"allow": ["edx\\.video\\..*"]}))
    add(
        Consumer(
            name="no-enrol",
            url="http://c.test/xapi",
            route={"deny": ["edx.course.enrollment.activated"]},
        )
    )
    add(Consumer(name="cal", protocol="caliper", url="http://d.test/caliper", enabled=False))
    add(Consumer(name="named", url="http://e.test/xapi", identity="username"))
    add(Consumer(name="versioned", url="http://g.test/xapi", override_args={"version": "1.0.3"}))
    add(
        Consumer(
            name="raw",
            protocol="edx",
            sink="webhook",
            url="http://f.test/hook",
            identity="raw",
            signing_secret="s",
        )
    )


def reference(event: dict[str, Any], protocol: str, policy: Policy) -> list[dict[str, Any]]:
    """What `transform` computes for the same secret and LMS."""
    options = Options(lms_url=LMS, identity=IdentityPolicy(SECRET, LMS, None, policy))
    return translate(normalise(event), protocol, options)


@pytest.mark.parametrize("fixture", ["web", "web_engine"])
def test_each_consumer_gets_its_decision_rule_and_exact_items(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    web: Web = request.getfixturevalue(fixture)
    consumers(web)
    answer = web.viewer().post("/api/v1/playground", json=ENROLLMENT)
    assert answer.status_code == 200
    data = answer.json()
    assert data["event"]["name"] == "edx.course.enrollment.activated"
    assert data["event"]["course_id"] == "course-v1:edX+DemoX+Demo_Course"
    results = {r["consumer"]: r for r in data["results"]}
    assert list(results) == ["cal", "everything", "named", "no-enrol", "raw", "versioned", "videos"]

    assert results["everything"]["allowed"] is True and results["everything"]["rule"] == "allowed"
    assert results["everything"]["items"] == reference(ENROLLMENT, "xapi", Policy.ANONYMOUS)
    assert results["videos"] == {
        **results["videos"],
        "allowed": False,
        "rule": "not in allow list",
        "items": [],
    }
    assert results["no-enrol"]["rule"] == "deny edx.course.enrollment.activated"
    assert results["cal"]["enabled"] is False
    assert results["cal"]["items"] == reference(ENROLLMENT, "caliper", Policy.ANONYMOUS)
    # `data` names the learner by id only, so the username policy cannot name them: a reason.
    assert results["named"]["allowed"] is True and results["named"]["items"] == []
    assert results["named"]["error"] == "event has no username (identity policy `username`)"
    (versioned,) = results["versioned"]["items"]
    assert versioned == {**reference(ENROLLMENT, "xapi", Policy.ANONYMOUS)[0], "version": "1.0.3"}
    assert results["raw"]["items"] == [normalise(ENROLLMENT).as_dict()]


def test_untranslatable_events_say_why(web: Web) -> None:
    consumers(web)
    event = {"name": "edx.unheard.of", "timestamp": "2024-01-01T00:00:00Z", "context": {}}
    answer = web.viewer().post("/api/v1/playground", json=event).json()
    results = {r["consumer"]: r for r in answer["results"]}
    assert results["everything"]["allowed"] is True
    assert results["everything"]["items"] == []
    assert results["everything"]["error"] == "no xapi translation for this event"
    assert results["raw"]["items"][0]["name"] == "edx.unheard.of"  # edx needs no translation


def test_tracking_log_layout_is_accepted(web: Web) -> None:
    consumers(web)
    line = {
        "event_type": "play_video",
        "time": "2024-01-01T00:00:00.000000+00:00",
        "event": json.dumps({"id": "abc", "currentTime": 3, "duration": 600, "code": "html5"}),
        "username": "edx",
        "context": {"course_id": "course-v1:edX+DemoX+Demo_Course", "user_id": 3},
    }
    answer = web.viewer().post("/api/v1/playground?consumer=videos", json=line).json()
    (result,) = answer["results"]
    assert result["allowed"] is False  # play_video is not edx.video.*: only "videos" was asked


def test_only_named_consumers(web: Web) -> None:
    consumers(web)
    answer = web.viewer().post(
        "/api/v1/playground", params=[("consumer", "cal"), ("consumer", "raw")], json=ENROLLMENT
    )
    assert [r["consumer"] for r in answer.json()["results"]] == ["cal", "raw"]
    missing = web.viewer().post("/api/v1/playground?consumer=ghost", json=ENROLLMENT)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{broken", "invalid request"),
        (b"", "invalid request"),
        (b"[1]", "not a tracking event"),
        (b'{"no": "name"}', "not a tracking event"),
        (b'{"name": "x", "timestamp": "yesterday"}', "not a tracking event"),
    ],
)
def test_bad_events_are_400(web: Web, body: bytes, reason: str) -> None:
    response = web.viewer().post(
        "/api/v1/playground", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)


def test_no_consumers_gives_no_results(web: Web) -> None:
    answer = web.viewer().post("/api/v1/playground", json=ENROLLMENT).json()
    assert answer["results"] == [] and answer["event"]["user"] == "3"
