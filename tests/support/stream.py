"""Helpers of the stream tests: a real SSE client (httpx) on `GET /api/v1/stream`, its messages
parsed, and a token bound to a stream consumer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from tests.peers.router import Router

TIMEOUT = 60.0


@dataclass
class Message:
    event: str
    data: Any
    id: str | None


def messages(response: httpx.Response) -> Iterator[Message]:
    """Parse an event stream (comments and `retry:` skipped), message by message."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in fields:
                data = orjson.loads(fields["data"])
                yield Message(fields.get("event", "message"), data, fields.get("id"))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


@contextlib.contextmanager
def subscribe(
    router: Router, token: str | None, last_id: str | None = None, **params: str
) -> Iterator[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if last_id is not None:
        headers["Last-Event-ID"] = last_id
    timeout = httpx.Timeout(TIMEOUT, connect=10)
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream("GET", f"{router.url}/api/v1/stream", headers=headers, params=params) as r,
    ):
        yield r


def stream_token(router: Router, consumer: str) -> str:
    router.token  # noqa: B018  (creates the router-peer user)
    with router.store() as store:
        return store.tokens.create("router-peer", f"{consumer}-engine", consumer=consumer)[1]
