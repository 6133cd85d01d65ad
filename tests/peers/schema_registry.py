"""A STAND-IN for the Confluent schema registry, for tests: a small real HTTP server on 127.0.0.1.

No registry that speaks the Confluent REST API installs on the test machines (Karapace is not on
PyPI, Confluent's is a Java service), so this serves the part of the API that confluent-kafka's
`SchemaRegistryClient` (used by edx-event-bus-kafka's serializers) and the router call:

    POST /subjects/{subject}/versions      register (same text under a subject: same version;
                                           same text anywhere: same id, as the real registry)
    POST /subjects/{subject}               look a schema up under a subject
    GET  /schemas/ids/{id}                 a schema by id
    GET  /subjects/{subject}/versions[/latest|/{n}]
    GET  /subjects, GET /config

It checks no compatibility and keeps everything in memory. `require_basic` makes it demand basic
auth; `requests` records (method, path, Authorization header) for assertions; `down()`/`up()`
refuse connections and listen again on the same port.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.peers.receiver import free_port

_JSON = "application/vnd.schemaregistry.v1+json"


class SchemaRegistry:
    """The stand-in registry's state and server; all state is guarded by one lock."""

    def __init__(self) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        self.schemas: dict[int, str] = {}  # id -> schema text
        self.subjects: dict[str, list[int]] = {}  # subject -> ids by version (1-based)
        self.requests: list[tuple[str, str, str | None]] = []
        self.credentials: str | None = None  # "user:password" required when set
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def require_basic(self, username: str, password: str) -> None:
        self.credentials = f"{username}:{password}"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.credentials = None

    def register(self, subject: str, schema: str) -> int:
        """Register as a producer would; returns the id."""
        with self._lock:
            return self._register(subject, schema)[0]

    def up(self) -> None:
        if self._server is not None:
            return
        registry = self

        class Handler(_Handler):
            owner = registry

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    # -- the API, under the lock --

    def _register(self, subject: str, schema: str) -> tuple[int, int]:
        canonical = _canonical(schema)
        schema_id = next((i for i, s in self.schemas.items() if _canonical(s) == canonical), None)
        if schema_id is None:
            schema_id = len(self.schemas) + 1
            self.schemas[schema_id] = schema
        versions = self.subjects.setdefault(subject, [])
        if schema_id not in versions:
            versions.append(schema_id)
        return schema_id, versions.index(schema_id) + 1

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        path = path.split("?", 1)[0]
        with self._lock:
            if method == "POST" and (m := re.fullmatch(r"/subjects/([^/]+)/versions", path)):
                schema_id, _ = self._register(m[1], body["schema"])
                return 200, {"id": schema_id}
            if method == "POST" and (m := re.fullmatch(r"/subjects/([^/]+)", path)):
                canonical = _canonical(body["schema"])
                for version, schema_id in enumerate(self.subjects.get(m[1], []), 1):
                    if _canonical(self.schemas[schema_id]) == canonical:
                        return 200, self._version(m[1], version)
                return 404, {"error_code": 40403, "message": "Schema not found"}
            if method == "GET" and (m := re.fullmatch(r"/schemas/ids/(\d+)", path)):
                if int(m[1]) not in self.schemas:
                    return 404, {"error_code": 40403, "message": "Schema not found"}
                return 200, {"schema": self.schemas[int(m[1])]}
            if method == "GET" and (m := re.fullmatch(r"/subjects/([^/]+)/versions", path)):
                if m[1] not in self.subjects:
                    return 404, {"error_code": 40401, "message": "Subject not found"}
                return 200, list(range(1, len(self.subjects[m[1]]) + 1))
            if method == "GET" and (m := re.fullmatch(r"/subjects/([^/]+)/versions/(\w+)", path)):
                versions = self.subjects.get(m[1])
                if not versions:
                    return 404, {"error_code": 40401, "message": "Subject not found"}
                version = len(versions) if m[2] == "latest" else int(m[2])
                if not 1 <= version <= len(versions):
                    return 404, {"error_code": 40402, "message": "Version not found"}
                return 200, self._version(m[1], version)
            if method == "GET" and path == "/subjects":
                return 200, sorted(self.subjects)
            if method == "GET" and path == "/config":
                return 200, {"compatibilityLevel": "NONE"}
        return 404, {"error_code": 404, "message": f"not in the stand-in: {method} {path}"}

    def _version(self, subject: str, version: int) -> dict[str, Any]:
        schema_id = self.subjects[subject][version - 1]
        return {
            "subject": subject,
            "version": version,
            "id": schema_id,
            "schema": self.schemas[schema_id],
        }


def _canonical(schema: str) -> str:
    return json.dumps(json.loads(schema), sort_keys=True, separators=(",", ":"))


class _Handler(BaseHTTPRequestHandler):
    owner: SchemaRegistry

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests`
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        registry = self.owner
        auth = self.headers.get("Authorization")
        with registry._lock:
            registry.requests.append((method, self.path, auth))
            required = registry.credentials
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if required is not None:
            expected = "Basic " + base64.b64encode(required.encode()).decode()
            if auth != expected:
                self._reply(401, {"error_code": 401, "message": "Unauthorized"})
                return
        try:
            body = json.loads(raw) if raw else None
            status, reply = registry.handle(method, self.path, body)
        except (ValueError, KeyError, TypeError) as exc:
            status, reply = 422, {"error_code": 42201, "message": f"invalid request: {exc}"}
        self._reply(status, reply)

    def _reply(self, status: int, reply: Any) -> None:
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
