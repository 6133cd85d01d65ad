"""A small client of the Confluent schema registry REST API: the three calls the router needs.

- `schema(id)`: the writer schema of a record, by the id in its 5-byte header (cached forever:
  an id never changes meaning in a registry);
- `register(subject, schema)`: the id of our schema under a subject (registered if new; cached);
- `latest(subject)`: the newest version of a subject.

It uses httpx (already a dependency) rather than confluent-kafka's client so the router needs no
extra packages and controls its time-outs and errors. Credentials are sent as basic auth and never
appear in error messages.
"""

from __future__ import annotations

import threading
from typing import Any

import fastavro
import httpx
import orjson

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryError(RuntimeError):
    """The registry could not answer (down, refused, or an unexpected reply); the text says why.

    `missing` is true when the registry answered that the schema or subject does not exist."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class Registry:
    """A schema registry at `url`; safe to share between threads."""

    def __init__(
        self, url: str, *, auth: tuple[str, str] | None = None, timeout: float = 10.0
    ) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url,
            auth=auth,
            timeout=timeout,
            headers={"Accept": _CONTENT_TYPE, "Content-Type": _CONTENT_TYPE},
        )
        self._lock = threading.Lock()
        self._by_id: dict[int, Any] = {}
        self._ids: dict[tuple[str, str], int] = {}

    def schema(self, schema_id: int) -> Any:
        """The parsed Avro schema registered under `schema_id` (RegistryError if unknown)."""
        with self._lock:
            found = self._by_id.get(schema_id)
        if found is not None:
            return found
        reply = self._call("GET", f"/schemas/ids/{schema_id}")
        parsed = _parse(reply, f"schema {schema_id}")
        with self._lock:
            self._by_id[schema_id] = parsed
        return parsed

    def register(self, subject: str, schema: str) -> int:
        """The id of `schema` (Avro JSON text) under `subject`, registering it if new."""
        key = (subject, schema)
        with self._lock:
            found = self._ids.get(key)
        if found is not None:
            return found
        reply = self._call("POST", f"/subjects/{subject}/versions", {"schema": schema})
        schema_id = reply.get("id")
        if not isinstance(schema_id, int):
            raise RegistryError(f"registry answered no id for subject {subject!r}")
        with self._lock:
            self._ids[key] = schema_id
        return schema_id

    def latest(self, subject: str) -> tuple[int, int, Any]:
        """(version, id, parsed schema) of the newest version of `subject`."""
        reply = self._call("GET", f"/subjects/{subject}/versions/latest")
        version, schema_id = reply.get("version"), reply.get("id")
        if not isinstance(version, int) or not isinstance(schema_id, int):
            raise RegistryError(f"registry answered no version for subject {subject!r}")
        return version, schema_id, _parse(reply, f"subject {subject}")

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            response = self._client.request(
                method, path, content=orjson.dumps(body) if body is not None else None
            )
        except httpx.HTTPError as exc:
            raise RegistryError(f"schema registry {self.url} unreachable ({exc})") from None
        if response.status_code >= 400:
            raise RegistryError(
                f"schema registry {self.url}: {method} {path} answered "
                f"{response.status_code} {response.text[:200]}",
                missing=response.status_code == 404,
            )
        try:
            reply = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise RegistryError(f"schema registry {self.url}: {path} is not JSON") from None
        if not isinstance(reply, dict):
            raise RegistryError(f"schema registry {self.url}: {path} is not a JSON object")
        return reply


def _parse(reply: dict[str, Any], what: str) -> Any:
    text = reply.get("schema")
    kind = reply.get("schemaType", "AVRO")
    if not isinstance(text, str) or kind != "AVRO":
        raise RegistryError(f"{what} is not an Avro schema")
    try:
        return fastavro.parse_schema(orjson.loads(text))
    except Exception as exc:  # fastavro raises assorted errors for bad schemas
        raise RegistryError(f"{what} does not parse ({exc})") from None
