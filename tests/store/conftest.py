from __future__ import annotations

from collections.abc import Iterator

import pytest

from event_router.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store.open(database_url, secret_key="store tests") as opened:
        yield opened
