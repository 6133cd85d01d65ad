"""Completion: the learner's completion of a block (a problem, a video, an HTML page) changed.

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
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import activity, registry, statement


@registry.register("edx.completion.block_completion.changed")
def block_completion(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    block_id = data.get("block_id")
    if not block_id or not isinstance(block_id, str):
        raise TranslationError("event data has no block_id")
    completion = number(data.get("completion"), "completion")
    if completion is None:
        raise TranslationError("event data has no completion")
    result = {
        "completion": completion == 1.0,
        "extensions": {v.EXT_PROGRESS: completion * 100},
    }
    block = activity(iri_safe(block_iri(options, block_id)), v.RESOURCE)
    return [statement(event, options, v.PROGRESSED, block, result=result)]
