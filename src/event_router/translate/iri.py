"""Making IRIs and ids of what events contain: course ids, block ids, URLs, session ids.

xAPI and Caliper require IRIs; Open edX ids and URLs are almost always fine as they are, but a
malformed event may carry spaces or other characters an IRI cannot hold. `iri_safe` leaves valid
IRIs untouched and percent-encodes the rest (UTF-8), so output stays valid whatever comes in.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from event_router.events import TrackingEvent
from event_router.translate.payload import Json, block_usage_key, identifier, require_course

if TYPE_CHECKING:  # options imports this module
    from event_router.translate.options import Options

# Characters an IRI may hold outside its fragment-marking `#` (RFC 3987 `ipchar`, `/`, `?`, `%`).
_IRI_UNSAFE = re.compile(
    "[^A-Za-z0-9._~!$&'()*+,;=:@/?%\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    + "".join(f"\\U{plane:04x}0000-\\U{plane:04x}fffd" for plane in range(1, 14))
    + "\\U000e1000-\\U000efffd-]|%(?![0-9A-Fa-f]{2})"
)


# The common case, checked fast: plain ASCII IRI characters, at most one `#`, no `%`.
_IRI_PLAIN = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]*(?:#[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?")


def iri_safe(text: str) -> str:
    """`text` as a valid IRI: what an IRI cannot hold is percent-encoded (UTF-8), a `%` that
    starts no escape becomes `%25`, a second `#` is escaped; a valid IRI is returned unchanged."""
    if _IRI_PLAIN.fullmatch(text) is not None:
        return text
    if _IRI_UNSAFE.search(text) is None and text.count("#") < 2:
        return text
    head, mark, fragment = text.partition("#")
    return _escape_iri(head) + mark + _escape_iri(fragment.replace("#", "%23"))


def _escape_iri(text: str) -> str:
    return _IRI_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)


def block_iri(options: Options, usage_key: str) -> str:
    return f"{options.lms_url}/xblock/{usage_key}"


_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


def absolute_url(url: str, options: Options) -> str:
    """`url` as an absolute IRI (an xAPI activity id must be one): a relative URL is resolved
    against the LMS, characters an IRI cannot hold are percent-encoded."""
    scheme, colon, _ = url.partition(":")
    if not (colon and scheme[:1].isalpha() and _SCHEME_CHARACTERS.issuperset(scheme)):
        url = urljoin(options.lms_url + "/", url)
    return iri_safe(url)


def sequence_iri(data: Json, options: Options) -> str:
    sequence_id = identifier(data.get("id"), "sequence id (data.id)")
    return iri_safe(block_iri(options, sequence_id))


def video_iri(event: TrackingEvent, options: Options, data: Json) -> str:
    """The video block the event is about, from the course key (CCX too) and the video's id."""
    course_id = require_course(event)
    video_id = identifier(data.get("id"), "video id (data.id)")
    return iri_safe(block_iri(options, block_usage_key(course_id, "video", video_id)))


# uuid5 ids (statement and Caliper event ids), computed the way `uuid.uuid5` does, faster.
_NAMESPACE_BYTES: dict[uuid.UUID, bytes] = {}
_VARIANT = {c: format(int(c, 16) & 0x3 | 0x8, "x") for c in "0123456789abcdef"}


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))`, without building UUID objects (hot path)."""
    prefix = _NAMESPACE_BYTES.get(namespace)
    if prefix is None:
        prefix = _NAMESPACE_BYTES.setdefault(namespace, namespace.bytes)
    h = hashlib.sha1(prefix + name.encode()).hexdigest()
    # Version 5 in the 13th hex digit; RFC 4122 variant (10xx) in the 17th.
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
