"""What both protocols' rules share: IRIs, UUIDs, numbers."""

from __future__ import annotations

import re
from typing import Any

from event_router.translate.iri import iri_safe

_UUID = re.compile(
    r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}\Z"
)
_SCHEME = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*:")


def is_iri(value: Any) -> bool:
    """An absolute IRI: a scheme, and only characters an IRI may hold."""
    return (
        isinstance(value, str)
        and _SCHEME.match(value) is not None
        and " " not in value
        and iri_safe(value) == value
    )


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and _UUID.match(value) is not None
