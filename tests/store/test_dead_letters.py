"""Dead letters: recorded with the endpoint's answer, listed, replayed, discarded."""

from __future__ import annotations

import pytest

from event_router.routing.consumer import Consumer
from event_router.store import State, Store, UnknownConsumer, UnknownDeadLetter
from event_router.store.dead_letters import ANSWER_LIMIT

EVENT = {"name": "edx.video.played", "timestamp": "2024-01-01T00:00:00Z", "data": {}, "context": {}}
STATEMENT = {"id": "6f9619ff-8b86-d011-b42d-00cf4fc964ff", "verb": {"id": "played"}}


@pytest.fixture
def store(store: Store) -> Store:
    store.consumers.add(Consumer(name="lrs", url="https://lrs.test/xapi"))
    store.consumers.add(Consumer(name="other", url="https://lrs.test/other"))
    return store


def add(store: Store, consumer: str = "lrs", seq: int = 1) -> int:
    return store.dead_letters.add(
        consumer,
        seq,
        "edx.video.played",
        EVENT,
        "rejected",
        item=STATEMENT,
        status=400,
        answer='{"error": "bad verb"}',
    )


def test_add_and_get(store: Store) -> None:
    letter = store.dead_letters.get(add(store, seq=42))
    assert (letter.consumer, letter.event_seq, letter.event_name) == ("lrs", 42, "edx.video.played")
    assert letter.event == EVENT and letter.item == STATEMENT
    assert (letter.status, letter.answer, letter.reason) == (
        400,
        '{"error": "bad verb"}',
        "rejected",
    )
    assert letter.state is State.DEAD and letter.replayed_at is None
    assert letter.created_at.tzinfo is not None
    assert letter.to_json()["state"] == "dead"


def test_untranslated_letter_and_long_answers(store: Store) -> None:
    letter_id = store.dead_letters.add(
        "lrs", 7, "x", None, "cannot translate", answer="é" * ANSWER_LIMIT
    )
    letter = store.dead_letters.get(letter_id)
    assert letter.item is None and letter.event is None and letter.status is None
    assert len(letter.answer.encode()) <= ANSWER_LIMIT and letter.answer.endswith("...")
    assert store.dead_letters.get(store.dead_letters.add("lrs", 8, "x", {}, "r")).answer == ""


def test_unknown_consumer_and_ids(store: Store) -> None:
    with pytest.raises(UnknownConsumer):
        add(store, consumer="nope")
    with pytest.raises(UnknownDeadLetter, match="no dead letter with id 999"):
        store.dead_letters.get(999)
    with pytest.raises(UnknownDeadLetter):
        store.dead_letters.mark_for_replay([999])
    with pytest.raises(UnknownConsumer):
        store.dead_letters.discard(consumer="nope")
    with pytest.raises(ValueError, match="ids or a consumer"):
        store.dead_letters.mark_for_replay()


def test_list_filters_and_pages_newest_first(store: Store) -> None:
    ids = [add(store, seq=i) for i in range(5)] + [add(store, "other")]
    assert [d.id for d in store.dead_letters.list()] == ids[::-1]
    assert [d.id for d in store.dead_letters.list(consumer="lrs", limit=2, offset=1)] == [
        ids[3],
        ids[2],
    ]
    store.dead_letters.discard([ids[0]])
    assert [d.id for d in store.dead_letters.list(state=State.DISCARDED)] == [ids[0]]
    assert store.dead_letters.count(consumer="lrs", state="dead") == 4
    assert store.dead_letters.count() == 6


def test_replay_lifecycle(store: Store) -> None:
    first, second, third = (add(store, seq=i) for i in range(3))
    elsewhere = add(store, "other")
    assert store.dead_letters.mark_for_replay([first]) == 1
    assert store.dead_letters.mark_for_replay(consumer="lrs") == 2  # second, third
    assert store.dead_letters.mark_for_replay(consumer="lrs") == 0  # already marked
    assert [d.id for d in store.dead_letters.take_replays("lrs")] == [first, second, third]
    assert store.dead_letters.take_replays("lrs") != []  # taking does not consume: at-least-once
    assert store.dead_letters.get(elsewhere).state is State.DEAD

    assert store.dead_letters.mark_replayed([first]) == 1
    replayed = store.dead_letters.get(first)
    assert replayed.state is State.REPLAYED and replayed.replayed_at is not None
    store.dead_letters.mark_dead(second, 422, "still bad", reason="rejected on replay")
    again = store.dead_letters.get(second)
    assert (again.state, again.status, again.answer) == (State.DEAD, 422, "still bad")
    assert again.reason == "rejected on replay"
    assert [d.id for d in store.dead_letters.take_replays("lrs")] == [third]

    assert store.dead_letters.discard([third, first]) == 1  # a replayed one stays replayed
    assert store.dead_letters.get(third).state is State.DISCARDED
    assert store.dead_letters.mark_for_replay([third]) == 1  # discarded can come back
    assert store.dead_letters.discard(consumer="lrs") == 2
    assert store.dead_letters.take_replays("lrs") == []


def test_engine_shortcut_for_recording(store: Store) -> None:
    letter_id = store.dead_letters.add(
        consumer="lrs",
        event_seq=3,
        event_name="n",
        event=EVENT,
        item=STATEMENT,
        status=400,
        answer=b"bytes answer",
        reason="rejected",
    )
    assert store.dead_letters.get(letter_id).answer == "bytes answer"


def test_removing_a_consumer_removes_its_dead_letters(store: Store) -> None:
    add(store)
    kept = add(store, "other")
    store.consumers.remove("lrs")
    assert [d.id for d in store.dead_letters.list()] == [kept]
