"""Errors the control-plane store raises, each with a message fit to show an operator as is."""

from __future__ import annotations

from pydantic import ValidationError


class StoreError(Exception):
    """Base: the store cannot do what was asked."""


class StoreUnavailable(StoreError):
    """The database cannot be opened or migrated (unreachable, wrong credentials, newer schema)."""


class UnknownConsumer(StoreError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no consumer named {name!r}")
        self.name = name


class DuplicateConsumer(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a consumer named {name!r} already exists")
        self.name = name


class UnknownDeadLetter(StoreError, LookupError):
    def __init__(self, letter_id: int) -> None:
        super().__init__(f"no dead letter with id {letter_id}")
        self.letter_id = letter_id


class InvalidConfig(StoreError, ValueError):
    """Consumer configuration that does not validate; `errors` holds one line per problem."""

    def __init__(self, errors: list[str], summary: str = "invalid consumer configuration") -> None:
        super().__init__(summary + ":\n" + "\n".join(f"  {line}" for line in errors))
        self.errors = errors


def validation_messages(exc: ValidationError, prefix: str = "") -> list[str]:
    """pydantic's errors as `path: message` lines, never echoing the input (it may be a secret)."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        where = ".".join(part for part in (prefix, path) if part)
        lines.append(f"{where}: {message}" if where else message)
    return lines
