"""The event inspector: find events in the journal, and for one, what each consumer got.

What a consumer got is worked out as the playground does (route decision, then the consumer's
own translation with its identity policy: the exact items, so their statement ids are those that
were sent, unless the consumer's configuration changed since), joined with what delivery
recorded: the consumer's place in the journal (delivered or pending) and any dead letter made
from the event (then the item shown is the one that was sent).

Privacy: a forgotten learner is not findable (a search for their id or username finds nothing,
their events still in the journal are left out) and the fields the router drops at ingest
(`EVENT_ROUTER_DROP_FIELDS`, as the running engine applies them) are removed from what is shown.
"""

from __future__ import annotations

from typing import Any

from event_router.journal.entry import Entry
from event_router.journal.search import Found, Page, Query, search, searchable
from event_router.journal.sqlite import SqliteJournal
from event_router.privacy.screen import Screen, retired_key
from event_router.routing.consumer import Consumer
from event_router.store import ConsumerRecord, DeadLetter, State
from event_router.web.context import WebContext
from event_router.web.errors import ApiError
from event_router.web.playground import OptionsSource, verdict


def screen(context: WebContext) -> Screen:
    """The privacy screen in force: the engine's (its drop fields and retired list), or without
    an engine in this process, the store's retired list."""
    if context.engine is not None:
        return context.engine.privacy.screen
    return Screen(context.secret_key, (), context.store.retired.keys())


def forgotten(context: WebContext, learner: str, active: Screen) -> bool:
    retired = active.retired | context.store.retired.keys()
    return any(retired_key(context.secret_key, kind, learner) in retired for kind in ("id", "name"))


def refuse_unsearchable(context: WebContext) -> None:
    """ApiError (501) unless the journal is one `search` reads (SQLite or Redis)."""
    if not searchable(context.journal):
        raise ApiError(
            501,
            "the event inspector searches the SQLite and Redis journals, not the Kafka journal: "
            "read its topic with Kafka's own tools",
        )


def find(context: WebContext, query: Query, limit: int) -> tuple[Page, Screen]:
    """A page of matching events with the privacy screen applied to each; ApiError (400) for
    a `before` that is not a position of this journal, (501) for a journal it cannot search."""
    refuse_unsearchable(context)
    sqlite = isinstance(context.journal, SqliteJournal)
    if query.before is not None and sqlite != query.before.isdigit():
        raise ApiError(400, f"before: {query.before} is not a position in this journal")
    active = screen(context)
    if query.learner is not None and forgotten(context, query.learner, active):
        return Page([], None, 0), active
    page = search(context.journal, query, limit)
    # Matched again once screened: a value in a dropped field (a username, say) finds nothing.
    kept = [
        found
        for found in page.found
        if active.apply(found.event, found.body) is not None and query.matches(found.event)
    ]
    return Page(kept, page.next, page.examined), active


def summary(found: Found) -> dict[str, Any]:
    event = found.event
    return {
        "position": found.position,
        "ingested_at": found.ingested_at,
        "name": event.name,
        "timestamp": event.timestamp,
        "course_id": event.course_id,
        "learner": event.user_key,
    }


def locate(context: WebContext, position: str) -> Found | None:
    """The event at `position`, screened; None if it is not in the journal (trimmed, redacted,
    a forgotten learner's) or not a position of this journal; ApiError (501) as `find`."""
    refuse_unsearchable(context)
    sqlite = isinstance(context.journal, SqliteJournal)
    if sqlite != position.isdigit():
        return None
    page = search(context.journal, Query(before=_after(position, sqlite)), 1, budget=1)
    found = page.found[0] if page.found and page.found[0].position == position else None
    if found is None or screen(context).apply(found.event, found.body) is None:
        return None
    return found


def _after(position: str, sqlite: bool) -> str:
    """The position just after `position` (searches go downwards from `before`)."""
    if sqlite:
        return str(int(position) + 1)
    ms, _, n = position.partition("-")
    return f"{ms}-{int(n or 0) + 1}"


