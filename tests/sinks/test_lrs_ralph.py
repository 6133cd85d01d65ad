"""The LRS sink against a real Ralph LRS: what Ralph answers, and how each answer is classified.

Ralph 5.1.0 (fs backend, strict mode) answers, for POST /xAPI/statements:
- new statements: 200 with their ids;
- every statement already stored (equivalent): 204, nothing written;
- some already stored (equivalent), some new: 200 with only the new ids, the new ones written;
- an id stored with a *different* statement: 409 for the whole batch, nothing written;
- a statement failing its (lax) validation: 422 for the whole batch, nothing written;
- the same id twice in one batch: 400.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from event_router.routing.consumer import Consumer
from event_router.sinks import Verdict
from tests.peers.payloads import encode, send, statement
from tests.peers.ralph import Ralph

pytestmark = pytest.mark.slow


def consumer(ralph: Ralph, **extra: Any) -> Consumer:
    settings: dict[str, Any] = {
        "auth": "basic",
        "username": ralph.username,
        "password": ralph.password,
    }
    settings.update(extra)
    return Consumer(name="ralph", protocol="xapi", url=ralph.url, **settings)


def test_a_batch_is_stored_and_every_kind_of_replay_counts_as_delivered(ralph: Ralph) -> None:
    batch = [statement() for _ in range(5)]
    extra = statement()
    stored, replayed, overlapping = send(
        consumer(ralph), encode(*batch), encode(*batch), encode(batch[0], extra)
    )
    assert (stored.verdict, stored.status) == (Verdict.DELIVERED, 200)
    assert orjson.loads(stored.detail) == [s["id"] for s in batch]
    assert (replayed.verdict, replayed.status) == (Verdict.DELIVERED, 204)
    assert (overlapping.verdict, overlapping.status) == (Verdict.DELIVERED, 200)
    assert orjson.loads(overlapping.detail) == [extra["id"]]
    ids = ralph.ids()
    for item in [*batch, extra]:
        assert ids.count(item["id"]) == 1


def test_a_different_statement_under_a_stored_id_is_a_duplicate(ralph: Ralph) -> None:
    original, fresh = statement(), statement()
    changed = statement(original["id"], verb={"id": "http://adlnet.gov/expapi/verbs/completed"})
    first, batch, single = send(
        consumer(ralph), encode(original), encode(changed, fresh), encode(changed)
    )
    assert first.verdict is Verdict.DELIVERED
    assert (batch.verdict, batch.status) == (Verdict.DUPLICATE, 409)  # the engine splits it
    assert (single.verdict, single.status) == (Verdict.DUPLICATE, 409)  # alone: delivered
    assert "Differing statements already exist" in single.detail
    assert fresh["id"] not in ralph.ids()  # a 409 batch is refused whole


def test_an_invalid_statement_rejects_its_batch(ralph: Ralph) -> None:
    good, bad = statement(), statement()
    del bad["verb"]
    (outcome,) = send(consumer(ralph), encode(good, bad))
    assert (outcome.verdict, outcome.status) == (Verdict.REJECTED, 422)
    assert '"verb"' in outcome.detail and "Field required" in outcome.detail
    assert good["id"] not in ralph.ids()


def test_the_same_id_twice_in_a_batch_is_rejected(ralph: Ralph) -> None:
    twice = statement()
    (outcome,) = send(consumer(ralph), encode(twice, twice))
    assert (outcome.verdict, outcome.status) == (Verdict.REJECTED, 400)


def test_wrong_credentials_pause(ralph: Ralph) -> None:
    (outcome,) = send(consumer(ralph, password="wrong"), encode(statement()))
    assert (outcome.verdict, outcome.status) == (Verdict.PAUSE, 401)


def test_many_posts_append_to_the_fs_backend(ralph: Ralph) -> None:
    batches = [encode(*(statement() for _ in range(3))) for _ in range(4)]
    outcomes = send(consumer(ralph), *batches)
    assert [o.status for o in outcomes] == [200] * 4
    ids = set(ralph.ids())
    assert all(orjson.loads(item)["id"] in ids for batch in batches for item in batch)
