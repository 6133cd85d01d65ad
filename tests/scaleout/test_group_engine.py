"""The engine on a Redis journal (this process a member of each consumer group) against real
Redis, PostgreSQL and an HTTP receiver: where a new consumer's group starts, dead letters,
cluster status, and trimming below the slowest group."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from event_router.delivery.engine import Engine
from event_router.delivery.group_readers import GroupReaders
from event_router.delivery.stats import State
from event_router.events import parse_json
from event_router.journal.redis import RedisJournal
from event_router.routing.consumer import Consumer
from event_router.routing.identity import Policy
from event_router.store import Store
from event_router.translate import translate
from tests.peers.receiver import Receiver, free_port
from tests.support.databases import JournalRedis
from tests.support.wait import clock_moves_on, until, wait_until

pytestmark = pytest.mark.timeout(90)


def event(i: int) -> bytes:
    return orjson.dumps(
        {
            "name": "edx.course.enrollment.activated",
            "timestamp": f"2024-03-05T10:00:{i % 60:02d}.{i + 1:06d}+00:00",
            "data": {"course_id": "course-v1:edX+DemoX+Demo_Course", "user_id": i, "mode": "audit"},
            "context": {
                "user_id": i,
                "org_id": "edX",
                "course_id": "course-v1:edX+DemoX+Demo_Course",
            },
        }
    )


@pytest.fixture
def journal(journal_redis: JournalRedis) -> Iterator[RedisJournal]:
    opened = RedisJournal(journal_redis.url, journal_redis.prefix)
    yield opened
    opened.close()


def consumer(name: str, url: str, **extra: Any) -> Consumer:
    extra.setdefault("batch_size", 100)
    return Consumer(name=name, protocol="xapi", url=url, linger=0.01, **extra)


def pending(journal: JournalRedis, group: str) -> int | None:
    """Entries the group's members hold; None while the group does not exist."""
    try:
        summary: Any = journal.client.xpending(journal.stream, group)
    except redis.ResponseError:
        return None
    return int(summary["pending"])


def engine_for(
    journal: RedisJournal,
    store: Store,
    member: str = "member-a",
    claim_idle: float = 30.0,
    **options: Any,
) -> Engine:
    options.setdefault("retention", 0.0)
    readers = GroupReaders(journal, member=member, claim_idle=claim_idle, poll_interval=0.1)
    return Engine(
        readers,
        store,
        lms_url="http://localhost:18000",
        secret_key="group-test",
        poll_interval=0.1,
        **options,
    )


def running(engine: Engine, scenario: Callable[[], Awaitable[None]]) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        try:
            await scenario()
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)

    asyncio.run(go())


def test_a_new_consumer_gets_what_was_accepted_after_it_was_created(
    journal: RedisJournal, store: Store, receiver: Receiver, journal_redis: JournalRedis
) -> None:
    journal.submit([event(i) for i in range(5)]).result(10)  # before the consumer existed
    clock_moves_on()  # a new millisecond: what follows is later than what came before
    store.consumers.add(consumer("lrs", receiver.url + "/xapi/statements"))
    clock_moves_on()  # a new millisecond: what follows is later than what came before
    later = [event(i) for i in range(5, 10)]
    engine = engine_for(journal, store)
    statement = translate(parse_json(later[2]), "xapi", engine.options(Policy.ANONYMOUS))[0]
    receiver.poison.add(statement["id"])

    async def scenario() -> None:
        journal.submit(later).result(10)
        await until(lambda: receiver.count == 4, message="four delivered")
        await until(lambda: store.dead_letters.count("lrs") == 1, message="a dead letter")
        await until(lambda: engine.snapshot().get("lrs", {}).get("lag") == 0, message="lag 0")
        snap = engine.snapshot()["lrs"]
        assert snap["member"] == "member-a"
        assert snap["cluster"]["processes"] == 1
        assert snap["dead_letters"] == 1

    running(engine, scenario)
    users = sorted(item["actor"]["account"]["name"] for item in receiver.stored.values())
    assert len(users) == 4 and statement["actor"]["account"]["name"] not in users
    (letter,) = store.dead_letters.list("lrs")
    assert letter.event == orjson.loads(later[2])  # kept whole: the journal is trimmed later
    assert letter.item["id"] == statement["id"]
    status: Any = journal_redis.client.hget(f"{journal_redis.prefix}:status", "member-a")
    assert orjson.loads(status)["consumers"]["lrs"]["delivered"] == 4


def test_trimming_keeps_what_the_slowest_enabled_consumer_still_needs(
    journal: RedisJournal, store: Store, receiver: Receiver, journal_redis: JournalRedis
) -> None:
    store.consumers.add(consumer("fast", receiver.url + "/xapi/statements"))
    down = f"http://127.0.0.1:{free_port()}/xapi/statements"  # refuses: retried forever
    store.consumers.add(consumer("slow", down, max_in_flight=1))
    clock_moves_on()  # a new millisecond: what follows is later than what came before
    stream = journal_redis.stream
    engine = engine_for(journal, store, retention=3600.0)

    async def scenario() -> None:
        journal.submit([event(i) for i in range(10)]).result(10)
        await until(lambda: receiver.count == 10, message="fast has everything")
        await until(lambda: pending(journal_redis, "slow") == 10, message="slow holds ten")
        assert await engine.trim() == 0  # within the retention window
        engine.retention = 0.0
        assert await engine.trim() == 0  # slow holds all ten, pending, being retried
        assert journal_redis.client.xlen(stream) == 10
        journal.submit([event(i) for i in range(10, 13)]).result(10)
        await until(lambda: receiver.count == 13, message="fast has the three more")
        await until(lambda: pending(journal_redis, "fast") == 0, message="fast acknowledged")
        store.consumers.update("slow", {"enabled": False})
        await until(lambda: engine.stats["slow"].state is State.DISABLED, message="disabled")
        assert await engine.trim() == 13  # only fast is left, and it acknowledged all
        assert journal_redis.client.xlen(stream) == 0

    running(engine, scenario)


