"""The event inspector's API: find events in the journal, and for one, what each consumer got
(its items and statement ids, or why nothing, and the delivery outcome), within the privacy
settings; and its pages."""

from __future__ import annotations

from typing import Any

import orjson

from event_router.privacy.screen import Screen, parse_drop_fields
from event_router.routing.consumer import Consumer
from tests.web.conftest import SECRET, Web

COURSE = "course-v1:edX+DemoX+Demo_Course"


def enrolment(user: int, course: str = COURSE) -> dict[str, Any]:
    return {
        "name": "edx.course.enrollment.activated",
        "timestamp": f"2024-05-06T07:08:{user % 60:02d}+00:00",
        "data": {"course_id": course, "user_id": user, "mode": "audit"},
        "context": {
            "course_id": course,
            "user_id": user,
            "username": f"ann{user}",
            "org_id": "edX",
            "ip": "10.1.2.3",
        },
    }


def journal(web: Web, *events: dict[str, Any]) -> list[int]:
    first, last = web.journal.submit([orjson.dumps(e) for e in events]).result(timeout=10)
    return list(range(first, last + 1))


def setting(web: Web) -> list[int]:
    add = web.store.consumers.add
    add(Consumer(name="lrs", url="http://a.test/xapi"))
    add(Consumer(name="waiting", url="http://b.test/xapi"))
    add(Consumer(name="refused", url="http://c.test/xapi"))
    add(Consumer(name="videos", url="http://d.test/xapi", route={"allow": ["play_video"]}))
    seqs = journal(web, enrolment(7), enrolment(8, "course-v1:Other+X+1"), enrolment(9))
    web.store.consumers.add(Consumer(name="late", url="http://e.test/xapi"))
    web.journal.submit((), None, {"lrs": seqs[-1], "refused": seqs[-1]}).result(timeout=10)
    return seqs


def test_search_by_learner_course_and_name_newest_first(web: Web) -> None:
    seqs = setting(web)
    client = web.viewer()
    found = client.get("/api/v1/journal/events", params={"course": COURSE}).json()
    assert [e["position"] for e in found["events"]] == [str(seqs[2]), str(seqs[0])]
    assert found["next"] is None and found["examined"] == 3
    by_name = client.get("/api/v1/journal/events", params={"learner": "ann8"}).json()["events"]
    assert [(e["learner"], e["course_id"]) for e in by_name] == [("8", "course-v1:Other+X+1")]
    by_id = client.get("/api/v1/journal/events?learner=9&name=edx.course.enrollment.activated")
    assert [e["position"] for e in by_id.json()["events"]] == [str(seqs[2])]
    page = client.get("/api/v1/journal/events", params={"limit": 2}).json()
    assert page["next"] == str(seqs[1])
    rest = client.get("/api/v1/journal/events", params={"before": page["next"]}).json()
    assert [e["position"] for e in rest["events"]] == [str(seqs[0])]
    bad = client.get(
        "/api/v1/journal/events", params={"since": "2025-01-02", "until": "2025-01-01"}
    )
    assert bad.status_code == 400
    assert client.get("/api/v1/journal/events?before=x").status_code == 400
    assert client.get("/api/v1/journal/events?before=5-0").status_code == 400  # a Redis id
    assert web.client().get("/api/v1/journal/events").status_code == 401


