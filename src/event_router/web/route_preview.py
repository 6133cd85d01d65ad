"""What a route would let through, before it is saved: the event names the translation registry
knows (for the form's picker), which recent journal events the route matches, and hints for
patterns that match nothing known (`edx\\.video\\..*` matches none of the names Open edX uses for
video events: they are `play_video`, `pause_video`, …).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

from event_router.events import NormaliseError
from event_router.journal import Journal, SqliteJournal
from event_router.routing.route import Route, is_regex
from event_router.translate import registry

RECENT = 1000  # journal events looked at: enough to see the common names, cheap to decide
_WORD = re.compile(r"[a-z]{4,}")


@cache
def known_names(protocol: str) -> tuple[str, ...]:
    """Names with a translation for `protocol`; for `edx` (passed on as is) those of both."""
    protocols = ("xapi", "caliper") if protocol == "edx" else (protocol,)
    names: set[str] = set()
    for each in protocols:
        names.update(registry(each))
    return tuple(sorted(names))


def hints(route: Route, protocol: str, seen: set[str]) -> list[str]:
    """One line per allow / deny pattern that matches no known name, or none of the names the
    journal's recent events carry while some of those look like what was meant."""
    known = set(known_names(protocol)) | seen
    found = []
    for kind, patterns in (("allow", route.allow), ("deny", route.deny)):
        for pattern in patterns:
            rx = re.compile(pattern) if is_regex(pattern) else None

            def matches(name: str, rx: re.Pattern[str] | None = rx, pattern: str = pattern) -> bool:
                return bool(rx.fullmatch(name)) if rx is not None else name == pattern

            if not any(matches(name) for name in known):
                what = f"matches none of the {len(known)} known event names"
                if rx is None:
                    what = "not a known event name"
                found.append(f"{kind} {pattern}: {what}{_nearby(pattern, sorted(known))}")
            elif seen and not any(matches(name) for name in seen):
                nearby = _nearby(pattern, sorted(seen))
                if nearby:
                    found.append(
                        f"{kind} {pattern}: matches none of the recent events' names{nearby}"
                    )
    return found


def _nearby(pattern: str, names: list[str]) -> str:
    """`; did you mean play_video, pause_video, …?` from the words in the pattern."""
    words = set(_WORD.findall(pattern.lower().replace("\\", " "))) - {"edx", "openedx", "event"}
    close = [n for n in names if any(word in n.lower() for word in words)]
    if not close:
        return ""
    shown = ", ".join(close[:6]) + (", …" if len(close) > 6 else "")
    return f"; did you mean {shown}?"


def preview(route: Route, protocol: str, journal: Journal) -> dict[str, Any]:
    """Which of the journal's most recent events the route lets through, by event name."""
    if not isinstance(journal, SqliteJournal):
        return {
            "scanned": 0,
            "matched": 0,
            "names": [],
            "hints": hints(route, protocol, set()),
            "note": "the recent-event preview reads a SQLite journal; this router uses Redis",
        }
    entries, _ = journal.read(max(0, journal.head - RECENT), RECENT)
    counts: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    rules: dict[str, str] = {}
    for entry in entries:
        try:
            event = entry.event
        except NormaliseError:
            continue
        counts[event.name] += 1
        decision = route.decide(event)
        rules.setdefault(event.name, decision.rule)
        if decision.allowed:
            matched[event.name] += 1
    names = [
        {"name": name, "events": count, "matched": matched[name], "rule": rules[name]}
        for name, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    ]
    return {
        "scanned": sum(counts.values()),
        "matched": sum(matched.values()),
        "names": names,
        "hints": hints(route, protocol, set(counts)),
        "note": None,
    }
