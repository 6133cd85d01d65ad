"""Where sinks may send: an optional allow-list of hosts and networks, and the archive root.

`EVENT_ROUTER_ALLOWED_DESTINATIONS` (comma-separated host names, `*.domain` wildcards, IP
addresses and CIDR networks; unset: anywhere) stops a consumer, or the "test connection" button,
from reaching what the router can reach but its operators did not mean to expose: the loopback,
cloud metadata services, the router's own `/metrics`. A destination is allowed when its host
name is listed, or when every address the name resolves to lies in a listed network. Addresses
are judged after normalisation with `ipaddress`, so `0x7f000001`, `2130706433`, `0177.0.0.1`,
`127.1` and `::ffff:127.0.0.1` all count as 127.0.0.1.

Local archives are confined to one directory (`EVENT_ROUTER_ARCHIVE_ROOT`, default the home's
`archives/`), so a consumer cannot write over the router's own files or anywhere else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from event_router.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NUMERIC = re.compile(r"^[0-9][0-9a-fA-FxX.]*$")  # what inet_aton's number forms look like
_NAME = re.compile(
    r"^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$"
)


class DestinationRefused(ValueError):
    """A destination outside EVENT_ROUTER_ALLOWED_DESTINATIONS (the message says which)."""


def literal_address(host: str) -> Address | None:
    """The address an IP literal stands for, in any spelling a resolver accepts; else None."""
    text = host.strip().strip("[]").split("%", 1)[0]
    try:
        address: Address = ipaddress.ip_address(text)
    except ValueError:
        if not _NUMERIC.match(text):
            return None
        try:  # the legacy forms: 0x7f000001, 2130706433, 0177.0.0.1, 127.1
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class Allowlist:
    """The parsed EVENT_ROUTER_ALLOWED_DESTINATIONS."""

    names: frozenset[str]
    suffixes: tuple[str, ...]  # from `*.example.com`: ".example.com"
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, text: str) -> Allowlist:
        """ValueError naming the entry that is neither a host name, an address nor a network."""
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[Network] = []
        for raw in text.split(","):
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ValueError(f"{entry!r} is not a CIDR network") from None
            elif (address := literal_address(entry)) is not None:
                networks.append(ipaddress.ip_network(address))
            elif _NAME.match(entry):
                if entry.startswith("*."):
                    suffixes.append(entry[1:])
                else:
                    names.add(entry)
            else:
                raise ValueError(f"{entry!r} is not a host name, an IP address or a CIDR network")
        if not (names or suffixes or networks):
            raise ValueError("lists no destination")
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def listed(self, host: str) -> bool:
        """Whether the host name itself is listed (no resolution)."""
        name = host.lower().rstrip(".")
        return name in self.names or any(name.endswith(suffix) for suffix in self.suffixes)

    def judge(self, host: str, addresses: Iterable[Address]) -> None:
        """DestinationRefused unless every address lies in a listed network."""
        found = list(addresses)
        if not found:
            raise DestinationRefused(f"{host} resolves to no address")
        for address in found:
            if not any(address in network for network in self.networks):
                shown = host if str(address) == host else f"{host} ({address})"
                raise DestinationRefused(f"{shown} is not in EVENT_ROUTER_ALLOWED_DESTINATIONS")

    def check(self, host: str | None, port: int | None = None) -> None:
        """Resolve (blocking) and judge; DestinationRefused if the host may not be reached."""
        host = _host(host)
        if (address := literal_address(host)) is not None:
            return self.judge(host, [address])
        if self.listed(host):
            return None
        try:
            infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise DestinationRefused(f"{host} cannot be resolved ({exc})") from None
        return self.judge(host, _addresses(str(info[4][0]) for info in infos))

    async def check_async(self, host: str | None, port: int | None = None) -> None:
        """`check` without blocking the event loop."""
        host = _host(host)
        if (address := literal_address(host)) is not None:
            return self.judge(host, [address])
        if self.listed(host):
            return None
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise DestinationRefused(f"{host} cannot be resolved ({exc})") from None
        return self.judge(host, _addresses(str(info[4][0]) for info in infos))

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            raise DestinationRefused(
                "a unix socket is not a network destination: use redis:// with an allowed host "
                "when EVENT_ROUTER_ALLOWED_DESTINATIONS is set"
            )
        self.check(parts.hostname, _port(url))

    async def check_url_async(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            self.check_url(url)  # raises
        await self.check_async(parts.hostname, _port(url))


def _host(host: str | None) -> str:
    if not host:
        raise DestinationRefused("the URL names no host")
    return host


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:
        raise DestinationRefused(f"{url}: invalid port") from None


def _addresses(found: Iterable[str]) -> list[Address]:
    out = []
    for text in found:
        address = literal_address(text)
        if address is not None:
            out.append(address)
    return out


class Guard:
    """One sink's destination, checked against the environment's allow-list before a send, at
    most every `every` seconds once allowed: DNS answers change, but resolving for every batch
    would cost a lookup per batch. A refusal is never remembered (checked again next time)."""

    def __init__(self, url: str | Callable[[], str], every: float = 5.0) -> None:
        self._allowlist = allowlist_from_env()
        self._url = url
        self._every = every
        self._until = 0.0

    async def check(self) -> None:
        """DestinationRefused if the destination is outside the list."""
        if self._allowlist is None or time.monotonic() < self._until:
            return
        url = self._url() if callable(self._url) else self._url
        await self._allowlist.check_url_async(url)
        self._until = time.monotonic() + self._every


def allowlist_from_env() -> Allowlist | None:
    """The allow-list of this process's environment (None: every destination is allowed)."""
    text = os.environ.get("EVENT_ROUTER_ALLOWED_DESTINATIONS", "").strip()
    return Allowlist.parse(text) if text else None


def s3_endpoint() -> str:
    """The S3 endpoint archives write to: the AWS configuration's, else AWS's own."""
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        if value := os.environ.get(name, "").strip():
            return value
    return "https://s3.amazonaws.com"


@dataclass(frozen=True, slots=True)
class Destinations:
    """What a consumer's configuration is checked against when it is written."""

    allowlist: Allowlist | None
    archive_root: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> Destinations:
        text = (settings.allowed_destinations or "").strip()
        root = settings.archive_root or settings.home / "archives"
        return cls(Allowlist.parse(text) if text else None, root.absolute())

    @classmethod
    def from_env(cls) -> Destinations:
        return cls.from_settings(Settings())


def confine_archive(url: str, root: Path) -> str:
    """A local archive's path made absolute under `root`; ValueError if it would leave it.

    A relative path is taken from the root. `~` is refused rather than expanded (whose home?),
    `..` is refused outright, and symbolic links are followed before judging.
    """
    text = url.removeprefix("file://")
    shown = f"give a path inside the archive root {root}"
    if not text.strip():
        raise ValueError(f"names no directory: {shown}")
    if text.startswith("~"):
        raise ValueError(f"'~' is not expanded: {shown}")
    if ".." in PurePosixPath(text).parts:
        raise ValueError(f"'..' is not allowed: {shown}")
    path = Path(text) if text.startswith("/") else root / text
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
        raise ValueError(f"{path} is outside the archive root: {shown}")
    return str(path)
