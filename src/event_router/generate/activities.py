"""What a learner does in one visit to a course: a mix of activities, after enrolling if needed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from event_router.generate.courseware import enroll, navigate, unenroll
from event_router.generate.exams import sit_exam
from event_router.generate.extras import explore
from event_router.generate.forums import discuss
from event_router.generate.problems import solve
from event_router.generate.video import watch
from event_router.generate.visit import Progress, Step, Visit

__all__ = ["ACTIVITIES", "Progress", "Step", "Visit", "visit_steps"]


# What a visit is made of, with how often each happens.
ACTIVITIES: tuple[tuple[Callable[[Visit], Iterator[Step]], int], ...] = (
    (watch, 40),
    (solve, 25),
    (navigate, 20),
    (discuss, 10),
    (explore, 12),
    (sit_exam, 2),
    (unenroll, 1),
)


def visit_steps(visit: Visit) -> Iterator[Step]:
    """A whole visit: enroll if needed, then one to four activities."""
    if not visit.progress.enrolled:
        yield from enroll(visit)
    functions = [f for f, _ in ACTIVITIES]
    weights = [w for _, w in ACTIVITIES]
    for _ in range(visit.rng.randint(1, 4)):
        activity = visit.rng.choices(functions, weights)[0]
        yield from activity(visit)
        if not visit.progress.enrolled:
            return