def outcomes(context: WebContext, found: Found) -> list[dict[str, Any]]:
    """Per consumer: the verdict (allowed, rule, items or error), the statement ids, and the
    delivery outcome (`delivered`, `pending`, `dead letter` or `not sent`) with a reason."""
    store = context.store
    records = store.consumers.records()
    letters: dict[str, list[DeadLetter]] = {}
    for letter in store.dead_letters.of_event(found.seq):
        letters.setdefault(letter.consumer, []).append(letter)
    options = OptionsSource(context)
    entry = Entry(found.seq, found.ingested_at, found.event)
    cursors = _cursors(context)
    return [
        _outcome(context, record, verdict(record.consumer, entry, options), found, letters, cursors)
        for record in records
    ]


def _cursors(context: WebContext) -> dict[str, int] | None:
    journal = context.journal
    return journal.cursors() if isinstance(journal, SqliteJournal) else None


def _outcome(
    context: WebContext,
    record: ConsumerRecord,
    result: dict[str, Any],
    found: Found,
    letters: dict[str, list[DeadLetter]],
    cursors: dict[str, int] | None,
) -> dict[str, Any]:
    consumer = record.consumer
    own = letters.get(consumer.name, [])
    if own:  # what was sent, as the endpoint refused it
        result["items"] = [letter.item for letter in own]
    outcome, reason = _delivery(context, consumer, record, result, found, own, cursors)
    if outcome == "not sent":
        result["items"] = []  # it got nothing (a consumer added later would have had these)
    result["statement_ids"] = [
        item["id"] for item in result["items"] if isinstance(item, dict) and "id" in item
    ]
    result["dead_letters"] = [
        {"id": letter.id, "state": letter.state.value, "status": letter.status} for letter in own
    ]
    result["outcome"], result["reason"] = outcome, reason
    return result


def _delivery(
    context: WebContext,
    consumer: Consumer,
    record: ConsumerRecord,
    result: dict[str, Any],
    found: Found,
    own: list[DeadLetter],
    cursors: dict[str, int] | None,
) -> tuple[str, str]:
    if record.created_at.timestamp() > found.ingested_at:
        return "not sent", "the consumer was added after this event arrived"
    if not result["allowed"]:
        return "not sent", f"route: {result['rule']}"
    if result["error"]:
        return "not sent", f"untranslatable: {result['error']}"
    if not result["items"]:
        return "not sent", "translation made no items"
    if own:
        if all(letter.state is State.REPLAYED for letter in own):
            return "delivered", "replayed from a dead letter"
        states = ", ".join(sorted({letter.state.value for letter in own}))
        return "dead letter", f"the endpoint refused it ({states})"
    done = _acknowledged(context, consumer.name, found, cursors)
    if done:
        return "delivered", "the endpoint acknowledged it"
    if done is None:
        return "pending", "the consumer has not started delivering yet"
    why = "" if consumer.enabled else " (the consumer is disabled)"
    return "pending", f"not delivered yet{why}"


def _acknowledged(
    context: WebContext, name: str, found: Found, cursors: dict[str, int] | None
) -> bool | None:
    """Whether the consumer is past the event: its cursor (SQLite), or its group's last
    delivered entry with the event no longer pending (Redis); None when it has neither yet."""
    if cursors is not None:
        cursor = cursors.get(name)
        return None if cursor is None else cursor >= found.seq
    client, stream = context.journal._client, context.journal.stream  # type: ignore[attr-defined]
    groups = {_text(g["name"]): g for g in client.xinfo_groups(stream)}
    group = groups.get(name)
    if group is None:
        return None
    last = _order(_text(group["last-delivered-id"]))
    if last < _order(found.position):
        return False
    held = client.xpending_range(stream, name, min=found.position, max=found.position, count=1)
    return not held


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, n = entry_id.partition("-")
    return int(ms), int(n or 0)
