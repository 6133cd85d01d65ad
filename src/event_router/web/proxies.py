"""Which proxies' forwarded headers to believe (EVENT_ROUTER_TRUSTED_PROXIES).

Behind a TLS proxy the router sees plain HTTP from the proxy's address; the proxy says what the
client used in `X-Forwarded-Proto` and who it was in `X-Forwarded-For`. Those headers are
believed only from the listed addresses and networks (anyone can send them): then the request's
scheme (so cookies get `Secure`) and client address (sessions, the sign-in lock) are the
client's. uvicorn's own handling matches single addresses only; this one takes CIDRs too.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(value: str) -> tuple[bool, list[Network]]:
    """(trust everyone, networks) from `10.0.0.5, 10.1.0.0/16` or `*`."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    return "*" in parts, [ipaddress.ip_network(p, strict=False) for p in parts if p != "*"]


class TrustedProxies:
    """ASGI middleware: a trusted peer's forwarded scheme and client replace its own."""

    def __init__(self, app: ASGIApp, proxies: str) -> None:
        self.app = app
        self.everyone, self.networks = parse_proxies(proxies)

    def trusted(self, host: str | None) -> bool:
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if self.trusted(client[0] if client else None):
                scope = self._forwarded(scope)
        await self.app(scope, receive, send)

    def _forwarded(self, scope: Scope) -> Scope:
        headers = {name: value.decode("latin-1") for name, value in scope.get("headers", [])}
        changed: dict[str, Any] = {}
        proto = headers.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            changed["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        hops = [h.strip() for h in headers.get(b"x-forwarded-for", "").split(",") if h.strip()]
        if hops:
            # The client is the nearest address that is not a trusted proxy: those further left
            # are claims the client itself could have written.
            untrusted = [hop for hop in hops if not self.trusted(hop)]
            changed["client"] = (untrusted[-1] if untrusted else hops[0], 0)
        return {**scope, **changed} if changed else scope
