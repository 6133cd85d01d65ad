"""Write-only secrets: what the API and UI show for them, and what a client sends back.

Secrets (password, token, signing secret, credential headers) are shown as `"set"` or null.
A client that sends a configuration back as it was shown must not turn a stored password into the
word "set", so the mask sent back means "keep the stored value".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from event_router.routing.consumer import SECRET_FIELDS
from event_router.store.config_yaml import secret_header
from event_router.store.destination import moved
from event_router.store.errors import InvalidConfig

MASK = "set"


def keep_masked(changes: dict[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """`changes` with every masked secret replaced by the stored value (or an error if there is
    none to keep, as when creating a consumer)."""
    out = dict(changes)
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
