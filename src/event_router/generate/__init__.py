"""Synthetic Open edX tracking events: realistic, consistent, deterministic for a seed.

Used by the benchmarks, the fault-injection tests and operators who want to load-test an LRS:
`event-router generate --count N`. Every event family the router translates appears, in either
log layout, with learners, courses, blocks, sessions and times that agree with one another.
"""

from event_router.generate.stream import DEFAULT_START, EventStream, Generated, Layout
from event_router.generate.world import World

__all__ = ["DEFAULT_START", "EventStream", "Generated", "Layout", "World", "generate"]


def generate(
    count: int,
    *,
    users: int = 1000,
    courses: int = 20,
    seed: int = 0,
    layout: Layout | str = Layout.TRACKING_LOG,
    lms_url: str = "http://localhost:18000",
    unsupported: float = 0.0,
) -> EventStream:
    """The stream of `count` events (iterate it for `Generated` items)."""
    world = World(users, courses, seed)
    return EventStream(
        world,
        count,
        seed=seed,
        layout=Layout(layout),
        lms_url=lms_url,
        unsupported=unsupported,
    )
