"""What a backfill did: per file, per consumer, and why anything was not delivered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass(slots=True)
class FileReport:
    name: str
    state: str = "pending"  # done, already done, failed, interrupted
    lines: int = 0
    error: str | None = None


@dataclass(slots=True)
class TargetReport:
    name: str
    events: int = 0  # events that gave the consumer something to send
    statements: int = 0  # items sent (xAPI statements, Caliper events, edX events)
    delivered: int = 0
    dead_letters: int = 0
    retries: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # not for the consumer (route)
    untranslatable: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None


@dataclass(slots=True)
class Report:
    files: list[FileReport] = field(default_factory=list)
    read: int = 0  # non-blank lines read
    malformed: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "file:line reason" of malformed lines
    outside: int = 0  # events outside --since/--until
    retired: int = 0  # events of forgotten learners, not sent
    targets: list[TargetReport] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    refused: str | None = None  # a consumer refused our credentials/configuration
    dry_run: bool = False  # nothing was sent: `statements` is what would have been
    rate_limit: float | None = None  # --rate, events a second

    @property
    def failed_files(self) -> list[FileReport]:
        return [f for f in self.files if f.state == "failed"]

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [
                {"name": f.name, "state": f.state, "lines": f.lines, "error": f.error}
                for f in self.files
            ],
            "read": self.read,
            "malformed": dict(self.malformed),
            "malformed_examples": self.examples,
            "outside_window": self.outside,
            "retired_learners_skipped": self.retired,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.rate, 1),
            "interrupted": self.interrupted,
            "refused": self.refused,
            "dry_run": self.dry_run,
            "rate_limit": self.rate_limit,
            "consumers": {
                t.name: {
                    "events": t.events,
                    "statements": t.statements,
                    "delivered": t.delivered,
                    "dead_letters": t.dead_letters,
                    "retries": t.retries,
                    "skipped": dict(t.skipped),
                    "untranslatable": dict(t.untranslatable),
                    "last_error": t.last_error,
                }
                for t in self.targets
            },
        }

    def render(self, console: Console) -> None:
        """The final report, for people."""
        state = "interrupted" if self.interrupted else "finished"
        if self.refused:
            state = "stopped"
        limit = f", limited to {self.rate_limit:,g}/s" if self.rate_limit else ""
        console.print(
            f"backfill{' dry run' if self.dry_run else ''} {state} in {self.seconds:.1f} s: "
            f"{self.read:,} events read ({self.rate:,.0f}/s{limit}) from {len(self.files)} file(s)"
        )
        for item in self.files:
            if item.state != "done":
                extra = f": {item.error}" if item.error else ""
                console.print(f"  {item.state:>12}  {item.name}{extra}")
        if self.malformed:
            console.print(f"  {sum(self.malformed.values()):,} malformed line(s):")
            for reason, count in self.malformed.most_common(10):
                console.print(f"    {count:>10,}  {reason}")
            for example in self.examples[:5]:
                console.print(f"      e.g. {example}")
        if self.outside:
            console.print(f"  {self.outside:,} event(s) outside --since/--until")
        if self.retired:
            console.print(f"  {self.retired:,} event(s) of forgotten learners not sent")
        table = Table(box=None, pad_edge=False)
        columns: tuple[str, ...] = ("consumer", "events", "would send")
        if not self.dry_run:
            columns = ("consumer", "events", "sent", "delivered", "dead letters", "retries")
        for column in columns:
            table.add_column(column, justify="left" if column == "consumer" else "right")
        for t in self.targets:
            counts: tuple[int, ...] = (t.events, t.statements)
            if not self.dry_run:
                counts += (t.delivered, t.dead_letters, t.retries)
            table.add_row(t.name, *(f"{count:,}" for count in counts))
        console.print(table)
        for t in self.targets:
            for title, reasons in (("not for it", t.skipped), ("untranslatable", t.untranslatable)):
                if reasons:
                    console.print(f"  {t.name}: {sum(reasons.values()):,} {title}:")
                    for reason, count in reasons.most_common(10):
                        console.print(f"    {count:>10,}  {reason}")
            if t.dead_letters:
                console.print(
                    f"  {t.name}: see `event-router dead-letters list --consumer {t.name}`"
                )
        if self.refused:
            console.print(f"[red]a consumer refused the backfill: {self.refused}[/red]")
        if self.dry_run:
            console.print("dry run: nothing was sent and no checkpoint was written")
        elif self.interrupted or self.refused:
            console.print("re-run the same command to resume where this run stopped")
