"""A real HTTP receiver for sink and delivery tests: an LRS, a Caliper endpoint and a webhook.

It runs uvicorn (a Starlette app) on 127.0.0.1 in a background thread and records every item it
stores, by id, with its arrival time. Tests script its behaviour while it runs:

    receiver.fail_next(3)                       # 500 for the next 3 requests
    receiver.fail_next(1, 429, retry_after="2") # any status, optional Retry-After
    receiver.delay = 0.5                        # sleep before answering
    receiver.poison.add(statement_id)           # 400 for any batch holding this id
    receiver.dedupe = True                      # 409 for a batch holding an already stored id
    receiver.require_basic("user", "pass")      # 401 without these credentials
    receiver.webhook_secret = "s3cret"          # 401 unless the webhook signature verifies
    receiver.down(); receiver.up()              # refuse connections, then listen again
    receiver.drain()                            # wait until every request in flight is answered
    receiver.get_body = b'{"statements": []}'   # what a GET answers (an LRS read)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from event_router.sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.support.wait import wait_until


@dataclass(frozen=True, slots=True)
class Received:
    """One stored item."""

    id: str
    item: Any
    kind: str  # "xapi" (an array or one statement), "caliper" (an envelope), "webhook" (signed)
    arrived: float  # time.time()


@dataclass(slots=True)
class Exchange:
    """One request and the answer it got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    arrived: float
    signature_ok: bool | None = None  # for webhooks, when a secret is set
    client_port: int | None = None  # one port across requests means the connection was reused
    delayed: float = 0.0  # seconds the receiver slept before answering
    query: str = ""  # the raw query string


@dataclass(slots=True)
class _Script:
    failures: list[tuple[int, str | None, bytes]] = field(default_factory=list)


