"""What end-to-end tests feed a router and how they point it at the test receiver."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from tests.peers.receiver import Receiver
from tests.peers.router import Router
from tests.support.wait import wait_until

COURSE = "course-v1:edX+DemoX+Demo_Course"


def play(i: int, user: int = 3) -> dict[str, object]:
    """A distinct play_video event (the timestamp makes its statement id unique)."""
    second, micro = divmod(i, 1_000_000)
    return {
        "name": "play_video",
        "timestamp": f"2024-01-01T00:{second // 60 % 60:02d}:{second % 60:02d}.{micro:06d}+00:00",
        "data": {
            "id": "0b9e39477cf34507a7a48f74be381fdd",
            "currentTime": i % 100,
            "duration": 600,
            "code": "x",
        },
        "context": {"course_id": COURSE, "user_id": user, "session": "s", "org_id": "edX"},
    }


def write_log(path: Path, events: list[dict[str, object]]) -> None:
    """Append `events` to a tracking log, one line each as the LMS writes them."""
    with path.open("ab") as handle:
        for event in events:
            handle.write(b"2024-01-01 00:00:00,000 INFO tracking - " + orjson.dumps(event) + b"\n")


def lrs_consumer(router: Router, receiver: Receiver, name: str = "lrs", **extra: Any) -> None:
    """An xAPI consumer of the router delivering to the receiver's statements endpoint."""
    router.add_consumer(
        name=name,
        protocol="xapi",
        url=receiver.url + "/xapi/statements",
        **{"batch_size": 50, "linger": 0.01, **extra},
    )


EVENT = {
    "name": "play_video",
    "context": {"course_id": "course-v1:edX+DemoX+Demo_Course", "user_id": 7},
    "data": {"id": "v1", "currentTime": 1, "duration": 600},
}


def bodies(count: int) -> list[bytes]:
    """`count` events, one microsecond apart (a form statements keep as it is)."""
    stamps = (f"2024-03-01T00:00:00.{i + 1:06d}+00:00" for i in range(count))
    return [orjson.dumps({**EVENT, "timestamp": stamp}) for stamp in stamps]


def settled(
    router: Router, delivered: Mapping[str, int | None], timeout: float = 60
) -> dict[str, Any]:
    """Wait until each named consumer has delivered `delivered[name]` statements (None: any
    number) and has nothing pending (its cursor at the journal's head): the router's own record
    that every batch is answered. A sink holding more after this got a duplicate: tests assert
    on it at once instead of sleeping "to let anything else arrive". Returns the consumers'
    status."""

    def done() -> dict[str, Any] | None:
        consumers: dict[str, Any] = router.status()["consumers"]
        for name, count in delivered.items():
            state = consumers.get(name, {})
            if count is not None and state.get("delivered") != count:
                return None
            if state.get("pending") != 0:
                return None
        return consumers

    consumers = wait_until(done, timeout, lambda: f"consumers {router.status()['consumers']}")
    assert consumers is not None
    return consumers


def journaled(router: Router, count: int) -> bool:
    """Whether the router's journal holds at least `count` events."""
    return bool(router.status()["journal"]["head"] >= count)
