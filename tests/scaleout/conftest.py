"""The scale-out tests share one control plane between processes: PostgreSQL only."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(control_plane: str) -> str:
    """`store` and the other fixtures on `database_url` get the shared PostgreSQL here."""
    return control_plane
