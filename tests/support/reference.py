"""The expected output of delivery tests, written once: what `event-router transform` prints for
the same events with the same home and environment (secret key, LMS URL, identity table), so a
test compares what a sink received with the router's own translation, never with hard-coded ids."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from tests.peers.router import Router


def command(*files: Path, to: str = "xapi", options: Iterable[str] = ()) -> list[str]:
    """The `event-router transform` command line (quiet: statements only on stdout)."""
    return [sys.executable, "-m", "event_router", "transform", "--to", to, "-q", *options] + [
        str(f) for f in files
    ]


def transform(
    env: Mapping[str, str], *files: Path, to: str = "xapi", options: Iterable[str] = ()
) -> list[bytes]:
    """The statements `transform` writes for `files`, one JSON text per statement, as printed."""
    done = subprocess.run(
        command(*files, to=to, options=options),
        capture_output=True,
        check=True,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )
    return done.stdout.splitlines()


def transformed(
    router: Router | Mapping[str, str], events: Iterable[dict[str, Any]], *options: str
) -> list[bytes]:
    """The statements for `events` with the router's environment (or the given one, whose home's
    parent holds the events file); `options` are extra flags (`--identity mbox`)."""
    env = router.env if isinstance(router, Router) else router
    folder = Path(env["EVENT_ROUTER_HOME"]).parent
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"reference-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
    source.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in events))
    return transform(env, source, options=options)


def statement_ids(lines: Iterable[bytes]) -> list[str]:
    return [orjson.loads(line)["id"] for line in lines]


def expected_ids(router: Router | Mapping[str, str], events: Iterable[dict[str, Any]]) -> list[str]:
    """The statement ids the router should deliver for `events`, in order."""
    return statement_ids(transformed(router, events))


def file_ids(router: Router, *files: Path, to: str = "xapi") -> list[str]:
    """The statement ids for the events of `files` (tracking logs, plain or gzipped)."""
    return statement_ids(transform(router.env, *files, to=to))