def test_what_each_consumer_got(web: Web) -> None:
    seqs = setting(web)
    item = {"id": "already-sent", "verb": {"id": "http://adlnet.gov/expapi/verbs/registered"}}
    letter = web.store.dead_letters.add(
        "refused", seqs[2], "edx.course.enrollment.activated", enrolment(9), "rejected",
        item=item, status=400, answer="bad",
    )  # fmt: skip
    body = web.viewer().get(f"/api/v1/journal/events/{seqs[2]}").json()
    assert body["event"]["context"]["user_id"] == 9
    got = {c["consumer"]: c for c in body["consumers"]}
    lrs = got["lrs"]
    assert (lrs["outcome"], lrs["reason"]) == ("delivered", "the endpoint acknowledged it")
    [statement] = lrs["items"]
    assert lrs["statement_ids"] == [statement["id"]]
    assert statement["actor"]["account"]["name"] != "9"  # anonymous, as it was sent
    assert got["waiting"]["outcome"] == "pending"
    assert got["waiting"]["statement_ids"] == lrs["statement_ids"]  # same event, same id
    assert got["refused"]["outcome"] == "dead letter"
    assert got["refused"]["items"] == [item] and got["refused"]["statement_ids"] == ["already-sent"]
    assert got["refused"]["dead_letters"] == [{"id": letter, "state": "dead", "status": 400}]
    assert got["videos"]["outcome"] == "not sent"
    assert got["videos"]["reason"] == "route: not in allow list"
    assert got["late"]["outcome"] == "not sent" and "added after" in got["late"]["reason"]
    web.store.dead_letters.mark_for_replay([letter])
    web.store.dead_letters.mark_replayed([letter])
    again = web.viewer().get(f"/api/v1/journal/events/{seqs[2]}").json()
    refused = next(c for c in again["consumers"] if c["consumer"] == "refused")
    assert refused["outcome"] == "delivered" and "replayed" in refused["reason"]
    assert web.viewer().get("/api/v1/journal/events/999").status_code == 404
    assert web.viewer().get("/api/v1/journal/events/1-0").status_code == 404  # a Redis id


def test_forgotten_learners_are_not_found_and_dropped_fields_not_shown(web_engine: Web) -> None:
    web = web_engine
    assert web.engine is not None
    seqs = setting(web)
    web.engine.privacy.screen = Screen(SECRET, parse_drop_fields("ip"))
    shown = web.viewer().get(f"/api/v1/journal/events/{seqs[0]}").json()
    assert "ip" not in shown["event"]["context"]
    # Forgotten through the API: their events are redacted in the journal.
    assert web.admin().post("/api/v1/learners/forget", json={"user_id": 7}).status_code == 200
    client = web.viewer()
    for learner in ("7", "ann7"):
        found = client.get("/api/v1/journal/events", params={"learner": learner}).json()
        assert found["events"] == []
    assert client.get(f"/api/v1/journal/events/{seqs[0]}").status_code == 404
    everything = client.get("/api/v1/journal/events").json()["events"]
    assert [e["position"] for e in everything] == [str(seqs[2]), str(seqs[1])]


def test_the_pages(web: Web) -> None:
    seqs = setting(web)
    session = web.login()
    page = session.client.get("/events", params={"course": COURSE}).text
    assert f'href="/events/{seqs[2]}"' in page and f'href="/events/{seqs[1]}"' not in page
    assert session.client.get("/events?since=yesterday").status_code == 400
    assert session.client.get("/events?before=5-0").status_code == 400
    # The page's inputs are bounded as the API's are (255 characters).
    too_long = session.client.get("/events", params={"learner": "x" * 256})
    assert too_long.status_code == 400 and "at most 255 characters" in too_long.text
    detail = session.client.get(f"/events/{seqs[2]}").text
    assert 'data-consumer="videos"' in detail and "route: not in allow list" in detail
    assert 'data-field="statement-id"' in detail
    assert session.client.get("/events/12345").status_code == 404


def test_a_value_only_in_a_dropped_field_finds_nothing(web_engine: Web) -> None:
    """An event journaled before EVENT_ROUTER_DROP_FIELDS named `username`: a search for the
    username must not find it (and so tie the username to the user id it shows)."""
    web = web_engine
    assert web.engine is not None
    (seq,) = journal(web, enrolment(7))
    web.engine.privacy.screen = Screen(SECRET, parse_drop_fields("username"))
    client = web.viewer()
    assert client.get("/api/v1/journal/events", params={"learner": "ann7"}).json()["events"] == []
    by_id = client.get("/api/v1/journal/events", params={"learner": "7"}).json()["events"]
    assert [e["position"] for e in by_id] == [str(seq)]
    assert "ann7" not in client.get(f"/api/v1/journal/events/{seq}").text
