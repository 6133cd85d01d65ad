"""The journal: the durable, ordered, append-only log of accepted events.

An event is *accepted* only once it is in the journal. Sources append events together with their
own position (file offset, stream id) in one transaction, so a crash neither loses nor repeats
anything. Each consumer reads from its own cursor; events are kept until every enabled consumer
has passed them, plus a retention window for replay.
"""

from event_router.journal.base import Journal
from event_router.journal.entry import Entry, JournalFull, JournalUnavailable
from event_router.journal.sqlite import SqliteJournal

__all__ = [
    "Entry",
    "Journal",
    "JournalFull",
    "JournalUnavailable",
    "SqliteJournal",
]
