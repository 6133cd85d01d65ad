"""`GET /api/v1/history` and the history charts of the dashboard and a consumer's page."""

from __future__ import annotations

import re
import time

from event_router.routing.consumer import Consumer
from event_router.store.history import ROUTER, Point
from tests.web.conftest import Web


def minute(ago: int) -> int:
    return (int(time.time()) // 60 - ago) * 60


def recorded(web: Web) -> None:
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    web.store.consumers.add(Consumer(name="other", url="http://b.test/xapi"))
    for ago in (3, 2, 1):
        web.store.history.record(
            "local",
            {
                "lrs": Point(
                    minute(ago),
                    events=ago,
                    delivered=2 * ago,
                    lag=ago,
                    p50_ms=5.0,
                    p99_ms=50.0,
                    samples=2 * ago,
                ),
                ROUTER: Point(minute(ago), ingested=10 * ago, events=ago, delivered=2 * ago),
            },
        )


def test_viewers_read_the_router_and_every_consumer(web: Web) -> None:
    recorded(web)
    body = web.viewer().get("/api/v1/history").json()
    assert body["step"] == 60 and body["until"] - body["since"] == 86_400
    assert [p["delivered"] for p in body["consumers"]["lrs"]] == [6, 4, 2]
    assert [p["ts"] for p in body["consumers"]["lrs"]] == [minute(3), minute(2), minute(1)]
    assert body["consumers"]["other"] == []
    assert [p["ingested"] for p in body["router"]] == [30, 20, 10]
    assert body["consumers"]["lrs"][0]["p99_ms"] == 50.0


def test_one_consumer_a_range_and_a_longer_step(web: Web) -> None:
    recorded(web)
    query = f"?consumer=lrs&since={minute(60)}&until={minute(0)}&step=3600"
    body = web.admin().get("/api/v1/history" + query).json()
    assert list(body["consumers"]) == ["lrs"]
    assert sum(p["delivered"] for p in body["consumers"]["lrs"]) == 12
    assert all(p["step"] == 3600 for p in body["consumers"]["lrs"])


def test_bad_queries_are_refused_and_strangers_get_401(web: Web) -> None:
    recorded(web)
    client = web.viewer()
    assert client.get("/api/v1/history?consumer=nope").status_code == 404
    assert client.get("/api/v1/history?step=120").status_code == 400
    assert client.get("/api/v1/history?since=100&until=50").status_code == 400
    assert client.get("/api/v1/history?since=0&until=99999999").status_code == 400
    assert client.get("/api/v1/history?step=abc").status_code == 400
    assert web.client().get("/api/v1/history").status_code == 401


def test_the_pages_draw_the_points_as_svg(web: Web) -> None:
    recorded(web)
    session = web.login()
    page = session.client.get("/").text
    assert 'id="history"' in page
    throughput = re.search(r'<svg[^>]*data-chart="throughput".*?</svg>', page, re.S)
    assert throughput is not None
    assert 'data-series="ingested" data-points="3"' in throughput.group(0)
    page = session.client.get("/consumers/lrs/edit?history=1h").text
    assert re.search(r'data-series="lag" data-points="3"', page)
    assert 'href="?history=1h#history" aria-current="true"' in page
    empty = session.client.get("/consumers/other/edit").text
    assert "Nothing recorded in this range yet" in empty
