"""Stored credentials belong to the destination they were entered for.

An admin who can edit a consumer but not read its secrets could otherwise point it at a host of
their own and press "test connection": the stored Basic credentials, token, signing secret and
credential headers would be sent there. So changing the destination (scheme, host or port) drops
every stored secret the same update does not supply again, as webhook services do; the store
applies it to every write path (CLI, API, UI, YAML import), and the layers that fill in stored
secrets for the user (masked values, blank form fields, YAML without secrets) ask `moved` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from event_router.routing.consumer import SECRET_FIELDS
from event_router.store.config_yaml import secret_header

_PORTS = {"http": 80, "https": 443}

CLEARED = (
    "the destination's scheme, host or port changed, so the stored credentials ({names}) were "
    "removed: enter them again in the same change"
)


def destination(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL; a path without a scheme is a local destination."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ("", url.strip(), None)
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), port or _PORTS.get(scheme))


def moved(old_url: Any, new_url: Any) -> bool:
    """Whether a change of URL points the consumer at another destination."""
    if not isinstance(new_url, str) or not isinstance(old_url, str):
        return False
    return destination(old_url) != destination(new_url)


def drop_unsupplied(
    merged: dict[str, Any], current: Mapping[str, Any], changes: Mapping[str, Any]
) -> list[str]:
    """On a move, remove from `merged` the stored secrets `changes` does not supply; their names."""
    if not moved(current.get("url"), changes.get("url")):
        return []
    dropped = []
    for name in SECRET_FIELDS:
        if current.get(name) and not changes.get(name):
            merged[name] = None
            dropped.append(name)
    stored_headers = current.get("headers") or {}
    new_headers = changes.get("headers")
    supplied = new_headers if isinstance(new_headers, Mapping) else {}
    headers = dict(merged.get("headers") or {})
    for key in stored_headers:
        if secret_header(str(key)) and key not in supplied and key in headers:
            del headers[key]
            dropped.append(f"headers.{key}")
    merged["headers"] = headers
    return dropped
