"""The journal the settings name, for a command: opened by `journal.opening`, a refusal said as
every command says it (no journal in the home: an error, exit 1; unreachable or a bad URL: a bad
EVENT_ROUTER_JOURNAL, exit 2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from event_router.cli.output import fail
from event_router.journal.opening import JournalUnopened, OpenJournal, open_journal
from event_router.settings import Settings


def journal_named(config: Settings, *, existing: bool = True) -> OpenJournal:
    """`open_journal`, or the command's usual error (the caller closes the journal)."""
    try:
        return open_journal(config, existing=existing)
    except JournalUnopened as exc:
        refuse(exc)


def refuse(exc: JournalUnopened) -> NoReturn:
    if exc.missing:
        fail(str(exc))
    raise typer.BadParameter(str(exc), param_hint="EVENT_ROUTER_JOURNAL") from None


@contextmanager
def opened_journal(config: Settings) -> Iterator[OpenJournal]:
    """The journal (an existing one) while the block runs, closed after."""
    journal = journal_named(config)
    try:
        yield journal
    finally:
        journal.close()


@contextmanager
def journal_if_any(config: Settings) -> Iterator[OpenJournal | None]:
    """As `opened_journal`, but None when the home has no SQLite journal yet."""
    try:
        journal = open_journal(config)
    except JournalUnopened as exc:
        if not exc.missing:
            refuse(exc)
        yield None
        return
    try:
        yield journal
    finally:
        journal.close()
