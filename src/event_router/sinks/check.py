"""What a sink's connection check ("Test connection" in the admin) answers, in one shape.

Each sink module that probes its endpoint in its own way (an LRS read, an archive write, a Redis
PING, Kafka metadata) builds its answer with these, so the admin shows every sink's result alike
and none of them turns the router into a proxy for reading what only it can reach: a success
answer's body is never shown, only its status and timing; an error answer (or the reason there
was none) shows a short excerpt with the consumer's secrets masked, and URLs are shown masked.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from event_router.routing.consumer import SECRET_FIELDS, Consumer
from event_router.sinks.http import auth_headers
from event_router.sinks.outcome import failure
from event_router.store.config_yaml import secret_header
from event_router.web.secrets_mask import mask_urls_in

BODY_LIMIT = 200  # characters of an error answer shown


def result(request: str, **values: Any) -> dict[str, Any]:
    """`ok`, the HTTP `status`, `latency_ms`, an error answer's `body` (excerpt), what was sent
    (`request`) and a one-line `verdict` for people."""
    return {
        "request": request,
        "ok": values.pop("ok", False),
        "status": values.pop("status", None),
        "latency_ms": values.pop("latency_ms", None),
        "body": values.pop("body", ""),
        **values,
    }


def shown(consumer: Consumer, status: int | None, text: str) -> str:
    """What of an answer may be shown: nothing of a success (or a redirect), else a short excerpt
    with every secret of the consumer replaced by `***` (an endpoint may echo what it got)."""
    if status is not None and status < 400:
        return ""
    secrets = [str(getattr(consumer, name) or "") for name in SECRET_FIELDS]
    secrets += [value for key, value in consumer.headers.items() if secret_header(key)]
    secrets += [value.split(" ", 1)[-1] for value in auth_headers(consumer).values()]
    secrets += url_secrets(consumer.url)
    text = mask_urls_in(text)  # any URL echoed, the consumer's or another
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text[:BODY_LIMIT]


def url_secrets(url: str | None) -> list[str]:
    """The credentials a URL carries, its query values (userinfo is refused when a consumer is
    saved), as given and decoded: an endpoint may echo them on their own, outside any URL."""
    try:
        query = urlsplit(url or "").query
    except ValueError:
        return []
    found = []
    for pair in query.split("&"):
        value = pair.partition("=")[2]
        if len(value) >= 4:  # short values (`v=1`) are settings, and masking them garbles text
            found += [value, unquote_plus(value)]
    return found


def failed(consumer: Consumer, request: str, exc: BaseException, started: float) -> dict[str, Any]:
    """No answer at all (`started`: `time.perf_counter()` when the request began)."""
    outcome = failure(exc, latency=time.perf_counter() - started)
    latency = round(outcome.latency * 1000, 1)
    body = shown(consumer, None, outcome.detail)
    return result(request, latency_ms=latency, body=body, verdict="no answer")
