"""`event-router status`: how every consumer's delivery is doing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from event_router.cli import app
from event_router.cli.journal import journal_named
from event_router.cli.options import HOME, settings
from event_router.delivery.status_store import StatusStore
from event_router.journal import SqliteJournal
from event_router.journal.opening import journal_kind
from event_router.journal.redis import RedisJournal
from event_router.privacy.screen import STATUS_ROW
from event_router.settings import Settings
from event_router.store import Store
from event_router.store.database import database_url

_FRESH = 30.0  # seconds: a router that has not written its figures for longer is not running
# A router writes its figures every second: one silent for longer is gone (killed, or cut off from
# Redis). Its last figures still count until _FRESH, but its last state no longer speaks for the
# consumer: the live routers' does (the survivors have taken its work over).
_LIVE = 5.0
_WORST_FIRST = ("paused", "retrying", "running", "stopped")
_PIPED_WIDTH = 1000  # columns when stdout is not a terminal: wider than any row


def collect(home: Path | None = None) -> dict[str, Any]:
    """Status from the home: journal, cursors and the running router's last snapshots."""
    config = settings(home)
    kind = journal_kind(config)
    if kind == "kafka":  # read with Kafka's clients: opening the journal would create its topic
        from event_router.cli.kafka_status import collect_kafka

        return collect_kafka(config)
    if kind == "redis":
        return collect_cluster(config)
    journal = journal_named(config)
    assert isinstance(journal, SqliteJournal)
    store = Store.open(database_url(config))  # no secrets needed: no key asked for
    try:
        snapshots = StatusStore(journal).read()
        cursors = journal.cursors()
        count, size = journal.size()
        consumers: dict[str, Any] = {}
        for consumer in store.consumers.summaries():
            raw = snapshots.get(consumer.name)
            snap = orjson.loads(raw[0]) if raw else {}
            cursor = cursors.get(consumer.name)
            state = snap.get("state", "not started") if consumer.enabled else "disabled"
            if raw and time.time() - raw[1] > _FRESH and state not in ("stopped", "disabled"):
                state = f"not running (was {state})"  # killed: its last snapshot is old
            consumers[consumer.name] = {
                "enabled": consumer.enabled,
                "state": state,
                "delivered": snap.get("delivered", 0),
                "duplicates": snap.get("duplicates", 0),
                "pending": journal.pending(cursor) if cursor is not None else None,
                "in_flight": snap.get("in_flight", 0),
                "dead_letters": store.dead_letters.count(consumer=consumer.name, state="dead"),
                "last_error": snap.get("last_error"),
                "last_error_at": snap.get("last_error_at"),
                "latency_ms": snap.get("latency_ms"),
                "snapshot_age_s": round(time.time() - raw[1], 1) if raw else None,
            }
            if "stream" in snap:  # a stream consumer: its subscribers, as the router last saw
                consumers[consumer.name]["stream"] = snap["stream"]
                consumers[consumer.name]["pending"] = snap["stream"]["max_lag"]
        screen = snapshots.get(STATUS_ROW)
        dropped = orjson.loads(screen[0]).get("retired_events_dropped", 0) if screen else 0
        return {
            "journal": {"head": journal.head, "events": count, "bytes": size},
            "sources": journal.positions(),
            "consumers": consumers,
            "privacy": _privacy(store, dropped),
        }
    finally:
        journal.close()
        store.close()


def collect_cluster(config: Settings) -> dict[str, Any]:
    """Status of the router processes sharing a Redis journal (scale-out mode): each consumer's
    group lag from Redis, the processes' figures summed from their published snapshots."""
    store = Store.open(database_url(config))  # no secrets needed: no key asked for
    try:
        journal = journal_named(config)
    except BaseException:
        store.close()
        raise
    assert isinstance(journal, RedisJournal)
    try:
        groups, members = journal.cluster()
        count, size = journal.size()

        def pending(name: str) -> int | None:
            group = groups.get(name) or {}
            lag = group.get("lag")
            return None if lag is None else int(lag) + int(group.get("pending") or 0)

        report = cluster_report(store, members, pending)
        report["journal"] = {"kind": "redis", "head": journal.refresh(), "events": count,
                             "bytes": size}  # fmt: skip
        return report
    finally:
        journal.close()
        store.close()


