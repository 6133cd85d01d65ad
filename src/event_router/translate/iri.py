"""Making IRIs of what events contain: course ids, block ids, URLs, session ids.

xAPI and Caliper require IRIs; Open edX ids and URLs are almost always fine as they are, but a
malformed event may carry spaces or other characters an IRI cannot hold. `iri_safe` leaves valid
IRIs untouched and percent-encodes the rest (UTF-8), so output stays valid whatever comes in.
"""

from __future__ import annotations

import re

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
