"""A poison item (one the endpoint always answers 5xx) against a sick endpoint (5xx to everything).

The sender drives a real LRS sink against a small real HTTP endpoint on 127.0.0.1 that answers 500
to any batch holding a marked statement, like Ralph does for some malformed statements. Backoff
waits are shortened (the rules are the sender's, the waits only make tests slow).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from event_router.delivery import sender as sender_module
from event_router.delivery.consumer import Delivery
from event_router.delivery.cursor import CursorReader
from event_router.delivery.encoder import Encoder, TranslationCache
from event_router.delivery.sender import SPLIT_AFTER, Item, Sender
from event_router.delivery.stats import State, Stats
from event_router.journal import SqliteJournal
from event_router.routing.consumer import Consumer
from event_router.sinks import build_sink
from event_router.sinks.base import Sink
from event_router.sinks.outcome import Outcome
from tests.conftest import erb_options
from tests.peers.payloads import statement
from tests.support.traffic import bodies
from tests.support.wait import until


class Endpoint:
    """An xAPI endpoint: 500 to a batch holding a `poison` id, 400 to one holding a `rejected` id,
    500 to everything for the next `sick_for` requests; otherwise it stores the batch, in order.

    `busy` maps an id to a status (429, 503, ...) and a count: that status, with `Retry-After: 0`,
    answers any batch holding the id, until the id has been sent alone more than `count` times.
    While `read_only` (an id, a count) is set, it answers 204 to a batch whose ids it all has,
    without writing (like Ralph), and 500 to any other, until that id has been sent alone more
    than `count` times; then it writes again. `poison_retry_after` goes with each poison 500."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer, retry_after = endpoint.answer(body)
                self.send_response(status)
                if retry_after:
                    self.send_header("Retry-After", retry_after)
                if status != 204:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/xAPI/statements"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.poison: set[str] = set()
            self.rejected: set[str] = set()
            self.sick_for = 0
            self.busy: dict[str, tuple[int, int]] = {}
            self.read_only: tuple[str, int] | None = None
            self.poison_retry_after = ""
            self.stored: list[str] = []
            self.requests: list[list[str]] = []  # the ids of each request, in arrival order

    def answer(self, body: bytes) -> tuple[int, bytes, str]:
        """Status, body and Retry-After ("" for none) of the answer to a batch."""
        ids = [s["id"] for s in orjson.loads(body)]
        with self._lock:
            self.requests.append(ids)
            if self.sick_for > 0:
                self.sick_for -= 1
                return 500, b'{"error": "database unavailable"}', ""
            for i in ids:
                status, count = self.busy.get(i, (0, 0))
                if status and self._alone(i) <= count:
                    return status, b'{"error": "busy"}', "0"
            if self.read_only is not None:
                if self._alone(self.read_only[0]) <= self.read_only[1]:
                    if set(ids) <= set(self.stored):
                        return 204, b"", ""
                    return 500, b'{"error": "index read-only (flood stage)"}', ""
                self.read_only = None
            if bad := [i for i in ids if i in self.poison]:
                answer = orjson.dumps({"error": "malformed statement", "ids": bad})
                return 500, answer, self.poison_retry_after
            if bad := [i for i in ids if i in self.rejected]:
                return 400, orjson.dumps({"error": "invalid statement", "ids": bad}), ""
            self.stored.extend(ids)
            return 200, orjson.dumps(ids), ""

    def alone(self, statement_id: str) -> int:
        """How many requests carried `statement_id` alone."""
        with self._lock:
            return self._alone(statement_id)

    def _alone(self, statement_id: str) -> int:
        return sum(1 for ids in self.requests if ids == [statement_id])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def endpoint_server() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture
def endpoint(endpoint_server: Endpoint) -> Endpoint:
    endpoint_server.reset()
    return endpoint_server


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float | None]]:
    """Waits of a millisecond; returns the (attempt, retry_after) of each wait the sender asked."""
    waits: list[tuple[int, float | None]] = []

    def backoff(attempt: int, *, retry_after: float | None = None) -> float:
        waits.append((attempt, retry_after))
        return 0.001

    monkeypatch.setattr(sender_module, "backoff", backoff)
    return waits


