"""`POST /api/v1/events`: the LMS (or anything) hands events to the router over HTTP.

The body is one JSON event, a JSON array of events, or NDJSON (one per line); gzip-encoded bodies
are accepted. Valid events are appended to the journal and the answer is sent only after the
commit: `202` when all were accepted, `400` with per-item errors when some (or all) were not —
the valid ones in the same request are accepted all the same, and the answer says which.
"""

from __future__ import annotations

import hmac
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from event_router.events import NormaliseError, TrackingEvent, normalise
from event_router.journal import Journal, JournalFull
from event_router.sources.intake import Intake

router = APIRouter()


class IngestConfig:
    """What the ingest endpoint needs: the journal, the token, the size limit, counters."""

    def __init__(
        self, journal: Journal, token: str | None, max_bytes: int, intake: Intake | None = None
    ) -> None:
        self.journal = journal
        self.intake = intake or Intake(journal)
        self.token = token
        self.max_bytes = max_bytes
        self.accepted = 0
        self.rejected = 0


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _is_ndjson(body: bytes, content_type: str) -> bool:
    """One JSON object per line (said so, or not a single JSON document)."""
    stripped = body.lstrip()
    if "ndjson" in content_type or stripped[:1] not in (b"[", b"{"):
        return True
    if stripped[:1] == b"{":
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            return True  # several objects: one per line
    return False


def _items(body: bytes) -> list[tuple[Any, bytes | None]]:
    """(value, its JSON bytes if the body is that one object) for the body's one object or
    each item of its array; raises `orjson.JSONDecodeError` for a malformed document."""
    value = orjson.loads(body)
    if isinstance(value, list):
        return [(item, None) for item in value]
    return [(value, body)]


@router.post("/api/v1/events", status_code=202, tags=["ingest"])
async def ingest(request: Request) -> JSONResponse:
    """Accept tracking events (JSON object, array or NDJSON; gzip allowed)."""
    config: IngestConfig = request.app.state.ingest
    if config.token is not None:
        supplied = request.headers.get("authorization", "")
        expected = f"Bearer {config.token}"
        if not hmac.compare_digest(supplied.encode(), expected.encode()):
            return _error(401, "missing or wrong bearer token")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > config.max_bytes:
        return _error(413, f"body larger than {config.max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # joined once: `+=` would copy a large body per chunk
        parts.append(chunk)
        size += len(chunk)
        if size > config.max_bytes:
            return _error(413, f"body larger than {config.max_bytes} bytes")
    body = b"".join(parts)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            body = _gunzip(body, config.max_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            return _error(400, f"body is not valid gzip: {exc}")
        except OverflowError:
            return _error(413, f"decompressed body larger than {config.max_bytes} bytes")
    if not body.strip():
        return _error(400, "empty body")
    content_type = request.headers.get("content-type", "")
    if _is_ndjson(body, content_type):
        # One event per line, the LMS backend's format: normalised (and translated ahead) by
        # the intake, in the translation workers when the body is large.
        prepared = await config.intake.prepare(body, strict=True)
        errors = [{"index": index, "error": reason} for index, reason in prepared.rejects]
        return await _answer(
            config, prepared.items, errors, lambda: config.intake.commit(prepared, None)
        )
    try:
        items = _items(body)
    except orjson.JSONDecodeError as exc:
        return _error(400, f"body is not valid JSON: {exc}")
    bodies: list[bytes] = []
    events: list[TrackingEvent] = []
    errors = []
    for index, (value, raw) in enumerate(items):
        try:
            events.append(normalise(value))
            bodies.append(raw if raw is not None else orjson.dumps(value))
        except NormaliseError as exc:
            errors.append({"index": index, "error": str(exc)})
    events, bodies = config.intake.screen(events, bodies)  # the privacy screen
    return await _answer(
        config, len(items), errors, lambda: config.journal.append(bodies, None, events)
    )


async def _answer(
    config: IngestConfig,
    total: int,
    errors: list[dict[str, Any]],
    commit: Callable[[], Awaitable[object]],
) -> JSONResponse:
    """Commit the valid items (if any), then say what was accepted and what was not."""
    accepted = total - len(errors)
    if accepted:
        try:
            await commit()
        except JournalFull as exc:
            return _error(507, f"journal cannot accept events: {exc}", accepted=0)
        config.accepted += accepted
    config.rejected += len(errors)
    answer: dict[str, Any] = {"accepted": accepted, "rejected": len(errors)}
    if errors:
        answer["errors"] = errors[:1000]
        accepted_indexes = sorted(set(range(total)) - {e["index"] for e in errors})
        answer["accepted_indexes"] = accepted_indexes[:10000]
        return JSONResponse(answer, status_code=400)
    return JSONResponse(answer, status_code=202)


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise OverflowError
    if not inflater.eof:
        raise EOFError("truncated gzip body")
    return out
