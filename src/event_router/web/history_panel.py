"""The history panel of the dashboard (the router) and of a consumer's page: range, charts."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from event_router.store.history import ROUTER
from event_router.web.charts import CONSUMER_CHARTS, ROUTER_CHARTS, draw
from event_router.web.context import web

# The ranges offered: (seconds, bucket length). A week is drawn from 15-minute buckets (the
# resolution rows older than a day have anyway); a day and an hour minute by minute.
RANGES = {"1h": (3600, 60), "24h": (86_400, 60), "7d": (7 * 86_400, 900)}
DEFAULT = "24h"


@dataclass(frozen=True)
class Panel:
    range: str
    ranges: tuple[str, ...]
    charts: list[Markup]
    buckets: int  # how many buckets hold figures (0: nothing recorded yet)


def _panel(request: Request, scope: str, chosen: str) -> Panel:
    length, step = RANGES[chosen]
    until = int(time.time()) // 60 * 60 + 60
    since = until - length
    found = web(request).store.history.series([scope], since, until, step)
    points = [point.to_json() for point in found.get(scope, [])]
    charts = ROUTER_CHARTS if scope == ROUTER else CONSUMER_CHARTS
    return Panel(
        chosen, tuple(RANGES), [draw(chart, points, since, until) for chart in charts], len(points)
    )


async def panel(request: Request, consumer: str | None = None) -> Panel:
    """The panel for the consumer (or the router), over the range the page's `history` query
    parameter names (an unknown one is the default)."""
    chosen = request.query_params.get("history", DEFAULT)
    if chosen not in RANGES:
        chosen = DEFAULT
    return await run_in_threadpool(_panel, request, consumer or ROUTER, chosen)
