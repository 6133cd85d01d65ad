"""A plugin package installed into a site directory of its own, used by the router as a process.

The sample package (tests/plugins/sample_plugin) adds a translation for a new event, replaces an
existing one and offers hooks; `pip install --target` puts it beside, not into, the router's
environment, and the router finds it through PYTHONPATH as any installed package.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.peers.receiver import Receiver
from tests.peers.router import ROUTER, Router
from tests.support.traffic import play
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(300)

SAMPLE = Path(__file__).parent / "sample_plugin"
TAG = "https://example.org/extensions/tagged-by"
BADGE_VERB = "https://w3id.org/xapi/openbadges/verbs/earned"
ENROLLED_VERB = "https://example.org/verbs/enrolled-by-plugin"
COURSE = "course-v1:edX+DemoX+Demo_Course"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample plugin installed into a temporary site directory (built from a copy, so the
    build leaves nothing in the source tree)."""
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(SAMPLE, work / "source")
    target = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(source)],
        check=True,
        capture_output=True,
        timeout=240,
    )  # fmt: skip
    return target


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made = [Receiver() for _ in range(3)]
    for receiver in made:
        receiver.up()
    yield made
    for receiver in made:
        receiver.down()


def _event(name: str, data: dict[str, object], second: int) -> dict[str, object]:
    return {
        "name": name,
        "timestamp": f"2024-02-02T00:00:{second:02d}.000000+00:00",
        "data": data,
        "context": {"course_id": COURSE, "org_id": "edX", "user_id": 3, "session": "s"},
    }


def _consumer(router: Router, name: str, receiver: Receiver, **extra: object) -> None:
    router.add_consumer(
        name=name,
        protocol="xapi",
        url=receiver.url + "/xapi/statements",
        batch_size=200,
        linger=0.2,
        **extra,
    )


def test_plugins_list_names_each_entry_point(site: Path) -> None:
    listed = subprocess.run(
        [*ROUTER, "plugins", "list", "--json"],
        env={"PYTHONPATH": str(site), "PATH": ""},
        capture_output=True,
        check=True,
    )
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["sample-badges"]["kind"] == "translator"
    assert rows["sample-badges"]["events"] == ["sample.badge.earned"]
    assert rows["sample-badges"]["package"] == "event-router-sample-plugin"
    assert rows["sample-badges"]["version"] == "0.3.1"
    assert rows["sample-enrollment"]["events"] == ["edx.course.enrollment.activated"]
    assert rows["sample-tag"] == {**rows["sample-tag"], "kind": "hook", "stages": ["after"]}
    assert rows["sample-boom"]["stages"] == ["before"]
    assert rows["sample-boom"]["entry_point"] == "event_router_sample_plugin:BOOM"
    assert all(row["error"] is None for row in rows.values())


