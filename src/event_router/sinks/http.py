"""What every HTTP sink shares: one keep-alive client, auth, headers, send and classify.

Subclasses only say how a batch becomes a body and which extra headers go with it, so the
transport rules (timeouts, no redirects, error classification) are written once.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence

import httpx

from event_router import __version__
from event_router.routing.consumer import AuthKind, Consumer
from event_router.sinks.destinations import DestinationRefused, Guard
from event_router.sinks.outcome import Outcome, classify, failure
from event_router.web.secrets_mask import mask_http_logs

USER_AGENT = f"openedx-event-router/{__version__}"
mask_http_logs()  # httpx logs every request's full URL at INFO: never its credentials


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
        body, headers = self.build(items)
        started = time.perf_counter()
        try:
            await self._destination.check()
        except DestinationRefused as error:
            return failure(error, latency=time.perf_counter() - started, pause=True)
        try:
            response = await self._client.post(self.consumer.url, content=body, headers=headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            return failure(error, latency=time.perf_counter() - started, pause=True)
        except httpx.TimeoutException as error:
            detail = f"no answer within {self.consumer.timeout:g} s ({type(error).__name__})"
            return failure(TimeoutError(detail), latency=time.perf_counter() - started)
        except httpx.HTTPError as error:
            return failure(error, latency=time.perf_counter() - started)
        return classify(
            response.status_code,
            response.headers,
            response.content,
            latency=time.perf_counter() - started,
        )

    async def close(self) -> None:
        await self._client.aclose()