@dataclass
class Run:
    ids: list[str]
    stats: Stats = field(default_factory=Stats)
    dead: list[tuple[Item, Outcome]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def dead_ids(self) -> list[str]:
        return [self.ids[item.seq] for item, _ in self.dead]

    def items(self, positions: range | None = None) -> list[Item]:
        """Items for the statements at `positions` (default: all); seq is the position."""
        positions = range(len(self.ids)) if positions is None else positions
        return [
            Item(p, "play_video", orjson.dumps(statement(self.ids[p])), time.time())
            for p in positions
        ]

    def sender(self, url: str) -> tuple[Sender, Sink]:
        sink = build_sink(Consumer(name="lrs", url=url), secret_key="k")

        async def dead_letter(item: Item, outcome: Outcome) -> None:
            self.dead.append((item, outcome))

        async def paused(outcome: Outcome) -> None:
            raise AssertionError(f"unexpected pause: {outcome}")

        return Sender("lrs", sink, dead_letter, self.stats, self.stopping, paused), sink

    async def deliver(self, url: str) -> None:
        sender, sink = self.sender(url)
        try:
            await sender.deliver(self.items())
        finally:
            await sink.close()


def new_run(count: int) -> Run:
    return Run([str(uuid.uuid4()) for _ in range(count)])


def deliver(endpoint: Endpoint, count: int, poison: list[int], timeout: float = 10) -> Run:
    """Deliver a batch of `count` statements, those at positions `poison` poisoned."""
    run = new_run(count)
    endpoint.poison.update(run.ids[p] for p in poison)

    async def go() -> None:
        await asyncio.wait_for(run.deliver(endpoint.url), timeout)

    asyncio.run(go())
    return run


def assert_poisoned(run: Run, endpoint: Endpoint, poison: list[int]) -> None:
    """The others stored once each, in batch order; each poison item a dead letter with the
    endpoint's answer and a count of its tries."""
    bad = [run.ids[p] for p in poison]
    assert endpoint.stored == [i for i in run.ids if i not in bad]
    assert sorted(run.dead_ids) == sorted(bad)
    for item, outcome in run.dead:
        item_id = run.ids[item.seq]
        assert outcome.status == 500
        assert orjson.loads(outcome.detail) == {"error": "malformed statement", "ids": [item_id]}
        # Tried alone SPLIT_AFTER times, then once more after the evidence.
        assert endpoint.alone(item_id) == SPLIT_AFTER + 1
    assert run.stats.dead_letters == len(poison)
    assert run.stats.delivered == len(run.ids) - len(poison)
    assert run.stats.last_error is not None
    last = run.dead[-1][0]
    assert run.stats.last_error.startswith("dead letter (poison, HTTP 500)")
    assert (
        f"failed item {last.seq} (play_video) {SPLIT_AFTER + 1} times alone"
        " while accepting other items" in run.stats.last_error
    )


@pytest.mark.parametrize("position", [3, 0, 7], ids=["middle", "first", "last"])
def test_a_poison_item_becomes_a_dead_letter_and_the_others_are_delivered_in_order(
    endpoint: Endpoint, position: int
) -> None:
    run = deliver(endpoint, 8, [position])
    assert_poisoned(run, endpoint, [position])


@pytest.mark.parametrize(
    "poison",
    [[2, 5], [0, 7], [0, 1], [6, 7], [0, 1, 2, 3]],
    ids=["apart", "ends", "adjacent-first", "adjacent-last", "run-first"],
)
def test_several_poison_items_in_one_batch(endpoint: Endpoint, poison: list[int]) -> None:
    run = deliver(endpoint, 8, poison)
    assert endpoint.stored == [i for n, i in enumerate(run.ids) if n not in poison]
    assert sorted(run.dead_ids) == sorted(run.ids[p] for p in poison)
    assert all(outcome.status == 500 for _, outcome in run.dead)
    assert run.stats.dead_letters == len(poison) and run.stats.delivered == 8 - len(poison)


def test_a_probe_the_endpoint_rejects_is_a_dead_letter_and_probing_goes_on(
    endpoint: Endpoint,
) -> None:
    run = new_run(6)
    endpoint.poison.add(run.ids[0])
    endpoint.rejected.add(run.ids[1])
    asyncio.run(asyncio.wait_for(run.deliver(endpoint.url), 10))
    assert endpoint.stored == run.ids[2:]
    dead = {run.ids[item.seq]: outcome.status for item, outcome in run.dead}
    assert dead == {run.ids[0]: 500, run.ids[1]: 400}


@pytest.mark.parametrize("sick_for", [0, 1, 5, 21, 26, 27, 28, 35, 48, 60, 90])
def test_an_endpoint_failing_everything_causes_no_dead_letter(
    endpoint: Endpoint, sick_for: int
) -> None:
    """However long it fails, and whatever it was doing when it recovers, nothing is given up."""
    endpoint.sick_for = sick_for
    run = deliver(endpoint, 8, [])
    assert not run.dead and run.stats.dead_letters == 0
    assert sorted(endpoint.stored) == sorted(run.ids)  # each once
    assert len(endpoint.requests) > sick_for


def test_a_sick_endpoint_is_retried_in_order_with_growing_backoff(
    endpoint: Endpoint, quick_backoff: list[tuple[int, float | None]]
) -> None:
    # 500 to everything for a while: the batch is split down to its first item, which is retried
    # alone, probing the next items between rounds of tries; none is accepted until it recovers,
    # here during the 9th round of the first item's tries (requests 91-95).
    endpoint.sick_for = 93
    run = deliver(endpoint, 8, [])
    assert not run.dead
    assert endpoint.stored == run.ids  # recovered while the first item was retried: in order
    first = run.ids[0]
    assert endpoint.alone(first) > 4 * SPLIT_AFTER  # several rounds of tries...
    probes = [ids for ids in endpoint.requests[:100] if len(ids) == 1 and ids != [first]]
    assert probes and all(ids[0] in run.ids[1:] for ids in probes)  # ...with probes between
    assert max(a for a, _ in quick_backoff) > 4 * SPLIT_AFTER  # the backoff kept growing
    assert run.stats.state is State.RUNNING


@pytest.mark.parametrize("position", [0, 5], ids=["first", "middle"])
def test_a_stop_while_a_poison_item_is_retried_leaves_the_batch_unsettled(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch, position: int
) -> None:
    # Waits long enough that the stop lands within the item's round, however busy the machine.
    monkeypatch.setattr(sender_module, "backoff", lambda attempt, retry_after=None: 0.3)
    run = new_run(8)
    endpoint.poison.add(run.ids[position])

    async def go() -> None:
        task = asyncio.create_task(run.deliver(endpoint.url))
        # in its tries alone, before any verdict
        await until(lambda: endpoint.alone(run.ids[position]) >= 2, interval=0.005)
        run.stopping.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)

    asyncio.run(go())
    assert not run.dead and run.stats.dead_letters == 0
    assert endpoint.alone(run.ids[position]) < SPLIT_AFTER
    assert endpoint.stored == run.ids[:position]  # nothing after it went out


