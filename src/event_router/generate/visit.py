"""A learner's visit to a course: the steps it produces and the state carried between visits.

Each activity (one module per family: courseware, video, problems, forums, exams) is a generator
of `Step`s that keeps its own story straight. The clock (`Visit.now`) is advanced by the stream
between steps, so payload times (exam attempts, grades) agree with the event's own timestamp.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote

from event_router.generate.world import Block, Course, Learner, Subsection
from event_router.translate.samples import About, hex_id, samples

Json = dict[str, Any]


@dataclass(slots=True)
class Step:
    """One event before it is dressed in a layout: name, payload and request details."""

    name: str
    data: Any
    source: str  # event_source: browser, server or mobile
    path: str
    referer: str = ""
    page: str | None = None
    module: Json | None = None  # context.module of server events about a block


@dataclass(slots=True)
class Progress:
    """A learner's standing in a course, carried from visit to visit."""

    enrolled: bool = False
    mode: str = "audit"
    points: dict[str, tuple[float, float]] = field(default_factory=dict)  # subsection → earned/max
    attempts: dict[str, int] = field(default_factory=dict)  # problem → attempts so far
    passed: bool | None = None
    exam_attempts: int = 0


@dataclass(slots=True)
class Visit:
    """One session of one learner in one course."""

    lms_url: str
    learner: Learner
    course: Course
    progress: Progress
    rng: random.Random
    now: datetime

    def xblock_url(self, sub: Subsection, unit: int) -> str:
        vertical = hex_id(sub.hex, "vertical", unit)
        key = self.course.usage_key("vertical", vertical)
        return f"{self.lms_url}/xblock/{key}?show_title=0&show_bookmark_button=0&view=student_view"

    def courseware_url(self, sub: Subsection) -> str:
        target = quote(sub.usage_key, safe="")
        return (
            f"{self.lms_url}/courses/{self.course.course_id}/courseware/{sub.chapter_hex}/"
            f"{sub.hex}/?activate_block_id={target}"
        )

    def outline_url(self) -> str:
        return f"{self.lms_url}/courses/{self.course.course_id}/course/"

    def jump_url(self, usage_key: str) -> str:
        return f"{self.lms_url}/courses/{self.course.course_id}/jump_to/{usage_key}"

    def handler_path(self, block: Block, handler: str) -> str:
        return (
            f"/courses/{self.course.course_id}/xblock/{block.usage_key}/handler/"
            f"xmodule_handler/{handler}"
        )

    def stamp(self) -> str:
        return self.now.isoformat()


def about(visit: Visit, block: str = "") -> About:
    """What a sample event is about in this visit: its course, `block`, learner and moment."""
    learner = visit.learner
    return About(
        visit.course.course_id, block, visit.lms_url, learner.user_id, learner.username,
        visit.progress.mode, visit.stamp(), visit.rng,
    )  # fmt: skip


def ident(visit: Visit) -> Json:
    return {"course_id": visit.course.course_id, "user_id": visit.learner.user_id}


@cache
def _fields(name: str) -> tuple[str, ...]:
    sample = samples()[name].payload(About(block="block-v1:edX+DemoX+Demo+type@html+block@0"))
    return tuple(sample)


def sampled(visit: Visit, name: str, block: str = "", /, **values: Any) -> Json:
    """The payload of `name` shaped as the sample beside its translation (`translate/families`):
    the sample's fields in their order, with what the simulation decided in `values`; a field it
    leaves out takes the sample's value, about this visit and `block`. A field the sample lacks is
    a bug: the simulation drifted from the sample."""
    fields = _fields(name)
    unknown = values.keys() - set(fields)
    if unknown:
        raise ValueError(f"{name}: its sample has no {sorted(unknown)}")
    if len(values) == len(fields):  # all decided here: no need to build the sample
        return {key: values[key] for key in fields}
    return {**samples()[name].payload(about(visit, block)), **values}


def completion(visit: Visit, block: Block, share: float) -> Step:
    """The block completion the LMS records (`share` of the block done, 1.0 when complete)."""
    course = visit.course.course_id
    name = "edx.completion.block_completion.changed"
    return Step(
        name,
        sampled(
            visit,
            name,
            user_id=visit.learner.user_id,
            course_id=course,
            context_key=course,
            block_id=block.usage_key,
            block_type=block.kind,
            completion=share,
            is_new=visit.rng.random() < 0.5,
        ),
        "server",
        visit.handler_path(block, "publish_completion"),
        module={"display_name": block.name, "usage_key": block.usage_key},
    )


def blocks_of(visit: Visit, kind: str) -> list[tuple[Subsection, int, Block]]:
    """(subsection, unit number, block) of every `kind` block outside the exam subsection."""
    return [
        (sub, unit, block)
        for sub in visit.course.subsections
        if sub.exam is None
        for unit, blocks in enumerate(sub.units, start=1)
        for block in blocks
        if block.kind == kind
    ]
