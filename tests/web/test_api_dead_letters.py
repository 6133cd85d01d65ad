"""`/api/v1/dead-letters`: list with filters and paging, show in full, replay, discard."""

from __future__ import annotations

import pytest

from event_router.routing.consumer import Consumer
from tests.web.conftest import Web


def seed(web: Web) -> list[int]:
    for name in ("a", "b"):
        web.store.consumers.add(Consumer(name=name, url=f"http://{name}.test/xapi"))
    ids = []
    for i in range(5):
        ids.append(
            web.store.dead_letters.add(
                "a" if i < 3 else "b",
                100 + i,
                "play_video",
                {"name": "play_video", "n": i},
                "rejected",
                item={"id": f"statement-{i}"},
                status=400,
                answer='{"error": "bad statement"}',
            )
        )
    return ids


def test_list_newest_first_without_bodies(web: Web) -> None:
    ids = seed(web)
    answer = web.viewer().get("/api/v1/dead-letters").json()
    assert answer["total"] == 5 and answer["limit"] == 50 and answer["offset"] == 0
    assert [item["id"] for item in answer["items"]] == ids[::-1]
    first = answer["items"][0]
    assert first["consumer"] == "b" and first["status"] == 400 and first["state"] == "dead"
    assert first["answer"] == '{"error": "bad statement"}'
    assert "event" not in first and "item" not in first


def test_filters_and_paging(web: Web) -> None:
    ids = seed(web)
    client = web.viewer()
    of_a = client.get("/api/v1/dead-letters", params={"consumer": "a"}).json()
    assert of_a["total"] == 3 and {i["consumer"] for i in of_a["items"]} == {"a"}
    page = client.get("/api/v1/dead-letters", params={"limit": 2, "offset": 2}).json()
    assert [i["id"] for i in page["items"]] == ids[::-1][2:4] and page["total"] == 5
    web.store.dead_letters.discard([ids[0]])
    discarded = client.get("/api/v1/dead-letters", params={"state": "discarded"}).json()
    assert [i["id"] for i in discarded["items"]] == [ids[0]]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"state": "lost"}, 400),
        ({"limit": 0}, 400),
        ({"limit": 501}, 400),
        ({"offset": -1}, 400),
        ({"consumer": "nobody"}, 404),
    ],
)
def test_bad_filters(web: Web, params: dict[str, str | int], status: int) -> None:
    seed(web)
    response = web.viewer().get("/api/v1/dead-letters", params=params)
    assert response.status_code == status
    assert response.json()["error"]


def test_show_one_in_full(web: Web) -> None:
    ids = seed(web)
    letter = web.viewer().get(f"/api/v1/dead-letters/{ids[1]}").json()
    assert letter["event"] == {"name": "play_video", "n": 1}
    assert letter["item"] == {"id": "statement-1"}
    assert letter["event_seq"] == 101 and letter["reason"] == "rejected"
    assert web.viewer().get("/api/v1/dead-letters/999").status_code == 404
    assert web.viewer().get("/api/v1/dead-letters/abc").status_code == 400


def test_replay_and_discard_by_ids_and_by_consumer(web: Web) -> None:
    ids = seed(web)
    client = web.admin()
    assert client.post("/api/v1/dead-letters/replay", json={"ids": ids[:2]}).json() == {"marked": 2}
    assert [d.id for d in web.store.dead_letters.take_replays("a")] == ids[:2]
    assert client.post("/api/v1/dead-letters/discard", json={"consumer": "b"}).json() == {
        "discarded": 2
    }
    assert web.store.dead_letters.count("b", "discarded") == 2
    assert client.post(f"/api/v1/dead-letters/{ids[2]}/discard").json() == {"discarded": 1}
    assert client.post(f"/api/v1/dead-letters/{ids[2]}/replay").json() == {"marked": 1}
    assert client.post(f"/api/v1/dead-letters/{ids[2]}/replay").json() == {"marked": 0}
    assert web.store.dead_letters.count("a", "replay") == 3


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/dead-letters/replay", {}, 400),
        ("/api/v1/dead-letters/replay", {"ids": []}, 400),
        ("/api/v1/dead-letters/replay", {"ids": ["x"]}, 400),
        ("/api/v1/dead-letters/discard", {"ids": [12345]}, 404),
        ("/api/v1/dead-letters/replay", {"consumer": "nobody"}, 404),
        ("/api/v1/dead-letters/12345/replay", None, 404),
        ("/api/v1/dead-letters/12345/discard", None, 404),
    ],
)
def test_bad_selections_change_nothing(
    web: Web, path: str, body: dict[str, object] | None, status: int
) -> None:
    seed(web)
    response = web.admin().post(path, json=body)
    assert response.status_code == status
    assert response.json()["error"]
    assert web.store.dead_letters.count(state="dead") == 5
