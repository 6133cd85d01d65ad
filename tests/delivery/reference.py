"""The reference for end-to-end delivery tests: what `event-router transform` prints for the same
events with the same home and environment (secret key, LMS URL, the home's identity table)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import orjson

from tests.peers.router import Router


def transformed(router: Router, events: Iterable[dict[str, Any]], *options: str) -> list[bytes]:
    """The statements `transform --to xapi` writes for `events`, one JSON text per statement,
    exactly as printed (for byte comparisons); `options` are extra flags (`--identity mbox`)."""
    source = router.home.parent / f"reference-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
    source.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in events))
    command = [sys.executable, "-m", "event_router", "transform", "--to", "xapi", "-q"]
    done = subprocess.run(
        [*command, *options, str(source)],
        capture_output=True,
        check=True,
        env={**router.env, "PATH": os.environ.get("PATH", "")},
    )
    return done.stdout.splitlines()


def statement_ids(lines: Iterable[bytes]) -> list[str]:
    return [orjson.loads(line)["id"] for line in lines]
