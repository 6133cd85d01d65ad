"""A real Ralph LRS (ralph-malph 5.1.0, fs backend, basic auth) in a subprocess on 127.0.0.1.

Started through `ralph_launcher.py` (see there why: the fs backend must append). Its data and
auth file live in a temporary directory; statements are read back through the xAPI API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import bcrypt
import httpx

from tests.peers.receiver import free_port
from tests.support.wait import wait_until

LAUNCHER = Path(__file__).with_name("ralph_launcher.py")
USERNAME = "router"
PASSWORD = "router-password"
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}


class Ralph:
    """A running Ralph; `url` is the statements endpoint a consumer points at."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self.username, self.password = USERNAME, PASSWORD

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/xAPI/statements"

    @property
    def data_file(self) -> Path:
        return self.home / "lrs" / "fs_lrs.jsonl"

    def start(self, timeout: float = 30.0) -> None:
        (self.home / "lrs").mkdir(parents=True, exist_ok=True)
        auth_file = self.home / "auth.json"
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        credentials = {
            "username": USERNAME,
            "hash": hashed,
            "scopes": ["all"],
            "agent": {"mbox": "mailto:router@example.com", "objectType": "Agent"},
        }
        auth_file.write_text(json.dumps([credentials]))
        env = {
            **os.environ,
            "RALPH_APP_DIR": str(self.home / "app"),
            "RALPH_AUTH_FILE": str(auth_file),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.home / "lrs"),
            "RALPH_LRS_PARTIAL_SUCCESS_DEFAULT": "false",
            "RALPH_SENTRY_DSN": "",
        }
        self.port = free_port()
        command = [sys.executable, "-P", str(LAUNCHER), "--host", "127.0.0.1", "--port"]
        # -P: keep tests/peers off sys.path, or `import ralph` would find tests/peers/ralph.py
        with (self.home / "ralph.log").open("wb") as log:  # the child keeps its own descriptor
            self._process = subprocess.Popen(
                [*command, str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
            )
        process = self._process

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"ralph exited: {(self.home / 'ralph.log').read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.base}/__lbheartbeat__", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_until(ready, timeout, "ralph did not answer", 0.1)
        except AssertionError:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    # -- reading back -----------------------------------------------------------------------------

    def post(self, body: Any) -> httpx.Response:
        """POST raw statements as a client would (for probing Ralph's answers)."""
        return httpx.post(
            self.url, json=body, headers=XAPI_HEADERS, auth=(self.username, self.password)
        )

    def statements(self) -> list[dict[str, Any]]:
        """Every stored statement, through GET /xAPI/statements and its `more` pages."""
        out: list[dict[str, Any]] = []
        url: str | None = f"{self.url}?limit=100"
        with httpx.Client(auth=(self.username, self.password), headers=XAPI_HEADERS) as client:
            while url:
                response = client.get(url)
                response.raise_for_status()
                page = response.json()
                out.extend(page["statements"])
                more = page.get("more")
                url = f"{self.base}{more}" if more else None
        return out

    def ids(self) -> list[str]:
        return [s["id"] for s in self.statements()]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """Wait until at least `count` statements are stored; return their ids."""
        wait_until(
            lambda: len(self.ids()) >= count,
            timeout,
            lambda: f"{len(self.ids())} of {count} statements",
            0.05,
        )
        return self.ids()
