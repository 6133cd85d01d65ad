"""Helpers for backfill tests: a home with consumers, generated logs, the CLI as a real process."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from event_router.generate import Layout, generate
from event_router.routing.consumer import Consumer
from event_router.store import Store
from tests.peers.receiver import Receiver
from tests.support.reference import statement_ids, transform

SECRET = "backfill-tests"
ROUTER = [sys.executable, "-m", "event_router"]


@dataclass
class Home:
    path: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "EVENT_ROUTER_HOME": str(self.path),
            "EVENT_ROUTER_SECRET_KEY": SECRET,
            "EVENT_ROUTER_LMS_URL": "http://localhost:18000",
        }

    def add_consumer(self, **config: Any) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with self.store() as store:
            store.consumers.add(Consumer(**config))

    def store(self) -> Store:
        return Store.open(f"sqlite:///{self.path / 'control.db'}", secret_key=SECRET)

    def backfill(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        report = self.path / "report.json"
        report.unlink(missing_ok=True)
        return subprocess.run(
            [*ROUTER, "backfill", *args, "--report-json", str(report)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start_backfill(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*ROUTER, "backfill", *args, "--report-json", str(self.path / "report.json")],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def report(self) -> dict[str, Any]:
        return json.loads((self.path / "report.json").read_text())  # type: ignore[no-any-return]

    def expected(self, *files: Path, to: str = "xapi") -> list[str]:
        """Ids `event-router transform` gives for the same files with the same home."""
        return statement_ids(transform(self.env, *files, to=to))


def write_log(path: Path, count: int, *, seed: int = 0, **kwargs: Any) -> Path:
    """`count` generated tracking-log lines (gzipped when the name ends in .gz)."""
    data = b"".join(
        g.line() + b"\n"
        for g in generate(
            count,
            seed=seed,
            users=200,
            courses=5,
            layout=kwargs.pop("layout", Layout.MIXED),
            **kwargs,
        )
    )
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.fixture
def home(tmp_path: Path, receiver: Receiver) -> Home:
    home = Home(tmp_path / "home")
    home.add_consumer(name="lrs", protocol="xapi", url=receiver.url + "/lrs/statements")
    # Another consumer on the same receiver: a backfill into `lrs` must never reach it.
    home.add_consumer(name="bystander", protocol="xapi", url=receiver.url + "/bystander")
    return home
