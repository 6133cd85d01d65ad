"""How a router process reads the journal it opened: one choice, by the journal's kind.

A SQLite journal is read through cursors (`CursorReaders`, this process alone); a Redis journal
through a consumer group per consumer (`GroupReaders`), a Kafka journal through a Kafka consumer
group per consumer (`PartitionReaders`), this process being the group member `member`.
"""

from __future__ import annotations

from event_router.delivery.cursor import CursorReaders
from event_router.delivery.reader import Readers
from event_router.journal.opening import OpenJournal
from event_router.journal.sqlite import SqliteJournal


def readers_for(journal: OpenJournal, *, member: str = "", claim_idle: float = 30.0) -> Readers:
    """The readers of `journal`; `member` (required on Redis and Kafka) names this process in
    the consumer groups, `claim_idle` is how long a Redis entry stays with a silent member."""
    if isinstance(journal, SqliteJournal):
        return CursorReaders(journal)
    if not member:
        raise ValueError("a Redis or Kafka journal is read as a member of consumer groups")
    from event_router.journal.kafka import KafkaJournal

    if isinstance(journal, KafkaJournal):
        from event_router.delivery.partition_readers import PartitionReaders

        # A dead process's partitions move after EVENT_ROUTER_KAFKA_SESSION_TIMEOUT.
        return PartitionReaders(journal, member=member)
    from event_router.delivery.group_readers import GroupReaders

    return GroupReaders(journal, member=member, claim_idle=claim_idle)
