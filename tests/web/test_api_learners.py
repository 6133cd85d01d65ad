"""`POST /api/v1/learners/forget`: admins only; the learner's journal events are redacted, and
their later events are dropped at ingest (both body kinds), counted in status and metrics."""

from __future__ import annotations

import orjson

from event_router.journal.entry import REDACTED
from event_router.sources.intake import Intake
from tests.privacy.conftest import bus_event
from tests.support.web import samples
from tests.web.conftest import Web


def ingest(web: Web, *raws: dict[str, object], ndjson: bool = False) -> None:
    client = web.client()
    if ndjson:
        body = b"\n".join(orjson.dumps(raw) for raw in raws)
        answer = client.post(
            "/api/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"}
        )
    else:
        answer = client.post("/api/v1/events", json=list(raws))
    assert answer.status_code == 202, answer.text


def test_forget_needs_an_admin_and_a_learner(web_engine: Web) -> None:
    body = {"user_id": 7}
    assert web_engine.client().post("/api/v1/learners/forget", json=body).status_code == 401
    assert web_engine.viewer().post("/api/v1/learners/forget", json=body).status_code == 403
    answer = web_engine.admin().post("/api/v1/learners/forget", json={"username": " "})
    assert answer.status_code == 422 and "user id" in answer.json()["error"]
    assert web_engine.store.retired.count() == 0


def test_a_forgotten_learner_is_redacted_then_dropped_at_ingest(web_engine: Web) -> None:
    web = web_engine
    assert web.engine is not None
    web.app.state.ingest.intake = Intake(web.journal, privacy=web.engine.privacy)  # as `run`
    web.app.state.ingest.open = True  # as `run --ingest-open`
    ingest(web, bus_event(7, "ann"), bus_event(8, "bob"), bus_event(None, "ann"))
    answer = web.admin().post("/api/v1/learners/forget", json={"user_id": 7, "username": "ann"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "forgotten": True,
        "control_plane": {"identities": 0, "dead_letters": 0, "retired_keys": 2},
        "journal": {"kind": "sqlite", "events": 2, "action": "redacted in place"},
    }
    entries, _ = web.journal.read(0, 100)
    assert [entry.name == REDACTED for entry in entries] == [True, False, True]
    # From now on their events never reach the journal, whichever body they come in.
    ingest(web, bus_event(7, None), bus_event(9, "cy"))
    ingest(web, bus_event(None, "ann"), bus_event(10, "di"), ndjson=True)
    entries, _ = web.journal.read(3, 100)
    assert [orjson.loads(entry.body)["context"].get("user_id") for entry in entries] == [9, 10]
    status = web.viewer().get("/api/v1/status").json()
    assert status["privacy"] == {
        "retired_learners": 2,
        "retired_events_dropped": 2,
        "retired_in_force": 2,
    }
    metrics = samples(web.viewer().get("/metrics").text)
    assert metrics[("event_router_retired_learners", ())] == 2
    assert metrics[("event_router_retired_events_dropped_total", ())] == 2
