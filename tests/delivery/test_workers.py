"""Translation in worker processes: the same bytes as in-process; a dead worker is survived."""

from __future__ import annotations

import asyncio
import os
import signal

import orjson

from event_router.translate.workers import TranslationPool, translate_bodies
from tests.conftest import DEMO_COURSE, ERB, erb_fixture_names, erb_options


def bodies() -> list[bytes]:
    raw = [
        orjson.loads((ERB / "events" / f"{name}.json").read_bytes()) for name in erb_fixture_names()
    ]
    return [orjson.dumps(event) for event in raw] + [b"not json", b'{"name": "x"}']


def test_pool_output_equals_in_process_output() -> None:
    options = erb_options()
    expected = translate_bodies(options, "xapi", bodies())
    pool = TranslationPool(2, min_chunk=8)
    pool.configure("test-secret", options.lms_url, options.identity._table, options.courses)
    try:
        got = asyncio.run(pool.translate("xapi", "anonymous", bodies()))
    finally:
        pool.close()
    assert got == expected
    assert str(expected[-2]).startswith("not valid JSON")
    assert isinstance(expected[0], list) and expected[0]


def test_dead_worker_falls_back_and_restarts() -> None:
    options = erb_options()
    pool = TranslationPool(1, min_chunk=1)
    pool.configure("test-secret", options.lms_url, options.identity._table, options.courses)
    try:
        first = asyncio.run(pool.translate("caliper", "anonymous", bodies()))
        assert pool._pool is not None
        for pid in pool._pool.pids:
            os.kill(pid, signal.SIGKILL)
        again = asyncio.run(pool.translate("caliper", "anonymous", bodies()))
        assert again == first
        third = asyncio.run(pool.translate("caliper", "anonymous", bodies()))
        assert third == first  # the restarted pool works
    finally:
        pool.close()


def test_configure_with_equal_tables_keeps_the_workers() -> None:
    options = erb_options()
    pool = TranslationPool(1)
    table, courses = options.identity._table, options.courses
    pool.configure("s", options.lms_url, table, courses)
    first = pool._pool
    pool.configure("s", options.lms_url, table, courses)
    assert pool._pool is first
    courses_changed = type(courses)({DEMO_COURSE: "Renamed"})
    pool.configure("s", options.lms_url, table, courses_changed)
    assert pool._pool is not first
    pool.close()
