"""Several sites, one router: IRIs and learners' ids from the event's own site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from event_router.events import TrackingEvent, normalise
from event_router.routing.identity import IdentityPolicy, IdentityTable
from event_router.routing.sites import SitesError, parse
from event_router.settings import Settings
from event_router.translate import Options, translate
from tests.conftest import ERB, ERB_LMS_URL

SITES = [
    {"lms_url": "https://lms.school-a.org", "orgs": ["SchoolA"]},
    {"lms_url": "https://courses.b.edu/", "hosts": ["B.edu"], "users": "b"},
    {"lms_url": "https://shared.example.com", "hosts": ["shared"], "users": "default"},
]
KNOWN_ID = "11111111-2222-4333-8444-555555555555"


def enrollment(host: str | None = None, course: str = "course-v1:edX+DemoX+Demo_Course") -> Any:
    raw = json.loads((ERB / "events" / "edx.course.enrollment.activated.json").read_text())
    raw["context"].pop("org_id")
    raw["context"]["course_id"] = raw["data"]["course_id"] = course
    if host is None:
        raw["context"].pop("host")
    else:
        raw["context"]["host"] = host
    return normalise(raw)


def options(sites: list[dict[str, Any]] | None = SITES) -> Options:
    table = IdentityTable()
    table.add("xapi", KNOWN_ID, "3", "edx")
    identity = IdentityPolicy("sites-secret", ERB_LMS_URL, table)
    return Options(lms_url=ERB_LMS_URL, identity=identity, sites=parse(json.dumps(sites or [])))


def statement(event: TrackingEvent, with_sites: list[dict[str, Any]] | None = SITES) -> Any:
    [item] = translate(event, "xapi", options(with_sites))
    return item


def test_the_host_chooses_the_lms_url_and_the_users() -> None:
    item = statement(enrollment(host="b.edu"))
    assert item["actor"]["account"]["homePage"] == "https://courses.b.edu"
    assert item["object"]["id"] == "https://courses.b.edu/course/course-v1:edX+DemoX+Demo_Course"
    # user 3 of LMS b is not user 3 of the default LMS: another id, not the imported one
    b_id = item["actor"]["account"]["name"]
    assert b_id != KNOWN_ID
    default = statement(enrollment(host="localhost:18000"))
    assert default["actor"]["account"] == {"name": KNOWN_ID, "homePage": ERB_LMS_URL}
    assert item["id"] != default["id"]
    # the site's own host (from its lms_url) is known too, case aside
    assert statement(enrollment(host="COURSES.B.EDU"))["actor"]["account"]["name"] == b_id


def test_the_org_chooses_when_the_host_does_not() -> None:
    item = statement(enrollment(host=None, course="course-v1:SchoolA+X1+2024"))
    assert item["actor"]["account"]["homePage"] == "https://lms.school-a.org"
    assert item["object"]["id"].startswith("https://lms.school-a.org/course/")
    unknown_host = statement(enrollment(host="elsewhere.org", course="course-v1:SchoolA+X1+2024"))
    assert unknown_host["object"]["id"] == item["object"]["id"]
    # a site with its own URL and no `users` has users of its own
    assert item["actor"]["account"]["name"] != KNOWN_ID


def test_sites_sharing_the_default_users_keep_imported_ids() -> None:
    item = statement(enrollment(host="shared"))
    assert item["actor"]["account"] == {"name": KNOWN_ID, "homePage": "https://shared.example.com"}


def test_without_sites_or_for_other_events_nothing_changes() -> None:
    """An event of no listed site is translated exactly as without sites (ERB's ids kept)."""
    for host in ("localhost:18000", "elsewhere.org", None):
        event = enrollment(host=host)
        assert statement(event) == statement(event, with_sites=None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{", "EVENT_ROUTER_SITES is not valid JSON"),
        ('{"lms_url": "https://a"}', "must be a JSON list of sites"),
        ('[{"hosts": ["a"]}]', "EVENT_ROUTER_SITES[0].lms_url: must be an http(s) URL"),
        ('[{"lms_url": "https://a", "org": ["x"]}]', "unknown key(s) org"),
        ('[{"lms_url": "https://a"}, {"lms_url": "https://b", "hosts": ["a"]}]', "host 'a'"),
        ('[{"lms_url": "https://a", "orgs": [1]}]', "orgs: expected a list of names"),
    ],
)
def test_bad_sites_are_refused_with_the_reason(value: str, message: str) -> None:
    with pytest.raises(SitesError) as raised:
        parse(value)
    assert message in str(raised.value)
    with pytest.raises(ValueError, match="sites"):
        Settings(sites=value)


def test_transform_takes_the_sites_from_the_environment(tmp_path: Path) -> None:
    """The CLI (and every translating process, which inherits the environment) uses them."""
    events = tmp_path / "events.jsonl"
    lines = [enrollment(host=h).as_dict() for h in ("b.edu", "localhost:18000")]
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    env = {
        **os.environ,
        "EVENT_ROUTER_HOME": str(tmp_path / "home"),
        "EVENT_ROUTER_SECRET_KEY": "sites-secret",
        "EVENT_ROUTER_LMS_URL": ERB_LMS_URL,
        "EVENT_ROUTER_SITES": json.dumps(SITES),
    }
    done = subprocess.run(
        [sys.executable, "-m", "event_router", "transform", "--to", "caliper", str(events)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["object"]["id"].startswith("https://courses.b.edu/course/")
    assert first["actor"]["id"].startswith("https://courses.b.edu/user/")
    assert second["object"]["id"].startswith(ERB_LMS_URL + "/course/")
    bad = subprocess.run(
        [sys.executable, "-m", "event_router", "transform", str(events)],
        env={**env, "EVENT_ROUTER_SITES": "[1]"},
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "EVENT_ROUTER_SITES[0]" in bad.stderr
