"""Interleave many learners' visits into one time-ordered stream, dressed in a log layout.

About `concurrency` visits are under way at any moment; each event belongs to one of them, picked
at random, so one learner's events stay in order while the log mixes learners, as an LMS's does.
Timestamps strictly increase (never two events with the same time), which also keeps every xAPI
statement id distinct.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import orjson

from event_router.generate.activities import Progress, Step, Visit, visit_steps
from event_router.generate.world import World
from event_router.translate.samples import hex_id

DEFAULT_START = datetime(2024, 3, 1, tzinfo=UTC)
_PROCESS = 20  # the pid in the LMS logger prefix
# Real events the router has no translation for, emitted with `unsupported` > 0: useful to check
# that an LRS is not sent what it should not get, and that the skip counts are right.
UNSUPPORTED = (
    ("edx.forum.searched", "server", {"query": "week 1", "total_results": 3}),
    ("edx.course.home.resume_course.clicked", "browser", {"event_type": "start"}),
    ("edx.ui.lms.jump_nav.selected", "browser", {"target_name": "Week 1"}),
    ("edx.user.settings.viewed", "server", {"page": "account", "visibility": None}),
)


class Layout(StrEnum):
    TRACKING_LOG = "tracking-log"  # what the LMS writes to tracking.log: logger prefix, event_type
    EVENT_TRACKING = "event-tracking"  # name/timestamp/data/context, as the event bus carries
    MIXED = "mixed"  # each event in either layout


@dataclass(frozen=True, slots=True)
class Generated:
    """One generated event: its layout and the JSON object (`line()` gives the log line)."""

    layout: Layout
    event: dict[str, Any]

    def line(self) -> bytes:
        body = orjson.dumps(self.event)
        if self.layout is not Layout.TRACKING_LOG:
            return body
        stamp = datetime.fromisoformat(self.event["time"])
        user = self.event.get("context", {}).get("user_id")
        prefix = (
            f"{stamp:%Y-%m-%d %H:%M:%S},{stamp.microsecond // 1000:03d} INFO {_PROCESS} "
            f"[tracking] [user {user}] [ip {self.event.get('ip') or None}] logger.py:41 - "
        )
        return prefix.encode() + body


class EventStream:
    """`count` events of `world`, from `start`, one every `mean_gap` seconds on average."""

    def __init__(
        self,
        world: World,
        count: int,
        *,
        seed: int = 0,
        layout: Layout = Layout.TRACKING_LOG,
        start: datetime = DEFAULT_START,
        lms_url: str = "http://localhost:18000",
        mean_gap: float = 0.1,
        concurrency: int = 50,
        unsupported: float = 0.0,
    ) -> None:
        self.world = world
        self.count = count
        self.layout = Layout(layout)
        self.lms_url = lms_url.rstrip("/")
        self.host = urlsplit(self.lms_url).netloc
        self.start = start
        self.mean_gap = mean_gap
        self.concurrency = max(1, min(concurrency, len(world.learners)))
        self.unsupported = unsupported
        self._rng = random.Random(f"stream:{seed}")
        self._seed = seed
        self._progress: dict[tuple[int, str], Progress] = {}
        self._visits = 0

    def __iter__(self) -> Iterator[Generated]:
        rng = self._rng
        now = self.start
        active: list[tuple[Visit, Iterator[Step], str]] = []
        busy: set[int] = set()
        produced = 0
        while produced < self.count:
            gap = rng.expovariate(1 / self.mean_gap) if self.mean_gap > 0 else 0
            now += timedelta(microseconds=max(1, round(gap * 1_000_000)))
            while len(active) < self.concurrency:
                active.append(self._new_visit(busy, now))
            index = rng.randrange(len(active))
            visit, steps, session = active[index]
            if self.unsupported and rng.random() < self.unsupported:
                yield self._render(_unsupported(rng), visit, session, now)
                produced += 1
                continue
            visit.now = now
            step = next(steps, None)
            if step is None:
                busy.discard(visit.learner.user_id)
                active[index] = self._new_visit(busy, now)
                now -= timedelta(microseconds=1)  # the clock moves on with the next event only
                continue
            yield self._render(step, visit, session, now)
            produced += 1

    def _new_visit(self, busy: set[int], now: datetime) -> tuple[Visit, Iterator[Step], str]:
        rng = self._rng
        learners = self.world.learners
        learner = rng.choice(learners)
        while learner.user_id in busy:  # one visit per learner at a time
            learner = rng.choice(learners)
        busy.add(learner.user_id)
        courses = self.world.courses
        # Each learner keeps to three courses of theirs, so progress builds up visit after visit.
        course = courses[(learner.user_id * 7 + rng.randrange(3)) % len(courses)]
        progress = self._progress.setdefault((learner.user_id, course.course_id), Progress())
        self._visits += 1
        session = hex_id(self._seed, learner.user_id, self._visits)
        visit = Visit(self.lms_url, learner, course, progress, random.Random(rng.random()), now)
        return visit, visit_steps(visit), session

    def _render(self, step: Step, visit: Visit, session: str, now: datetime) -> Generated:
        layout = self.layout
        if layout is Layout.MIXED:
            layout = Layout.TRACKING_LOG if self._rng.random() < 0.5 else Layout.EVENT_TRACKING
        learner, course = visit.learner, visit.course
        stamp = now.isoformat()
        context: dict[str, Any] = {
            "course_id": course.course_id,
            "org_id": course.org,
            "user_id": learner.user_id,
            "path": step.path,
            "enterprise_uuid": "",
        }
        if step.module is not None:
            context["module"] = step.module
            context["course_user_tags"] = {}
            context["asides"] = {}
        request = {
            "username": learner.username,
            "session": session,
            "ip": learner.ip,
            "agent": learner.agent,
            "host": self.host,
            "referer": step.referer,
            "accept_language": learner.language,
        }
        if layout is Layout.EVENT_TRACKING:
            context.update(request)
            context["event_source"] = step.source
            if step.page is not None:
                context["page"] = step.page
            event = {"name": step.name, "timestamp": stamp, "data": step.data, "context": context}
            return Generated(layout, event)
        payload = step.data
        if step.source == "browser" and not isinstance(payload, str):
            payload = orjson.dumps(payload).decode()  # the browser posts its payload as JSON text
        event = {
            "name": step.name,
            "context": context,
            **request,
            "event": payload,
            "time": stamp,
            "event_type": step.name,
            "event_source": step.source,
            "page": step.page,
        }
        return Generated(layout, event)


def _unsupported(rng: random.Random) -> Step:
    name, source, data = rng.choice(UNSUPPORTED)
    return Step(name, data, source, "/event")