def test_router_runs_plugin_translations_and_each_consumers_hooks(
    tmp_path: Path, site: Path, receivers: list[Receiver]
) -> None:
    plain, tagged, checked = receivers
    router = Router(tmp_path / "home", PYTHONPATH=str(site), EVENT_ROUTER_TRANSLATION_WORKERS="2")
    _consumer(router, "plain", plain)
    _consumer(router, "tagged", tagged, hooks=["sample-tag", "sample-boom"])
    _consumer(router, "checked", checked, hooks=["sample-invalid"], validate=True)
    router.add_consumer(name="ghost", url="http://127.0.0.1:9/x", hooks=["sample-ghost"])
    plays = [play(i) for i in range(100)]  # currentTime 13: sample-boom raises; 7: invalid
    extra = [
        _event("sample.badge.earned", {"badge": "gold"}, 1),
        _event("edx.course.enrollment.activated", {"course_id": COURSE, "mode": "audit"}, 2),
    ]
    with router:
        answer = router.api("POST", "/api/v1/playground", json=play(7))
        assert answer.status_code == 200, answer.text
        tried = answer.json()["results"]
        assert router.post(plays + extra).status_code == 202
        plain.wait_for(102, timeout=60)
        tagged.wait_for(101, timeout=60)
        checked.wait_for(101, timeout=60)
        wait_until(
            lambda: router.status()["consumers"]["checked"]["dead_letters"] == 1, 30, "letter"
        )
        status = router.status()["consumers"]
        metrics = httpx.get(
            f"{router.url}/metrics", headers={"Authorization": f"Bearer {router.token}"}
        ).text

    # A new event translated, an existing one replaced: for every consumer.
    for receiver in receivers:
        verbs = [r.item["verb"]["id"] for r in receiver.received]
        assert verbs.count(BADGE_VERB) == 1
        assert verbs.count(ENROLLED_VERB) == 1
        assert "http://adlnet.gov/expapi/verbs/registered" not in verbs
    # The hook adds its extension for the consumer that chose it, and for no other.
    assert all(TAG in r.item["context"]["extensions"] for r in tagged.received)
    assert not any(TAG in r.item.get("context", {}).get("extensions", {}) for r in plain.received)
    # The raising hook costs only its event, with the reason.
    played = [r.item["result"]["extensions"] for r in tagged.received if "result" in r.item]
    times = sorted(e["https://w3id.org/xapi/video/extensions/time"] for e in played)
    assert times == [i for i in range(100) if i != 13]
    reasons = status["tagged"]["skip_reasons"]
    assert any("sample-boom failed (RuntimeError: unlucky thirteen)" in r for r in reasons)
    assert status["plain"]["untranslatable"] == 0
    # A hook the router lacks pauses its consumer (nothing skipped), with the reason.
    assert status["ghost"]["state"] == "paused" and status["ghost"]["events"] == 0
    assert "hook(s) not installed in the router: sample-ghost" in status["ghost"]["last_error"]
    # The invalid statement is a dead letter with the reason; the valid ones were delivered.
    assert all(r.item["verb"]["id"] != "not an iri" for r in checked.received)
    with router.store() as store:
        (letter,) = store.dead_letters.list(consumer="checked")
    assert letter.item["verb"]["id"] == "not an iri"
    assert "$.verb.id: not an IRI" in letter.answer
    assert letter.event is not None and letter.event["data"]["currentTime"] == 7
    # The playground shows what each hook did, and what validate would refuse.
    shown = {r["consumer"]: r for r in tried}
    assert "hooks" not in shown["plain"]
    (tag, boom) = shown["tagged"]["hooks"]
    assert tag["hook"] == "sample-tag" and tag["effect"] == "changed"
    assert tag["changes"] == [f'added [0].context.extensions.{TAG} = "sample-plugin"']
    assert boom == {"hook": "sample-boom", "effect": "unchanged", "changes": []}
    (invalid,) = shown["checked"]["hooks"]
    assert invalid["changes"] == ['changed [0].verb.id to "not an iri"']
    assert shown["checked"]["invalid"] == [["$.verb.id: not an IRI"]]
    # Timed and counted per consumer.
    failed = (
        'event_router_plugin_calls_total{consumer="tagged",outcome="failed",'
        'plugin="sample-boom",stage="before"} 1.0'
    )
    assert failed in metrics
    assert 'event_router_plugin_calls_total{consumer="tagged",outcome="ok",plugin="sample-tag"' in (
        metrics
    )


def test_transform_uses_plugin_translations_and_the_hooks_named(tmp_path: Path, site: Path) -> None:
    source = tmp_path / "events.jsonl"
    events = [play(12), play(13), _event("sample.badge.earned", {"badge": "gold"}, 3)]
    source.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    done = subprocess.run(
        [*ROUTER, "transform", "--workers", "2", "--hook", "sample-tag", "--hook", "sample-boom",
         str(source)],
        env={"PYTHONPATH": str(site), "PATH": "", "EVENT_ROUTER_HOME": str(tmp_path / "home"),
             "EVENT_ROUTER_SECRET_KEY": "transform"},
        capture_output=True,
        check=True,
    )  # fmt: skip
    items = [json.loads(line) for line in done.stdout.splitlines()]
    assert [i["verb"]["id"] for i in items][-1] == BADGE_VERB
    assert len(items) == 2 and all(TAG in i["context"]["extensions"] for i in items)
    assert b"sample-boom failed (RuntimeError: unlucky thirteen)" in done.stderr