def test_slow_work_is_not_taken_from_a_live_member(
    journal: RedisJournal, store: Store, receiver: Receiver, journal_redis: JournalRedis
) -> None:
    """An endpoint slower than the claim time: the member sending keeps its entries fresh, so the
    idle member, claiming every half claim time, does not take them over and send them again."""
    store.consumers.add(consumer("lrs", receiver.url + "/xapi/statements", batch_size=10))
    clock_moves_on()  # a new millisecond: what follows is later than what came before
    receiver.delay = 3.0  # the one request outlasts the claim time below threefold
    first = engine_for(journal, store, claim_idle=1.0)
    second = engine_for(journal, store, "member-b", claim_idle=1.0)

    async def scenario() -> None:
        stop = asyncio.Event()
        other = asyncio.create_task(second.run(stop))
        try:
            await until(lambda: "lrs" in second.stats, message="second member started")
            journal.submit([event(i) for i in range(10)]).result(10)
            await until(lambda: receiver.count == 10, timeout=40, message="all delivered")
            # Acknowledged: nothing is left to take over. Both members' final status (below)
            # shows none was claimed, so no copy can be on its way.
            await until(lambda: pending(journal_redis, "lrs") == 0, message="acknowledged")
        finally:
            stop.set()
            await asyncio.wait_for(other, 20)

    running(first, scenario)
    assert receiver.requests == 1  # one batch, sent once
    assert receiver.duplicates == {}
    assert pending(journal_redis, "lrs") == 0
    raw: Any = journal_redis.client.hgetall(f"{journal_redis.prefix}:status")
    assert len(raw) == 2
    for snapshot in raw.values():
        assert orjson.loads(snapshot)["consumers"]["lrs"]["group"].get("claimed", 0) == 0


def test_a_restarted_member_resumes_its_own_pending_entries_first(
    journal: RedisJournal, store: Store, receiver: Receiver, journal_redis: JournalRedis
) -> None:
    """With a stable EVENT_ROUTER_MEMBER, a restart re-reads what it held (no claim time)."""
    store.consumers.add(consumer("lrs", receiver.url + "/xapi/statements", batch_size=10))
    clock_moves_on()  # a new millisecond: what follows is later than what came before
    receiver.down()  # refused: the batch is retried until the engine stops
    before = engine_for(journal, store, claim_idle=3600.0)

    async def held() -> None:
        journal.submit([event(i) for i in range(10)]).result(10)
        await until(lambda: pending(journal_redis, "lrs") == 10, message="ten held")

    running(before, held)
    assert pending(journal_redis, "lrs") == 10  # stopped mid-retry: still pending on member-a
    receiver.up()
    after = engine_for(journal, store, claim_idle=3600.0)

    async def resumed() -> None:
        await until(lambda: receiver.count == 10, message="all delivered after the restart")
        await until(lambda: pending(journal_redis, "lrs") == 0, message="acknowledged")

    running(after, resumed)
    raw: Any = journal_redis.client.hget(f"{journal_redis.prefix}:status", "member-a")
    assert orjson.loads(raw)["consumers"]["lrs"]["group"] == {"resumed": 10}


def _redis_server(port: int, data: Path) -> subprocess.Popen[bytes]:
    """A private redis-server keeping its data in `data` (append-only: a restart keeps it)."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data)]
    server = subprocess.Popen(
        [*command, "--appendonly", "yes", "--save", ""], stdout=subprocess.DEVNULL
    )
    client = redis.Redis(port=port, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    wait_until(answers, 10, "redis-server did not start")
    client.close()
    return server


def test_a_journal_outage_is_waited_out(store: Store, receiver: Receiver, tmp_path: Path) -> None:
    """The delivery loop waits out a journal it cannot read (its Redis restarted): the consumer
    shows it is retrying and why, then delivers what is appended once the journal is back."""
    port = free_port()
    servers = [_redis_server(port, tmp_path)]
    journal = RedisJournal(f"redis://127.0.0.1:{port}/0", "outage", socket_timeout=2)
    store.consumers.add(consumer("lrs", receiver.url + "/xapi/statements"))
    clock_moves_on()  # a new millisecond: what follows is later than what came before
    engine = engine_for(journal, store)

    async def scenario() -> None:
        journal.submit([event(i) for i in range(3)]).result(10)
        await until(lambda: receiver.count == 3, message="three delivered")
        servers[0].terminate()
        servers[0].wait(10)
        stats = engine.stats["lrs"]
        await until(lambda: "journal unavailable" in (stats.last_error or ""), message="said")
        assert stats.state is State.RETRYING
        servers.append(await asyncio.to_thread(_redis_server, port, tmp_path))
        await asyncio.to_thread(lambda: journal.submit([event(i) for i in range(3, 6)]).result(10))
        await until(lambda: receiver.count == 6, message="delivered after the outage")
        # the state is set once the reader's next round succeeds, maybe after the deliveries
        await until(lambda: stats.state is State.RUNNING, message=lambda: stats.state.value)

    try:
        running(engine, scenario)
    finally:
        journal.close()
        for server in servers:
            server.terminate()
            server.wait(10)
    assert receiver.duplicates == {}