def item_id(item: Any) -> str:
    """The item's `id`, else a digest of it (normalised edX events carry no id)."""
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return str(item["id"])
    return "sha1:" + hashlib.sha1(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """The scriptable endpoint; all state is guarded by one lock (the server runs in a thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0
        self.reset()

    # -- state ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything received and every scripted behaviour."""
        with self._lock:
            self._generation = getattr(self, "_generation", 0) + 1  # requests from before: ignored
            self.received: list[Received] = []
            self.exchanges: list[Exchange] = []
            self.stored: dict[str, Any] = {}
            self.poison: set[str] = set()
            self.delay = 0.0
            self.dedupe = False
            self.webhook_secret: str | None = None
            self.answer_status = 200  # the success status (204 answers without a body)
            self.get_body = b'{"statements": [], "more": ""}'  # a GET's answer
            self._auth: str | None = None
            self._script = _Script()
            self._arrived = self._answered = 0  # requests of this test: in flight is the gap

    def fail_next(
        self, count: int, status: int = 500, *, retry_after: str | None = None, body: bytes = b""
    ) -> None:
        """Answer `status` (with an optional Retry-After) to the next `count` requests."""
        with self._lock:
            self._script.failures.extend([(status, retry_after, body)] * count)

    def require_basic(self, username: str, password: str) -> None:
        pair = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._auth = f"Basic {pair}"

    def require_bearer(self, token: str) -> None:
        self._auth = f"Bearer {token}"

    @property
    def ids(self) -> list[str]:
        """Ids of stored items in arrival order (an id stored twice appears twice)."""
        with self._lock:
            return [r.id for r in self.received]

    @property
    def duplicates(self) -> dict[str, int]:
        """Ids stored more than once, with how many times."""
        return {k: n for k, n in Counter(self.ids).items() if n > 1}

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.received)

    @property
    def requests(self) -> int:
        with self._lock:
            return len(self.exchanges)

    def last(self) -> Exchange:
        with self._lock:
            return self.exchanges[-1]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """Wait until `count` distinct items are stored; return the ids in arrival order."""
        wait_until(
            lambda: len(self.stored) >= count,
            timeout,
            lambda: f"{len(self.stored)} of {count} items",
        )
        return self.ids

    # -- server -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        """Start listening (on the same port as before, if it ran before)."""
        if self._thread is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            _app(self),
            log_level="warning",
            lifespan="off",
            http="h11",
            ws="none",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        wait_until(lambda: server.started or not thread.is_alive(), 10, "receiver did not start")
        if not thread.is_alive():
            raise RuntimeError("receiver did not start")
        self._server, self._thread, self._socket = server, thread, sock

    def down(self) -> None:
        """Stop listening: new connections are refused until `up()`."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    # -- handling ---------------------------------------------------------------------------------

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every request that has arrived so far is answered (and recorded).

        After it, whatever a sender had sent before the call is in `exchanges`: a test that must
        show something was not delivered waits on this rather than sleeping.
        """
        with self._lock:
            arrived = self._arrived
        wait_until(
            lambda: self._answered >= arrived,
            timeout,
            lambda: f"{arrived - self._answered} requests still in flight",
        )

    async def handle(self, request: Request) -> Response:
        generation = self._generation
        with self._lock:
            if generation == self._generation:
                self._arrived += 1
        try:
            return await self._handle(request, generation)
        finally:
            with self._lock:
                if generation == self._generation:
                    self._answered += 1

    async def _handle(self, request: Request, generation: int) -> Response:
        body = await request.body()
        delayed = self.delay
        if delayed:
            await asyncio.sleep(delayed)
        headers = dict(request.headers)
        status, answer, extra, signature_ok = self._decide(
            headers, body, generation, request.method
        )
        with self._lock:
            if generation != self._generation:  # a slow request of a previous test: forget it
                return Response(status_code=503)
            self.exchanges.append(
                Exchange(
                    request.method,
                    request.url.path,
                    headers,
                    body,
                    status,
                    time.time(),
                    signature_ok,
                    request.client.port if request.client else None,
                    delayed,
                    request.url.query,
                )
            )
        return Response(answer, status, headers=extra, media_type="application/json")

    def _decide(
        self, headers: dict[str, str], body: bytes, generation: int, method: str = "POST"
    ) -> tuple[int, bytes, dict[str, str], bool | None]:
        signature_ok = None
        if self.webhook_secret is not None and TIMESTAMP_HEADER.lower() in headers:
            signature_ok = verify_signature(
                self.webhook_secret,
                headers.get(TIMESTAMP_HEADER.lower()),
                body,
                headers.get(SIGNATURE_HEADER.lower()),
            )
        with self._lock:
            if generation != self._generation:
                return 503, b"", {}, signature_ok
            if self._script.failures:
                status, retry_after, answer = self._script.failures.pop(0)
                extra = {"Retry-After": retry_after} if retry_after else {}
                return status, answer, extra, signature_ok
            if self._auth is not None and headers.get("authorization") != self._auth:
                return 401, _error("unauthorised"), {}, signature_ok
            if self.webhook_secret is not None and not signature_ok:
                return 401, _error("bad or missing signature"), {}, signature_ok
            if method == "GET":  # a read (an LRS probe): nothing to store
                return self.answer_status, self.get_body, {}, signature_ok
            try:
                kind, items = _unpack(orjson.loads(body))
                if TIMESTAMP_HEADER.lower() in headers:
                    kind = "webhook"
            except (orjson.JSONDecodeError, ValueError) as error:
                return 400, _error(f"bad body: {error}"), {}, signature_ok
            ids = [item_id(item) for item in items]
            poisoned = [i for i in ids if i in self.poison]
            if poisoned:
                return 400, _error("invalid statement", ids=poisoned), {}, signature_ok
            if len(set(ids)) != len(ids):
                return 400, _error("duplicate ids in the batch"), {}, signature_ok
            if self.dedupe and (known := [i for i in ids if i in self.stored]):
                return 409, _error("already stored", ids=known), {}, signature_ok
            now = time.time()
            for identifier, item in zip(ids, items, strict=True):
                self.received.append(Received(identifier, item, kind, now))
                self.stored.setdefault(identifier, item)
            answer = b"" if self.answer_status == 204 else orjson.dumps(ids)
            return self.answer_status, answer, {}, signature_ok


def _unpack(payload: Any) -> tuple[str, list[Any]]:
    """(kind, items) of an xAPI batch or statement, a Caliper envelope, or a webhook array."""
    if isinstance(payload, dict) and "sensor" in payload and "data" in payload:
        if not isinstance(payload["data"], list) or not payload["data"]:
            raise ValueError("envelope data must be a non-empty array")
        return "caliper", payload["data"]
    if isinstance(payload, list):
        if not payload:
            raise ValueError("empty batch")
        return "xapi", payload
    if isinstance(payload, dict):
        return "xapi", [payload]
    raise ValueError("expected an object or an array")


def _error(message: str, **extra: Any) -> bytes:
    return orjson.dumps({"error": message, **extra})


def _app(receiver: Receiver) -> Starlette:
    return Starlette(
        routes=[Route("/{path:path}", receiver.handle, methods=["GET", "POST", "PUT"])]
    )
