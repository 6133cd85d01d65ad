"""Fuzzed inputs for the ingest paths: hypothesis-made values and mutated real events.

Half of the inputs come from hypothesis (arbitrary JSON, and event-shaped objects whose every
field may be of the wrong kind), half are generated tracking events mutated at the JSON level
(fields removed, retyped, renamed; names swapped between families) or at the byte level
(truncated, bytes flipped or inserted, a logger prefix or garbage in front). Every input is one
line: no raw CR or LF inside, never blank.
"""

from __future__ import annotations

import random
from datetime import UTC
from functools import cache
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from event_router.generate import Layout, generate
from event_router.translate import registry

NAMES = sorted(registry("xapi"))
COURSE = "course-v1:edX+DemoX+Demo_Course"
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=16,
)
_stamps = (
    st.datetimes(timezones=st.sampled_from([None, UTC])).map(lambda d: d.isoformat())
    | st.sampled_from(
        ["2024-03-01T10:00:00Z", "2024-03-01 10:00:00", "yesterday", "", "2024-13-45"]
    )
    | st.text(max_size=30)
    | _scalars
)
_ids = (
    st.text(max_size=40)
    | st.integers()
    | st.sampled_from(
        [f"block-v1:edX+DemoX+Demo_Course+type@problem+block@{'a' * 32}", "0b9e39477cf3", "", "/"]
    )
)
_context = st.fixed_dictionaries(
    {},
    optional={
        "course_id": st.sampled_from([COURSE, "course-v1:x", "not a key", ""]) | _json,
        "org_id": _scalars,
        "user_id": st.integers() | _scalars,
        "username": _scalars,
        "session": _scalars,
        "path": st.sampled_from(["/event", "/api/discussion/v1/threads/", ""]) | _scalars,
        "referer": _scalars,
        "event_source": st.sampled_from(["browser", "server", "mobile"]) | _scalars,
        "module": _json,
    },
)
_data = _json | st.fixed_dictionaries(
    {},
    optional={
        key: _ids | _scalars
        for key in (
            "id", "problem_id", "module_id", "block_id", "currentTime", "current_time",
            "duration", "old_time", "new_time", "grade", "max_grade", "submission", "answers",
            "target_url", "tab_count", "current_tab", "exam_content_id", "attempt_code",
            "percent_grade", "weighted_earned", "weighted_possible", "completion", "user_id",
            "discussion", "hint_index", "old_speed", "new_speed", "mode",
        )
    },
)  # fmt: skip
_event = st.fixed_dictionaries(
    {"name": st.sampled_from(NAMES) | st.text(max_size=30) | _scalars, "timestamp": _stamps},
    optional={"data": _data, "context": _context, "event": _data | st.text(max_size=80),
              "event_type": st.sampled_from(NAMES), "time": _stamps, "username": _scalars},
)  # fmt: skip
INPUTS = _event | _event | _event | _json


def one_line(data: bytes) -> bytes | None:
    """The input as one line, or None when nothing but blanks is left."""
    line = data.replace(b"\r", b" ").replace(b"\n", b" ")
    return line if line.strip() else None


@cache
def hypothesis_values(count: int) -> tuple[Any, ...]:
    """`count` values drawn by hypothesis (deterministic: derandomized)."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(INPUTS)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return tuple(found)


def hypothesis_lines(count: int) -> list[bytes]:
    lines = []
    for value in hypothesis_values(count):
        try:
            encoded = one_line(orjson.dumps(value))
        except (TypeError, orjson.JSONEncodeError):
            continue
        if encoded is not None:
            lines.append(encoded)
    return lines


def mutated_lines(count: int, seed: int) -> list[bytes]:
    """`count` generated events, each mutated one to three times."""
    rng = random.Random(seed)
    out = []
    for generated in generate(count, users=50, courses=3, seed=seed, layout=Layout.MIXED):
        event = orjson.loads(orjson.dumps(generated.event))
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.7:
                _mutate_json(rng, event)
        data = orjson.dumps(event)
        if rng.random() < 0.35:
            data = _mutate_bytes(rng, data)
        line = one_line(data)
        if line is not None:
            out.append(line)
    return out


def _mutate_json(rng: random.Random, event: dict[str, Any]) -> None:
    node: Any = event
    path: list[Any] = []
    while isinstance(node, dict | list) and node and rng.random() < 0.7:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append(key)
        node = node[key]
    if not path:
        event["name"] = rng.choice(NAMES)  # another family's name on this payload
        return
    parent: Any = event
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = rng.randrange(5)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[f"{key}_renamed"] = parent.pop(key)
    else:
        parent[key] = rng.choice(
            [None, True, 0, -1, 2**62, 1e308, -0.5, "", "x" * rng.randint(1, 3000), [], {},
             [1, "a"], {"nested": {"deep": [None]}}, "\u0000\ud7ff\U0001f600", "1.5", "NaN",
             "block-v1:", "course-v1:a+b+c", "http://", "javascript:alert(1)", " " * 5]
        )  # fmt: skip


def _mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    action = rng.randrange(5)
    position = rng.randrange(len(data) + 1)
    if action == 0:
        return data[:position]
    if action == 1 and data:
        index = min(position, len(data) - 1)
        return data[:index] + bytes([rng.randrange(256)]) + data[index + 1 :]
    if action == 2:
        return data[:position] + rng.randbytes(rng.randint(1, 8)) + data[position:]
    if action == 3:
        return b"2024-03-01 10:00:00,000 INFO 20 [tracking] logger.py:41 - " + data
    return rng.randbytes(rng.randint(1, 6)) + data