def test_a_batch_of_one_poison_item_is_retried_until_stopped(endpoint: Endpoint) -> None:
    """The known limit: with no other item to compare with, 5xx reads as a sick endpoint."""
    run = new_run(1)
    endpoint.poison.add(run.ids[0])

    async def go() -> None:
        task = asyncio.create_task(run.deliver(endpoint.url))
        await until(lambda: endpoint.alone(run.ids[0]) >= 4 * SPLIT_AFTER, interval=0.005)
        run.stopping.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)

    asyncio.run(go())
    assert not run.dead and not endpoint.stored


def test_the_last_try_of_a_poison_item_waits_the_backoff_and_its_retry_after(
    endpoint: Endpoint, quick_backoff: list[tuple[int, float | None]]
) -> None:
    """Evidence found, the last try still comes after a backoff wait, like any retry."""
    endpoint.poison_retry_after = "7"
    run = deliver(endpoint, 8, [0])
    assert_poisoned(run, endpoint, [0])
    # Only a lone item's rounds wait after their SPLIT_AFTER-th try: here, before the last try.
    assert [w for w in quick_backoff if w[0] == SPLIT_AFTER] == [(SPLIT_AFTER, 7.0)]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("position", [0, 5], ids=["first", "middle"])
def test_a_lone_item_refused_for_the_endpoints_state_is_never_a_dead_letter(
    endpoint: Endpoint, quick_backoff: list[tuple[int, float | None]], status: int, position: int
) -> None:
    """429, 502, 503, 504 say the endpoint is busy or down, not that the item is bad: though the
    endpoint accepts the others (an earlier half, or the next item if probed), the item is retried,
    honouring Retry-After, until the endpoint lets it through; order is kept."""
    run = new_run(8)
    stuck = run.ids[position]
    endpoint.busy[stuck] = (status, 4 * SPLIT_AFTER)  # four rounds of tries alone
    asyncio.run(asyncio.wait_for(run.deliver(endpoint.url), 10))
    assert not run.dead and run.stats.dead_letters == 0
    assert endpoint.stored == run.ids
    assert endpoint.alone(stuck) == 4 * SPLIT_AFTER + 1
    assert (SPLIT_AFTER, 0.0) in quick_backoff  # a round ended, then waited as asked
    assert run.stats.state is State.RUNNING


def test_an_lrs_that_reads_but_cannot_write_causes_no_dead_letter(endpoint: Endpoint) -> None:
    """The store went read-only (Elasticsearch flood stage): statements the LRS has get 204, any
    new one 500. Nothing is dead-lettered, neither a batch of one nor a batch of several; both are
    retried until the LRS can write again, then delivered in order."""
    run = new_run(10)
    rounds = 3 * SPLIT_AFTER  # failed tries alone of the first new item of each batch

    async def go() -> None:
        sender, sink = run.sender(endpoint.url)
        try:
            await sender.deliver(run.items(range(3)))  # accepted before the store fills up
            endpoint.read_only = (run.ids[3], rounds)
            await sender.deliver(run.items(range(3)))  # a replay of what it has: 204, no write
            assert len(endpoint.stored) == 3 and endpoint.read_only is not None
            await asyncio.wait_for(sender.deliver(run.items(range(3, 4))), 10)  # a batch of one
            endpoint.read_only = (run.ids[4], rounds)
            await asyncio.wait_for(sender.deliver(run.items(range(4, 10))), 10)
        finally:
            await sink.close()

    asyncio.run(go())
    assert not run.dead and run.stats.dead_letters == 0
    assert endpoint.stored == run.ids
    assert endpoint.alone(run.ids[3]) == endpoint.alone(run.ids[4]) == rounds + 1
    assert run.stats.delivered == 3 + 3 + 1 + 6  # the replay counts as delivered


