"""What the engine does with dead letters: keep each item an endpoint refused for good, with the
event it came from and the answer, and re-send those an operator marked for replay.

The control plane holds them (`store.dead_letters`); every call to it runs on a thread, off the
loop that ingests and sends.
"""

from __future__ import annotations

import asyncio

import orjson

from event_router.delivery.consumer import Delivery
from event_router.delivery.reader import Reader
from event_router.delivery.sender import DeadLetter, Item
from event_router.sinks.outcome import Outcome, Verdict
from event_router.store import Store


class DeadLetters:
    """The dead letters of one engine's consumers."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def recorder(self, consumer: str, reader: Reader) -> DeadLetter:
        """What a delivery calls with an item refused for good (its event read from `reader`)."""

        async def dead_letter(item: Item, outcome: Outcome) -> None:
            await self.record(consumer, item, reader.body(item.seq), outcome)

        return dead_letter

    async def record(self, consumer: str, item: Item, body: bytes | None, outcome: Outcome) -> None:
        """Keep what the endpoint refused, with the event it came from and the answer."""
        await asyncio.to_thread(
            self.store.dead_letters.add,
            consumer=consumer,
            event_seq=item.seq,
            event_name=item.name,
            event=orjson.loads(body) if body else None,
            item=orjson.loads(item.payload),
            status=outcome.status,
            answer=outcome.detail,
            reason=f"{outcome.verdict.value}",
        )

    async def replay(self, consumer: str, delivery: Delivery) -> None:
        """Re-send the dead letters an operator marked for replay; transient failures wait."""
        letters = await asyncio.to_thread(self.store.dead_letters.take_replays, consumer)
        for letter in letters:
            outcome = await delivery.sink.send([orjson.dumps(letter.item)])
            if outcome.verdict in (Verdict.DELIVERED, Verdict.DUPLICATE):
                await asyncio.to_thread(self.store.dead_letters.mark_replayed, [letter.id])
                delivery.stats.delivered += 1
            elif outcome.verdict in (Verdict.RETRY, Verdict.PAUSE):
                return  # the endpoint is not taking anything now: try again next round
            else:
                await asyncio.to_thread(
                    self.store.dead_letters.mark_dead, letter.id, outcome.status, outcome.detail
                )
