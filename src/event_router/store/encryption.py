"""Consumers' secrets encrypted at rest: passwords, tokens, signing secrets, credential headers.

Each secret value in a consumer's `config` column is stored as `enc:v1:<key fingerprint>:<Fernet
token>`, under a key derived from the router's secret key (see `event_router.secret_key`), so
neither the database file, its WAL, a dump nor a backup holds them in clear. The fingerprint
names the key a value was written with: a router with another key says so instead of failing
on an unreadable token, and a rotation can tell rows it already re-encrypted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from event_router.routing.consumer import SECRET_FIELDS
from event_router.secret_key import encryption_key, fingerprint
from event_router.store.config_yaml import secret_header
from event_router.store.errors import StoreError

PREFIX = "enc:v1:"
_UNREADABLE = "\x00unreadable"  # a placeholder no one can type


class SecretsUnreadable(StoreError):
    """A stored secret was written with another secret key (or the store was opened without one)."""


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_of(value: str) -> str:
    """The fingerprint of the key a sealed value was written with."""
    return value[len(PREFIX) :].split(":", 1)[0]


class SecretBox:
    """Seals and opens secret values with one secret key (None: the store cannot touch secrets)."""

    def __init__(self, secret_key: str | None) -> None:
        self._fernet = Fernet(encryption_key(secret_key)) if secret_key else None
        self.key_id = fingerprint(secret_key) if secret_key else None

    def seal(self, value: str) -> str:
        if self._fernet is None:
            raise SecretsUnreadable(
                "this control-plane handle was opened without the secret key: it cannot store "
                "consumer secrets"
            )
        token = self._fernet.encrypt(value.encode()).decode()
        return f"{PREFIX}{self.key_id}:{token}"

    def open(self, value: str, where: str = "a consumer") -> str:
        if not is_sealed(value):
            return value  # written by a version before encryption; sealed on the next start
        written_with = key_of(value)
        if self._fernet is None or written_with != self.key_id:
            raise SecretsUnreadable(
                f"the secrets of {where} were encrypted with the secret key of fingerprint "
                f"{written_with}, not this router's ({self.key_id or 'none given'}): run with "
                "the previous EVENT_ROUTER_SECRET_KEY (or key file), or finish the change with "
                "`event-router secret-key rotate` (docs/configuration.md)"
            )
        try:
            return self._fernet.decrypt(value.rsplit(":", 1)[1].encode()).decode()
        except InvalidToken:
            raise SecretsUnreadable(f"a stored secret of {where} is damaged") from None

    def seal_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config column's value with every secret sealed (already sealed ones kept)."""
        return _each_secret(config, lambda v: v if is_sealed(v) else self.seal(v))

    def open_config(
        self, config: dict[str, Any], where: str, unreadable_as_none: bool = False
    ) -> dict[str, Any]:
        """The config with its secrets in clear. With `unreadable_as_none`, a secret written with
        another key comes back empty instead of failing: an update may then enter it again
        (the way out after a key change accepted without rotating)."""
        if not unreadable_as_none:
            return _each_secret(config, lambda v: self.open(v, where))
        readable = {self.key_id}
        opened = _each_secret(
            config, lambda v: self.open(v, where) if not is_sealed(v) or key_of(v) in readable
            else _UNREADABLE
        )  # fmt: skip
        for name in SECRET_FIELDS:
            if opened.get(name) == _UNREADABLE:
                opened[name] = None
        headers = opened.get("headers")
        if isinstance(headers, dict):
            opened["headers"] = {k: v for k, v in headers.items() if v != _UNREADABLE}
        return opened


def plaintext(config: dict[str, Any]) -> bool:
    """Whether the config holds a secret in clear (a row from before encryption)."""
    found = False

    def check(value: str) -> str:
        nonlocal found
        found = found or not is_sealed(value)
        return value

    _each_secret(config, check)
    return found


def sealed_with(config: dict[str, Any]) -> set[str]:
    """The key fingerprints the config's sealed secrets were written with."""
    keys: set[str] = set()

    def collect(value: str) -> str:
        if is_sealed(value):
            keys.add(key_of(value))
        return value

    _each_secret(config, collect)
    return keys


def _each_secret(config: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    out = dict(config)
    for name in SECRET_FIELDS:
        value = out.get(name)
        if isinstance(value, str) and value:
            out[name] = change(value)
    headers = out.get("headers")
    if isinstance(headers, dict):
        out["headers"] = {
            key: change(value) if secret_header(str(key)) and isinstance(value, str) else value
            for key, value in headers.items()
        }
    return out
