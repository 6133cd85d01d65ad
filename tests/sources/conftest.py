from __future__ import annotations

from tests.peers.bus import bus_redis

__all__ = ["bus_redis"]
