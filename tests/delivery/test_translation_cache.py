"""The shared translation cache stays within its bytes, whatever the size of the statements."""

from __future__ import annotations

import asyncio

from event_router.delivery.encoder import Pending, TranslationCache


def test_the_oldest_translations_go_once_the_bytes_are_spent() -> None:
    cache = TranslationCache(size=1000, max_bytes=4096)
    for seq in range(10):
        cache.put((seq, "xapi", "anonymous"), [b"x" * 1000])
    kept = [seq for seq in range(10) if cache.get((seq, "xapi", "anonymous")) is not None]
    assert kept == [6, 7, 8, 9]  # 4,000 bytes: the newest four


def test_a_translation_under_way_and_a_refusal_weigh_nothing() -> None:
    async def run() -> None:
        cache = TranslationCache(size=1000, max_bytes=2048)
        future: asyncio.Future[list[list[bytes] | str]] = asyncio.get_running_loop().create_future()
        cache.put((1, "xapi", "anonymous"), Pending(future, 0))
        cache.put((2, "xapi", "anonymous"), "not translated: no learner")
        cache.put((3, "xapi", "anonymous"), [b"y" * 2000])
        assert all(cache.get((seq, "xapi", "anonymous")) is not None for seq in (1, 2, 3))
        cache.put((1, "xapi", "anonymous"), [b"z" * 40])  # the Pending resolved, replaced
        cache.put((4, "xapi", "anonymous"), [b"w" * 40])  # 2,080 bytes: the oldest goes
        assert cache.get((1, "xapi", "anonymous")) is None
        assert cache.get((3, "xapi", "anonymous")) is not None
        cache.clear()
        cache.put((5, "xapi", "anonymous"), [b"v" * 2048])  # after a clear, the full budget
        assert cache.get((5, "xapi", "anonymous")) is not None

    asyncio.run(run())
