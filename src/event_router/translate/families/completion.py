"""Completion (ERB's): the learner's completion of a block (a problem, a video, an HTML page)
changed. xAPI only: Caliper 1.2 has no event ERB gives it.

Example: "Learner 32e08e30… progressed on
http://lms/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@7c54b1…: 100 % (completed)."
The result says "completed" only at a completion of exactly 1.0; the cmi5 progress extension
carries the completion as a percentage (ERB's plain `completion * 100`, so 0.57 gives
56.99999999999999).
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate.errors import TranslationError
from event_router.translate.iri import block_iri, iri_safe
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of, number
from event_router.translate.samples import About, Sample
from event_router.translate.table import Row, Target, register
from event_router.translate.xapi import vocabulary as v


def block(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The block whose completion changed (`block_id`, a usage key)."""
    block_id = data.get("block_id")
    if not block_id or not isinstance(block_id, str):
        raise TranslationError("event data has no block_id")
    return Target(iri_safe(block_iri(options, block_id)))


def _progress(data: Json) -> Json | None:
    completion = number(data.get("completion"), "completion")
    if completion is None:
        raise TranslationError("event data has no completion")
    return {"completion": completion == 1.0, "extensions": {v.EXT_PROGRESS: completion * 100}}


ROWS = (
    Row(
        "edx.completion.block_completion.changed",
        v.PROGRESSED,
        v.RESOURCE,
        block,
        result=_progress,
        check=data_of,
    ),
)


# The event as the LMS logs it; the load generator (generate/visit.py) writes these fields, in
# this order.
def _changed(a: About) -> Json:
    return {
        "user_id": a.user_id,
        "course_id": a.course_id,
        "context_key": a.course_id,
        "block_id": a.block,
        "block_type": a.block.split("type@", 1)[-1].split("+", 1)[0],
        "completion": 1.0,
        "is_new": False,
    }


SAMPLES = {"edx.completion.block_completion.changed": Sample("server", "problem", _changed)}

register(ROWS, SAMPLES)
