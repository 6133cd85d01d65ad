"""The demo: a sample tracking log and a local consumer, so a newcomer sees the router work.

`tracking.log` holds 48 events of every family the router translates (enrolment, video,
problems, grades, completion, navigation, forums), written by the project's own generator:

    event-router generate -n 48 --users 6 --courses 2 --seed 4 -o src/event_router/demo/tracking.log

`event-router run --demo` registers the `demo` consumer (xAPI statements into a gzip archive
under the home, nothing leaves the machine) and follows the sample log, so its events are
delivered and counted in `event-router status` within a second.
"""

from __future__ import annotations

from pathlib import Path

from event_router.routing.consumer import Consumer, Protocol
from event_router.store import Store

SAMPLE_LOG = Path(__file__).with_name("tracking.log")
SAMPLE_EVENTS = 48
DEMO_CONSUMER = "demo"


def demo_archive(home: Path) -> Path:
    """Where the demo consumer's statements go: `<home>/archives/demo/demo/YYYY/MM/DD/HH…gz`
    (under the default archive root, where archives must be)."""
    return home.resolve() / "archives" / "demo"


def install_demo(store: Store, home: Path) -> bool:
    """Register the demo consumer unless a consumer of that name exists; True if added."""
    if any(c.name == DEMO_CONSUMER for c in store.consumers.list()):
        return False
    consumer = Consumer(
        name=DEMO_CONSUMER,
        protocol=Protocol.XAPI,
        sink="archive",
        url=str(demo_archive(home)),
    )
    store.consumers.add(consumer)
    return True
