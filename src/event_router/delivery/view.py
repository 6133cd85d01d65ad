"""What the web server reads from a running delivery engine, whichever journal it reads.

Per-consumer figures for status and metrics, and the translation options the playground must
share with delivery so it shows exactly the bytes a consumer gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from event_router.delivery.stats import Stats
from event_router.privacy.screen import Privacy
from event_router.routing.identity import Policy
from event_router.translate import Options

if TYPE_CHECKING:
    from event_router.stream.hub import Hub


class DeliveryView(Protocol):
    @property
    def stats(self) -> dict[str, Stats]:
        """Live figures per consumer this process delivers to."""
        ...

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per consumer: the figures as status shows them, with `lag` (events not yet acked)."""
        ...

    def options(self, policy: Policy) -> Options: ...

    def retry_now(self, consumer: str) -> bool | None:
        """Have a paused or backing-off delivery try at once: whether it was waiting (None: it
        does not run in this process)."""
        ...

    def stream(self, consumer: str) -> Hub | None:
        """The hub of a stream consumer running in this process (None: not running here)."""
        ...

    @property
    def privacy(self) -> Privacy:
        """The privacy screen sources apply, and what it dropped."""
        ...

    async def reload_tables(self) -> None:
        """Read the identity tables and the retired list now (a learner was just forgotten)."""
        ...
