"""Sample events beside their translations: each table family (`translate/families/`) gives,
next to its rows, the payload the LMS writes for each event, as a function of what the event is
about (`About`). The load generator (`generate/extras.py`) emits them about its simulated
visits; the tests translate them (`tests/translate/test_samples.py`). `table.register` refuses a
family whose rows and samples do not name the same events, so a new row comes with its sample.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

Json = dict[str, Any]


def hex_id(*parts: object) -> str:
    """A stable 32-hex id (as Studio assigns to blocks), from whatever names the thing."""
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class About:
    """What a sample event is about: course, block, learner and moment."""

    course_id: str = "course-v1:edX+DemoX+Demo_Course"
    block: str = ""  # usage key of the block of `Sample.kind` ("" when the event has none)
    lms_url: str = "https://lms.example.com"
    user_id: int = 42
    username: str = "amina"
    mode: str = "verified"  # enrollment mode
    time: str = "2024-03-01T10:00:00.123456+00:00"
    rng: random.Random = field(default_factory=lambda: random.Random(7))


@dataclass(frozen=True, slots=True)
class Sample:
    """One event's sample: `event_source` (browser or server), the kind of block it is about
    (`""` for none) and its payload."""

    source: str
    kind: str
    payload: Callable[[About], Any]


SAMPLES: dict[str, Sample] = {}  # event name → sample, filled as the families register


def samples() -> dict[str, Sample]:
    """Every table family's samples, by event name."""
    from event_router.translate import families  # noqa: F401  (registering fills SAMPLES)

    return SAMPLES


def tracking_event(name: str, about: About) -> Json:
    """A whole tracking-log event for `name` from its sample, with every field the LMS logs."""
    sample = samples()[name]
    page = f"{about.lms_url}/courses/{about.course_id}/courseware/" + (
        f"?activate_block_id={quote(about.block, safe='')}" if about.block else ""
    )
    context: Json = {
        "course_id": about.course_id,
        "course_user_tags": {},
        "org_id": about.course_id.split(":")[-1].split("+")[0],
        "user_id": about.user_id,
        "path": "/event" if sample.source == "browser" else f"/courses/{about.course_id}/x",
    }
    if about.block and sample.source == "server":
        context["module"] = {"display_name": sample.kind, "usage_key": about.block}
    event: Json = {
        "name": name,
        "event_type": name,
        "event_source": sample.source,
        "event": sample.payload(about),
        "username": about.username,
        "ip": "10.1.2.3",
        "agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "accept_language": "en-US,en;q=0.9",
        "time": about.time,
        "session": "0123456789abcdef0123456789abcdef",
        "host": about.lms_url.split("://")[-1],
        "referer": page,
        "context": context,
    }
    if sample.source == "browser":
        event["page"] = page
    else:  # the problem and ORA xmodules log their server events as page "x_module"
        event["page"] = "x_module" if sample.kind in ("problem", "openassessment") else None
    return event


# Parts several families' samples share.

STATE = {"correct_map": {}, "done": True, "input_state": {}, "seed": 1, "student_answers": {}}
SUBMISSION = "c1a2b3d4-e5f6-4789-8abc-def012345678"
ASSESSMENT = {
    "feedback": "Clear argument.",
    "parts": [{"option": "Good", "criterion": {"name": "Ideas", "points_possible": 5}}],
    "rubric": {"content_hash": "3c4b1f"},
    "scored_at": "2024-03-01T10:00:00+00:00",
    "scorer_id": "7f0e1d2c",
    "score_type": "PE",
    "submission_uuid": SUBMISSION,
}


def graded(correct: bool) -> Json:
    """One question's entry in a problem's `correct_map`, as the LMS writes it."""
    return {
        "correctness": "correct" if correct else "incorrect",
        "npoints": None,
        "msg": "",
        "hint": "",
        "hintmode": None,
        "queuestate": None,
        "answervariable": None,
    }


def pdf(about: About, **more: Any) -> Json:
    """A PDF textbook event's payload: its chapter (an asset of the course) and page."""
    asset = about.course_id.replace("course-v1:", "asset-v1:")
    return {"chapter": f"/{asset}+type@asset+block/Chapter_1.pdf", "page": 3, **more}


def pdf_search(name: str) -> Callable[[About], Json]:
    def build(about: About) -> Json:
        more = {"caseSensitive": False, "highlightAll": True, "query": "cell", "status": ""}
        return {**pdf(about), "name": name, **more}

    return build


def certificate(about: About, **more: Any) -> Json:
    code = hex_id(about.course_id, about.user_id)
    return {
        "certificate_id": code,
        "certificate_url": f"{about.lms_url}/certificates/{code}",
        "course_id": about.course_id,
        "enrollment_mode": about.mode,
        "user_id": about.user_id,
        **more,
    }


def note(about: About, **more: Any) -> Json:
    return {
        "component_usage_id": about.block,
        "highlighted_content": "the key idea",
        "note_id": hex_id(about.block, "note")[:12],
        "note_text": "Remember this",
        "tags": ["review"],
        **more,
    }


def team(about: About, **more: Any) -> Json:
    return {"team_id": hex_id(about.course_id, "team"), **more}
