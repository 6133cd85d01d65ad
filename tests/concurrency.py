"""Running one call in several threads at once, for tests of concurrent first opens."""

from __future__ import annotations

import threading
from collections.abc import Callable


def failures_together(call: Callable[[], object], threads: int = 4) -> list[BaseException]:
    """Run `call` in `threads` threads started together; what they raised (none: all worked)."""
    errors: list[BaseException] = []

    def once() -> None:
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    started = [threading.Thread(target=once) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return errors