def cluster_report(
    store: Store, members: dict[str, dict[str, Any]], pending: Callable[[str], int | None]
) -> dict[str, Any]:
    """The consumers' rows of a cluster's status from the processes' snapshots (`members`) and
    each consumer's lag (`pending(name)`, None when not known)."""
    now = time.time()
    fresh = {m: s for m, s in members.items() if s.get("at", 0) >= now - _FRESH}
    live = {m for m, s in fresh.items() if s.get("at", 0) >= now - _LIVE}
    consumers: dict[str, Any] = {}
    for consumer in store.consumers.summaries():
        name = consumer.name
        snaps = [s["consumers"][name] for s in fresh.values() if name in s["consumers"]]
        states = {
            fresh[m]["consumers"][name].get("state") for m in live if name in fresh[m]["consumers"]
        }
        latest: dict[str, Any] = max(
            snaps, key=lambda snap: snap.get("last_error_at") or 0, default={}
        )
        consumers[name] = {
            "enabled": consumer.enabled,
            "state": "disabled"
            if not consumer.enabled
            else next((x for x in _WORST_FIRST if x in states), "not running"),
            "delivered": sum(snap.get("delivered", 0) for snap in snaps),
            "duplicates": sum(snap.get("duplicates", 0) for snap in snaps),
            "pending": pending(name),
            "in_flight": sum(snap.get("in_flight", 0) for snap in snaps),
            "dead_letters": store.dead_letters.count(consumer=name, state="dead"),
            "last_error": latest.get("last_error"),
            "last_error_at": latest.get("last_error_at"),
            "processes": len(snaps),
        }
    return {
        "processes": sorted(fresh),
        "silent": sorted(set(fresh) - live),
        "consumers": consumers,
        "privacy": _privacy(
            store,
            sum(s.get("privacy", {}).get("retired_events_dropped", 0) for s in fresh.values()),
        ),
    }


def _privacy(store: Store, dropped: int) -> dict[str, int]:
    """Forgotten learners (keyed hashes listed) and their events dropped at ingest by the
    running router(s) since they started."""
    return {"retired_learners": store.retired.count(), "retired_events_dropped": dropped}


def stream_line(name: str, stream: dict[str, Any]) -> str:
    """One line about a stream consumer's subscribers."""
    line = (
        f"stream {name}: {stream['subscribers']} subscriber(s), the furthest "
        f"{stream['max_lag']} event(s) behind"
    )
    cut = ", ".join(f"{reason} {count}" for reason, count in sorted(stream["disconnects"].items()))
    return line + (f"; cut off: {cut}" if cut else "")


@app.command()
def status(
    home: Annotated[Path | None, HOME] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Per consumer: delivered, pending (lag), in flight, dead letters, last error, state.

    With EVENT_ROUTER_JOURNAL=redis://… or kafka://… (scale-out), the whole cluster: lag per
    consumer group (Kafka: committed offsets against the topic's high watermarks),
    figures summed over the router processes that published them in the last 30 s; the state
    from those heard from in the last 5 s (a killed process's last state does not linger)."""
    report = collect(home)
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    journal = report["journal"]
    title = f"journal: {journal['events']} events, head {journal['head']}"
    if "processes" in report:
        kind = journal["kind"].capitalize()
        title += f" ({kind}; {len(report['processes'])} router processes reporting"
        silent = report.get("silent") or []
        title += f", {len(silent)} silent for over {_LIVE:.0f} s)" if silent else ")"
    table = Table(title=title)
    for column in ("consumer", "state", "delivered", "pending", "in flight", "dead", "last error"):
        table.add_column(column)
    for name, row in report["consumers"].items():
        error = row["last_error"] or ""
        if error and row["last_error_at"]:
            error = f"{time.strftime('%H:%M:%S', time.localtime(row['last_error_at']))} {error}"
        table.add_row(
            name,
            row["state"],
            str(row["delivered"]),
            "?" if row["pending"] is None else str(row["pending"]),
            str(row["in_flight"]),
            str(row["dead_letters"]),
            error[:80],
        )
    privacy = report["privacy"]
    if privacy["retired_learners"] or privacy["retired_events_dropped"]:
        typer.echo(
            f"privacy: {privacy['retired_learners']} retired key(s); "
            f"{privacy['retired_events_dropped']} event(s) of forgotten learners dropped at ingest"
        )
    if not report["consumers"]:
        typer.echo("no consumers yet: add one with `event-router consumers add`")
        return
    for name, row in report["consumers"].items():
        if "stream" in row:
            typer.echo(stream_line(name, row["stream"]))
    # Piped or redirected, rich would squeeze the table into 80 columns (cutting names and
    # errors, or wrapping rows); a reader at the other end gets each row whole on one line.
    console = Console()
    if not console.is_terminal:
        console = Console(width=_PIPED_WIDTH)
    console.print(table)
