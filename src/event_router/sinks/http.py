"""What every HTTP sink shares: one keep-alive client, auth, headers, send and classify.

Subclasses only say how a batch becomes a body and which extra headers go with it, so the
transport rules (timeouts, no redirects, error classification) are written once.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Mapping, Sequence

import httpx

from event_router import __version__
from event_router.routing.consumer import AuthKind, Consumer
from event_router.sinks.destinations import DestinationRefused, Guard
from event_router.sinks.outcome import Outcome, classify, failure
from event_router.web.secrets_mask import mask_http_logs

USER_AGENT = f"openedx-event-router/{__version__}"
mask_http_logs()  # httpx logs every request's full URL at INFO: never its credentials


class Body:
    """A request body httpx sends without keeping it: released once the answer is in.

    httpx leaves each request in a reference cycle (its connection pool's wait machinery) that
    holds whatever body it was given until the cyclic collector runs, and that collector counts
    objects, not bytes: while a backlog drained, bodies of half a megabyte piled up by the
    hundred (~300 MB). Given this instead, the cycle holds an empty wrapper. The length goes in
    Content-Length, so the body is sent as one piece, not chunked."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data

    def release(self) -> None:
        self.data = b""


def join_array(items: Sequence[bytes]) -> bytes:
    """A JSON array of already-serialised values, by concatenation (no re-parsing)."""
    return b"[" + b",".join(items) + b"]"


def auth_headers(consumer: Consumer) -> dict[str, str]:
    """The Authorization header the consumer's auth settings call for (none for AuthKind.NONE)."""
    if consumer.auth is AuthKind.BASIC:
        pair = f"{consumer.username or ''}:{consumer.password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if consumer.auth is AuthKind.BEARER:
        return {"Authorization": f"Bearer {consumer.token}"}
    return {}


class HttpSink:
    """POSTs one body per batch to `consumer.url` and classifies the answer."""

    def __init__(self, consumer: Consumer, defaults: Mapping[str, str] | None = None) -> None:
        self.consumer = consumer
        self._destination = Guard(consumer.url)
        # Precedence: protocol defaults < the consumer's own headers < its auth settings.
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
        headers.update(defaults or {})
        headers.update(consumer.headers)
        headers.update(auth_headers(consumer))
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(consumer.timeout),
            follow_redirects=False,  # a POST must not silently change target: classify instead
            limits=httpx.Limits(max_keepalive_connections=max(4, consumer.max_in_flight)),
        )

    def build(self, items: Sequence[bytes]) -> tuple[bytes, dict[str, str]]:
        """The request body and per-request headers for a batch."""
        return join_array(items), {}

    async def send(self, items: Sequence[bytes]) -> Outcome:
        data, headers = self.build(items)
        started = time.perf_counter()
        try:
            await self._destination.check()
        except DestinationRefused as error:
            return failure(error, latency=time.perf_counter() - started, pause=True)
        body = Body(data)
        headers = {**headers, "Content-Length": str(len(data))}
        del data  # the body is held by `body` alone, which lets it go once answered
        try:
            response = await self._client.post(self.consumer.url, content=body, headers=headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            return failure(error, latency=time.perf_counter() - started, pause=True)
        except httpx.TimeoutException as error:
            detail = f"no answer within {self.consumer.timeout:g} s ({type(error).__name__})"
            return failure(TimeoutError(detail), latency=time.perf_counter() - started)
        except httpx.HTTPError as error:
            return failure(error, latency=time.perf_counter() - started)
        finally:
            body.release()
        return classify(
            response.status_code,
            response.headers,
            response.content,
            latency=time.perf_counter() - started,
        )

    async def close(self) -> None:
        await self._client.aclose()
