"""Write-only secrets: what the API and UI show for them, and what a client sends back.

Secrets (password, token, signing secret, credential headers) are shown as `"set"` or null.
A client that sends a configuration back as it was shown must not turn a stored password into the
word "set", so the mask sent back means "keep the stored value".

Secrets also hide in URLs (`https://user:pass@host/…?api_key=…`): `mask_url` is the one place
that hides a URL's userinfo and query values wherever a URL is shown or logged (consumers in the
API, UI, CLI and YAML export, test-connection reports, httpx's request log). A masked URL sent
back unchanged means "keep the stored URL", like "set".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from event_router.routing.consumer import SECRET_FIELDS
from event_router.store.config_yaml import secret_header
from event_router.store.destination import moved
from event_router.store.errors import InvalidConfig

MASK = "set"
URL_MASK = "***"
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


def mask_url(url: str) -> str:
    """`url` without secrets: userinfo and every query value become ***; the rest is kept."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return url
    netloc = f"{URL_MASK}@{host}" if "@" in parts.netloc else parts.netloc
    query = "&".join(
        f"{pair.partition('=')[0]}={URL_MASK}" if pair else pair for pair in parts.query.split("&")
    )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_urls_in(text: str) -> str:
    """Every URL in a free text (a log line, an error) masked."""
    return _URL_IN_TEXT.sub(lambda found: mask_url(found.group(0)), text)


class MaskUrls(logging.Filter):
    """Masks URLs in a record's message arguments (httpx logs each request's full URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_urls_in(str(a)) if _url_like(a) else a for a in record.args)
        if isinstance(record.msg, str) and "://" in record.msg:
            record.msg = mask_urls_in(record.msg)
        return True


def _url_like(value: Any) -> bool:
    return not isinstance(value, int | float) and "://" in str(value)


def mask_http_logs() -> None:
    """Install the URL mask on httpx's logger (idempotent); keep httpcore's debug traces (which
    include response headers) out of the log."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, MaskUrls) for f in logger.filters):
        logger.addFilter(MaskUrls())
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def keep_masked_url(changes: dict[str, Any], stored: Mapping[str, Any] | None) -> None:
    """A URL sent back as it was shown (masked) keeps the stored URL."""
    url, old = changes.get("url"), (stored or {}).get("url")
    if isinstance(url, str) and isinstance(old, str) and url != old and url == mask_url(old):
        changes["url"] = old


def keep_masked(changes: dict[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """`changes` with every masked secret replaced by the stored value (or an error if there is
    none to keep, as when creating a consumer)."""
    out = dict(changes)
    keep_masked_url(out, stored)
    problems = []
    if stored is not None and moved(stored.get("url"), out.get("url")):
        stored = None  # another destination: stored secrets do not follow (store/destination.py)
    for name in SECRET_FIELDS:
        if out.get(name) == MASK:
            if stored is not None and stored.get(name):
                del out[name]  # updates merge: absent means unchanged
            else:
                problems.append(f'{name}: "{MASK}" stands for a stored secret; send the secret')
    headers = out.get("headers")
    if isinstance(headers, Mapping):
        kept = dict(headers)
        stored_headers = (stored or {}).get("headers") or {}
        for key, value in headers.items():
            if value == MASK and secret_header(str(key)):
                if key in stored_headers:
                    kept[key] = stored_headers[key]
                else:
                    problems.append(f'headers.{key}: "{MASK}" stands for a stored secret')
        out["headers"] = kept
    if problems:
        raise InvalidConfig(problems)
    return out