def test_a_lone_poison_item_is_judged_with_what_follows_its_batch(endpoint: Endpoint) -> None:
    """A batch of one has nothing to probe with; `more` hands over the next items: they are the
    probes, the poison item is a dead letter, and every item handed over is delivered, in order."""
    run = new_run(5)
    endpoint.poison.add(run.ids[0])
    handed: list[list[Item]] = [[], run.items(range(1, 4)), run.items(range(4, 5))]

    async def more() -> list[Item]:
        return handed.pop(0)  # nothing ready at first, then the next batch (the one after is
        # not asked for: the first probe is accepted)

    async def go() -> list[Item]:
        sender, sink = run.sender(endpoint.url)
        items = run.items(range(0, 1))
        try:
            await asyncio.wait_for(sender.deliver(items, more), 10)
        finally:
            await sink.close()
        return items

    items = asyncio.run(go())
    assert run.dead_ids == [run.ids[0]] and endpoint.stored == run.ids[1:4]
    assert [item.seq for item in items] == [0, 1, 2, 3]  # what was handed over joined the batch
    assert run.stats.delivered == 3 and run.stats.dead_letters == 1 and len(handed) == 1


def _journal_delivery(
    tmp_path: Path, endpoint: Endpoint, run: Run, count: int
) -> tuple[SqliteJournal, Delivery, list[str]]:
    """`count` events in a journal and a delivery of batches of one, with the ids of their
    statements (what the endpoint will see)."""
    journal = SqliteJournal(tmp_path / "journal.db")
    consumer = Consumer(name="lrs", url=endpoint.url, batch_size=1, linger=0)
    encoder = Encoder(consumer, erb_options(), TranslationCache())
    sink = build_sink(consumer, secret_key="k")

    async def dead_letter(item: Item, outcome: Outcome) -> None:
        run.dead.append((item, outcome))

    journal.submit(bodies(count)).result()
    entries, _ = journal.read(0, count)
    encoded = asyncio.run(encoder.encode_all(entries))
    ids = [orjson.loads(items[0])["id"] for items in encoded if isinstance(items, list)]
    reader = CursorReader(journal, "lrs", 0)
    return journal, Delivery(encoder, sink, reader, dead_letter, run.stats), ids


@pytest.mark.parametrize("sick_for", [0, 12])
def test_in_a_quiet_moment_a_poison_event_does_not_hold_up_the_consumer(
    tmp_path: Path, endpoint: Endpoint, sick_for: int
) -> None:
    """Batches of one (as `linger` makes them when events trickle in): the delivery hands the
    next batch to the stuck item's probe. A sick endpoint (`sick_for` requests failed first)
    still causes no dead letter."""
    run = new_run(0)
    journal, delivery, ids = _journal_delivery(tmp_path, endpoint, run, 6)
    endpoint.poison.add(ids[2])
    endpoint.sick_for = sick_for

    async def go() -> None:
        task = asyncio.create_task(delivery.run())
        await until(lambda: (journal.cursor("lrs") or 0) >= 6, interval=0.01)
        delivery.stop()
        await task

    try:
        asyncio.run(asyncio.wait_for(go(), 20))
    finally:
        journal.close()
    assert endpoint.stored == ids[:2] + ids[3:]  # the others, once each, in journal order
    assert [item.seq for item, _ in run.dead] == [3]  # the third event of the journal


def test_a_batch_in_flight_beside_it_is_evidence_too(endpoint: Endpoint) -> None:
    """With several batches in flight (throughput mode), another batch stored while a lone item
    keeps failing shows the endpoint can write: the item is a dead letter."""
    run = new_run(4)
    endpoint.poison.add(run.ids[0])

    async def go() -> None:
        sender, sink = run.sender(endpoint.url)
        try:
            stuck = asyncio.create_task(sender.deliver(run.items(range(0, 1))))
            # it has begun failing
            await until(lambda: endpoint.alone(run.ids[0]) >= 1, interval=0.001)
            await sender.deliver(run.items(range(1, 4)))  # another batch, beside it
            await asyncio.wait_for(stuck, 10)
        finally:
            await sink.close()

    asyncio.run(go())
    assert run.dead_ids == [run.ids[0]] and endpoint.stored == run.ids[1:]
