"""The consumer form's helpers: every problem at once, "test connection" with the values in the
form (blank secrets = the stored ones), the event-name picker and the route preview."""

from __future__ import annotations

import re

import orjson
import pytest

from tests.peers.receiver import Receiver
from tests.support.web import FULL_FORM, messages, post
from tests.web.conftest import Session, Web


def _check(session: Session, data: dict[str, str]) -> tuple[int, dict[str, object]]:
    answer = session.client.post(
        "/consumers/check",
        data={"csrf_token": session.csrf, **data},
        headers={"X-CSRF-Token": session.csrf},
    )
    return answer.status_code, answer.json()


def test_all_problems_show_at_once_each_marked_at_its_field(web: Web) -> None:
    session = web.login()
    bad = {**FULL_FORM, "name": "Bad Name", "timeout": "soon", "url": "", "allow": "("}
    page = post(session, "/consumers/new", bad)
    assert page.status_code == 400
    shown = messages(page.text)
    assert len(shown) == 4, shown  # the name, the number, the URL and the regex together
    for field in ("name", "timeout", "url", "allow"):
        tag = re.search(rf'<(input|textarea) id="f-{field}"[^>]*>', page.text)
        assert tag and 'aria-invalid="true"' in tag.group(0), field
        assert f'aria-describedby="e-{field}"' in tag.group(0)


def test_test_connection_uses_the_form_values_and_the_stored_secret(
    web: Web, receiver: Receiver
) -> None:
    session = web.login()
    receiver.require_basic("key", "stored-secret")
    form = {
        **FULL_FORM,
        "name": "lrs",
        "url": f"{receiver.url}/xapi/statements",
        "password": "stored-secret",
        "headers": "",
    }
    # Not saved yet: the values typed are what is tested.
    status, answer = _check(session, form)
    assert status == 200 and answer["ok"] is True, answer
    assert post(session, "/consumers/new", form).status_code == 303
    # Saved; the password box left blank means the stored one.
    status, answer = _check(session, {**form, "password": "", "existing": "lrs"})
    assert status == 200 and answer["ok"] is True, answer
    # A wrong password typed in the form is tested as typed (and nothing is saved).
    status, answer = _check(session, {**form, "password": "typo", "existing": "lrs"})
    assert status == 200 and answer["ok"] is False and answer["status"] == 401
    assert web.store.consumers.get("lrs").password == "stored-secret"
    # Another host: the stored password does not follow the URL there.
    moved = {**form, "password": "", "existing": "lrs", "url": "http://127.0.0.2:9/x"}
    status, answer = _check(session, moved)
    assert status == 400 and "password" in str(answer["errors"]) + str(answer["general"])
    assert receiver.requests == 3


def test_test_connection_answers_field_errors_and_needs_an_admin(web: Web) -> None:
    session = web.login()
    status, answer = _check(session, {**FULL_FORM, "batch_size": "x", "url": ""})
    assert status == 400
    errors = answer["errors"]
    assert isinstance(errors, dict) and {"batch_size", "url"} <= set(errors)
    no_csrf = session.client.post("/consumers/check", data=FULL_FORM)
    assert no_csrf.status_code == 403
    viewer = web.login("victor", "victor-password")
    refused = viewer.client.post("/consumers/check", data={"csrf_token": viewer.csrf, **FULL_FORM})
    assert refused.status_code == 403


def _events(web: Web, *names: str) -> None:
    bodies = [
        orjson.dumps({"name": n, "time": "2024-01-01T00:00:00+00:00", "context": {"user_id": 1}})
        for n in names
    ]
    web.journal.submit(bodies).result()


def test_route_preview_counts_recent_matches_and_hints_at_unknown_patterns(web: Web) -> None:
    _events(web, "play_video", "play_video", "pause_video", "problem_check")
    api = web.viewer()  # read only: viewers may use it
    answer = api.post(
        "/api/v1/playground/route",
        json={"protocol": "xapi", "route": {"allow": ["edx\\.video\\..*"]}},
    ).json()
    assert answer["scanned"] == 4 and answer["matched"] == 0
    (hint,) = answer["hints"]
    assert "matches none of the recent" in hint and "play_video" in hint and "pause_video" in hint
    answer = api.post(
        "/api/v1/playground/route",
        json={"protocol": "xapi", "route": {"allow": [".*_video"], "deny": ["pause_video"]}},
    ).json()
    assert answer["matched"] == 2 and answer["hints"] == []
    rows = {row["name"]: row for row in answer["names"]}
    assert rows["play_video"] == {
        "name": "play_video",
        "events": 2,
        "matched": 2,
        "rule": "allow .*_video",
    }
    assert rows["pause_video"]["rule"] == "deny pause_video"
    typo = {"allow": ["edx\\.vidoe\\..*", "play_vidoe"], "deny": ["pause_video"]}
    hints = api.post("/api/v1/playground/route", json={"route": typo}).json()["hints"]
    assert len(hints) == 2 and "matches none of the" in hints[0] and "not a known" in hints[1]
    bad = api.post("/api/v1/playground/route", json={"route": {"allow": ["("]}})
    assert bad.status_code == 400
    assert web.client().post("/api/v1/playground/route", json={}).status_code == 401


def test_event_names_come_from_the_translation_registry(web: Web) -> None:
    names = web.viewer().get("/api/v1/playground/event-names?protocol=xapi").json()["names"]
    assert "play_video" in names and "edx.course.enrollment.activated" in names
    assert names == sorted(names)
    page = web.login().client.get("/consumers/new").text
    assert '<datalist id="event-names">' in page and '<option value="play_video">' in page


@pytest.mark.timeout(30)
def test_a_route_preview_refuses_a_pattern_that_backtracks_for_ever(web: Web) -> None:
    """Any viewer may preview a route: `(.*.*)*z` used to hold the whole router (the GIL) for
    hours matching the known event names. It is a 4xx at once now."""
    answer = web.viewer().post(
        "/api/v1/playground/route", json={"protocol": "xapi", "route": {"allow": ["(.*.*)*z"]}}
    )
    assert answer.status_code in (400, 422), answer.text
    assert "repeat inside a repeat" in answer.text
