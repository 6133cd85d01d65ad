"""What every Caliper event shares: @context, a deterministic id, time, actor, session, course.

ERB mints Caliper ids with uuid4, so a replay sends new events that a Caliper endpoint cannot
recognise as duplicates (Caliper has no de-duplication of its own). Ours are uuid5 of what makes
the event unique, so a replay repeats the same ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from event_router.events import TrackingEvent
from event_router.translate.iri import uuid5_text
from event_router.translate.options import Options
from event_router.translate.payload import prune
from event_router.translate.registry import Registry

registry = Registry("caliper")

Json = dict[str, Any]
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"
_ID_NAMESPACE = uuid.UUID("5b6c2a4e-0f1d-5c8e-9a37-6d2f0c1e8b94")


def caliper_time(moment: datetime, text: str = "") -> str:
    """`YYYY-MM-DDTHH:mm:ss.SSSZ` in UTC, the only form Caliper 1.2 allows.

    `text`, the source's own form of `moment`, is reused when it is already UTC with
    microseconds (the LMS's usual form), which saves the conversion.
    """
    if len(text) == 32 and text[10] == "T" and text[19] == "." and text.endswith("+00:00"):
        return text[:23] + "Z"
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def duration(value: Any) -> str | None:
    """Seconds as an ISO 8601 duration (`PT3M15S`, `PT0.032788S`), the way ERB writes them."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    total = float(value)
    sign = "-" if total < 0 else ""
    total = abs(total)
    whole = int(total)
    micros = round((total - whole) * 1_000_000)
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    if not whole and not micros:
        return "P0D"
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    out = sign + "P"
    if days:
        out += f"{days}D"
    if hours or minutes or secs or micros or not days:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if micros:
            out += f"{secs}.{micros:06d}".rstrip("0") + "S"
        elif secs or not (hours or minutes):
            out += f"{secs}S"
    return out


def caliper_event(
    event: TrackingEvent,
    options: Options,
    event_type: str,
    action: str,
    obj: Json,
    **extra: Any,
) -> Json:
    """Assemble one Caliper event; `extra` adds properties such as `target` or `generated`."""
    actor_id = options.identity.caliper_actor_id(event)
    course_id = event.course_id
    if course_id is not None and "extensions" not in obj:
        obj = {
            **obj,
            "extensions": {
                "isPartOf": {"id": options.iri("course", course_id), "type": "CourseOffering"}
            },
        }
    session = event.session
    seed = f"{actor_id}|{event.timestamp}|{event.name}|{event_type}|{action}|{obj.get('id')}"
    return prune(
        {
            "@context": CONTEXT,
            "id": "urn:uuid:" + uuid5_text(_ID_NAMESPACE, seed),
            "type": event_type,
            "action": action,
            "actor": {"id": actor_id, "type": "Person"},
            "object": obj,
            "eventTime": caliper_time(event.time, event.timestamp),
            "session": (
                {"id": options.iri("sessions", session), "type": "Session"} if session else None
            ),
            "extensions": {"transformerVersion": options.transformer_version},
            **extra,
        }
    )


class Envelope:
    """The Sensor API envelope (Caliper 1.2 §4.1) for one request: `{"sensor", "sendTime",
    "dataVersion", **extra, "data": [events]}`, the one builder of the sink and `transform`.

    It is assembled from bytes: the head is serialised once per request and the already
    serialised events are spliced into `data`, so events are never parsed again. `extra` (a
    consumer's `override_args`) may replace the envelope's own keys, never the events.
    """

    def __init__(
        self,
        sensor: str,
        extra: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._head: Json = {"sensor": sensor, "sendTime": "", "dataVersion": CONTEXT}
        self._head.update({k: v for k, v in (extra or {}).items() if k != "data"})
        self._clock = clock

    def wrap(self, events: Sequence[bytes]) -> bytes:
        head = orjson.dumps({**self._head, "sendTime": caliper_time(self._clock())})
        return head[:-1] + b',"data":[' + b",".join(events) + b"]}"
