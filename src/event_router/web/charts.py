"""History charts drawn on the server as inline SVG: no charting library, no script, no CDN.

Why SVG from the server: the figures change once a minute, so a page drawn when it is opened is
current enough; the page needs no JavaScript or vendored bundle (and none of its licence or
updates); the charts work under the pages' strict Content-Security-Policy (presentation
attributes and classes, no inline style) and scale to any width through the `viewBox`.

Each series is one `<path>` whose `data-points` says how many buckets it draws; a bucket with no
row (the router was down) breaks the line rather than drawing a slope across it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from markupsafe import Markup

WIDTH, HEIGHT = 600, 160
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 22  # margins for the axis labels


@dataclass(frozen=True)
class Chart:
    """One chart: `series` are (field, label); `rate` divides counts by the bucket's minutes."""

    key: str
    title: str
    unit: str
    series: tuple[tuple[str, str], ...]
    rate: bool = False


CONSUMER_CHARTS = (
    Chart("throughput", "Throughput", "per minute",
          (("events", "events handled"), ("delivered", "items delivered")), rate=True),
    Chart("latency", "Latency", "ms", (("p50_ms", "p50"), ("p99_ms", "p99"))),
    Chart("lag", "Lag", "events", (("lag", "pending events"),)),
    Chart("problems", "Retries, errors, dead letters", "per minute",
          (("retries", "retries"), ("errors", "errors"), ("dead_letters", "dead letters")),
          rate=True),
)  # fmt: skip
ROUTER_CHARTS = (
    Chart("throughput", "Throughput", "per minute",
          (("ingested", "events ingested"), ("events", "events handled"),
           ("delivered", "items delivered")), rate=True),
    *CONSUMER_CHARTS[1:],
)  # fmt: skip


def _nice(top: float) -> float:
    """A round upper bound for the y axis (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    for factor in (1, 2, 5, 10):
        if top <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _label(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _clock(moment: float, long: bool) -> str:
    return time.strftime("%d %b %H:%M" if long else "%H:%M", time.gmtime(moment))


def values(points: Sequence[dict[str, Any]], field: str, rate: bool) -> list[tuple[int, float]]:
    """(bucket start, value) of the buckets that have the field; a rate per minute if asked."""
    out = []
    for point in points:
        value = point.get(field)
        if value is None:
            continue
        minutes = max(1, int(point["step"]) // 60)
        out.append((int(point["ts"]), float(value) / minutes if rate else float(value)))
    return out


def draw(chart: Chart, points: Sequence[dict[str, Any]], since: int, until: int) -> Markup:
    """The chart as an SVG figure with its legend."""
    lines = [(field, label, values(points, field, chart.rate)) for field, label in chart.series]
    top = _nice(max((v for _, _, vs in lines for _, v in vs), default=0.0))
    span = max(1, until - since)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = min((int(p["step"]) for p in points), default=60)

    def x(ts: float) -> float:
        return round(LEFT + (ts - since) / span * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - value / top * plot_h, 1)

    long = span > 86_400
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)} ({escape(chart.unit)})" '
        f'data-chart="{chart.key}">',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{_label(top)}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{_clock(since, long)}</text>',
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{_clock(until, long)} UTC</text>",
    ]
    legend = []
    for index, (field, label, series) in enumerate(lines):
        path: list[str] = []
        dots: list[str] = []  # points with no neighbour: a line cannot show them
        last: int | None = None
        for ts, value in series:
            move = last is None or ts - last > 2 * step
            path.append(f"{'M' if move else 'L'}{x(ts + step / 2)} {y(value)}")
            last = ts
        for i, (ts, value) in enumerate(series):
            before = i > 0 and ts - series[i - 1][0] <= 2 * step
            after = i + 1 < len(series) and series[i + 1][0] - ts <= 2 * step
            if not (before or after):
                dots.append(
                    f'<circle class="dot s{index}" cx="{x(ts + step / 2)}" cy="{y(value)}" r="3"/>'
                )
        parts.append(
            f'<path class="line s{index}" data-series="{field}" data-points="{len(series)}" '
            f'd="{" ".join(path) or "M0 0"}"><title>{escape(label)}</title></path>' + "".join(dots)
        )
        newest = _label(round(series[-1][1], 2)) if series else "\u2013"
        legend.append(
            f'<li><span class="key s{index}"></span>{escape(label)} '
            f'<span class="sub">latest {newest}</span></li>'
        )
    parts.append("</svg>")
    return Markup(
        f'<figure class="history-chart"><figcaption>{escape(chart.title)} '
        f'<span class="sub">{escape(chart.unit)}</span></figcaption>{"".join(parts)}'
        f'<ul class="chart-legend">{"".join(legend)}</ul></figure>'
    )
