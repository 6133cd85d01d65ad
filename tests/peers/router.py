"""The router itself as a real process, for end-to-end tests: start, stop, kill -9, restart."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

from event_router.routing.consumer import Consumer
from event_router.sinks.destinations import Destinations
from event_router.store import Store
from tests.peers.receiver import free_port
from tests.support.wait import wait_until

ROUTER = [sys.executable, "-m", "event_router"]
INGEST_TOKEN = "end-to-end-ingest"


class Router:
    """`event-router run` in a subprocess with its own home, listening on a free port."""

    def __init__(
        self,
        home: Path,
        *,
        tracking_logs: list[Path] | None = None,
        args: tuple[str, ...] = (),
        ingest_token: str | None = INGEST_TOKEN,
        environment: Mapping[str, str] | None = None,
        **more: str,
    ) -> None:
        """`environment` and `more` add to (or replace) the process's environment variables."""
        env = {**(environment or {}), **more}
        self.home = home
        self.tracking_logs = tracking_logs or []
        self.args = args  # more `run` options, e.g. ("--demo",)
        self.port = free_port()
        self.env = {
            **os.environ,
            "EVENT_ROUTER_HOME": str(home),
            "EVENT_ROUTER_LMS_URL": "http://localhost:18000",
            "EVENT_ROUTER_SECRET_KEY": "end-to-end",
            **env,
        }
        # Ingest is refused without a token (unless --ingest-open): one by default, none if
        # `ingest_token` is None (whatever this process's environment holds).
        token = env.get("EVENT_ROUTER_INGEST_TOKEN", ingest_token)
        self.env.pop("EVENT_ROUTER_INGEST_TOKEN", None)
        if token is not None:
            self.env["EVENT_ROUTER_INGEST_TOKEN"] = token
        self.process: subprocess.Popen[bytes] | None = None
        self._token: str | None = None
        self.log = home / "router.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def store(self) -> Store:
        self.home.mkdir(parents=True, exist_ok=True)
        url = self.env.get("EVENT_ROUTER_DATABASE_URL") or f"sqlite:///{self.home / 'control.db'}"
        # Consumers are checked as the router process checks them (archives under home/archives).
        return Store.open(
            url,
            secret_key=self.env["EVENT_ROUTER_SECRET_KEY"],
            destinations=Destinations(None, self.home / "archives"),
        )

    def add_consumer(self, **config: Any) -> Consumer:
        with self.store() as store:
            return store.consumers.add(Consumer(**config)).consumer

    def update_consumer(self, name: str, **changes: Any) -> None:
        with self.store() as store:
            store.consumers.update(name, changes)

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        args = [*ROUTER, "run", "--listen", f"127.0.0.1:{self.port}", "--log-level", "info"]
        for path in self.tracking_logs:
            args += ["--tracking-log", str(path)]
        args += self.args
        handle = self.log.open("ab")
        self.process = subprocess.Popen(args, env=self.env, stdout=handle, stderr=handle)
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"router exited: {self.log.read_text()[-3000:]}")
            try:
                return httpx.get(f"{self.url}/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 30, lambda: f"router not ready: {self.log.read_text()[-3000:]}")

    def stop(self, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.process = None
        return code

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no cleanup at all
        self.process.wait()
        self.process = None

    @property
    def ingest_headers(self) -> dict[str, str]:
        """What the LMS backend sends: the ingest token, a JSON media type."""
        token = self.env.get("EVENT_ROUTER_INGEST_TOKEN")
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return {**auth, "Content-Type": "application/json"}

    def post(self, body: Any, **kwargs: Any) -> httpx.Response:
        """POST to ingest with the token and a JSON type (`headers` add to or replace them)."""
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = {**self.ingest_headers, **kwargs.pop("headers", {})}
        return httpx.post(
            f"{self.url}/api/v1/events", content=content, headers=headers, timeout=10, **kwargs
        )

    @property
    def token(self) -> str:
        """An admin API token (the status and admin API need one), created on first use."""
        if self._token is None:
            with self.store() as store:
                store.users.add("router-peer", secrets.token_urlsafe(12), "admin")
                self._token = store.tokens.create("router-peer", "tests")[1]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request to the admin API with the admin token."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def status(self) -> dict[str, Any]:
        return self.api("GET", "/api/v1/status").json()  # type: ignore[no-any-return]

    def cli_status(self) -> dict[str, Any]:
        """`event-router status --json` on this router's home (running or not)."""
        done = subprocess.run(
            [*ROUTER, "status", "--json", "--home", str(self.home)],
            capture_output=True,
            check=True,
            env=self.env,
        )
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    def __enter__(self) -> Router:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.stop()
