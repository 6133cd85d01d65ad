"""What `event-router run` tells the person who started it: where things are, what to do next.

A newcomer's first run should say where the UI is, how to create the first admin (nothing is
created for them: they choose the name and the password), whether ingest takes events, and how
to see events flow (`--demo`) — not leave them guessing amid log lines.
"""

from __future__ import annotations

from pathlib import Path

from event_router import __version__
from event_router.demo import DEMO_CONSUMER, SAMPLE_EVENTS, demo_archive
from event_router.settings import Settings
from event_router.store import Store

_DEFAULT_HOME = Path("event-router-data")


def banner(
    config: Settings, store: Store, address: tuple[str, int], logs: list[Path], *, demo: bool
) -> str:
    """The start-up summary, one fact per line (`logs`: those the user asked to follow)."""
    host, port = address
    url = f"http://{host}:{port}"
    home = "" if config.home == _DEFAULT_HOME else f" --home {config.home}"
    lines = [
        f"Open edX Event Router {__version__}, data in {config.home.resolve()}",
        f"  Admin UI, API     {url}/   (API docs {url}/api/docs)",
    ]
    if not store.users.count():
        lines.append(
            f"  First admin       none yet; create one: event-router users add admin --role admin"
            f"{home}"
        )
    if config.ingest_token is not None:
        ingest = "takes events with the bearer token EVENT_ROUTER_INGEST_TOKEN"
    elif config.ingest_open:
        ingest = "OPEN: anyone who can reach this port can add events (--ingest-open)"
    else:
        ingest = "refused: set EVENT_ROUTER_INGEST_TOKEN (or start with --ingest-open)"
    lines.append(f"  Ingest            POST {url}/api/v1/events {ingest}")
    lines.append(
        "  Tracking logs     "
        + (", ".join(map(str, logs)) if logs else "none (follow one with --tracking-log PATH)")
    )
    names = [c.name for c in store.consumers.list()]
    lines.append(
        "  Consumers         "
        + (", ".join(names) if names else "none yet: add one with `event-router consumers add`, "
           "or see events flow with `event-router run --demo`")
    )  # fmt: skip
    if demo:
        lines.append(
            f"  Demo              {SAMPLE_EVENTS} sample events to consumer '{DEMO_CONSUMER}' "
            f"(xAPI, into {demo_archive(config.home)}); watch: event-router status{home}"
        )
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)
