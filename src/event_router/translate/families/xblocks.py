"""XBlocks beyond problems: drag and drop, polls, surveys, peer instruction.

Example: "Learner 32e08e30… answered http://lms/xblock/block-v1:…+type@drag-and-drop-v2+block@…:
item 2 on zone 'Cell' (correct)". The object is the block that emitted the event
(`context.module.usage_key`).
"""

from __future__ import annotations

import json

from event_router.translate.table import (
    Caliper,
    Row,
    combine,
    extensions,
    register,
    response,
    result_extensions,
    xblock,
)
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import Json

BLOCK = xblock()


def _dropped(data: Json) -> Json | None:
    out: Json = {
        "extensions": {
            v.EXT_ITEM: data.get("item"),
            v.EXT_ITEM_ID: data.get("item_id"),
            v.EXT_LOCATION: data.get("location"),
        }
    }
    if isinstance(data.get("is_correct"), bool):
        out["success"] = data["is_correct"]
    location = data.get("location")
    if isinstance(location, str):
        out["response"] = location
    return out


def _choices(data: Json) -> Json | None:
    """A survey's answers (question → choice) as the JSON text of the object."""
    choices = data.get("choices")
    if not isinstance(choices, dict) or not choices:
        return None
    return {"response": json.dumps(choices, sort_keys=True, ensure_ascii=False)}


_ITEM_STARTED = Caliper("AssessmentItemEvent", "Started", "AssessmentItem")
_ITEM_DONE = Caliper("AssessmentItemEvent", "Completed", "AssessmentItem")
_RESULTS_VIEWED = Caliper("ViewEvent", "Viewed", "DigitalResource")
_PEER = combine(response("answer"), result_extensions(rationale=v.EXT_RATIONALE))

ROWS = (
    # Drag and drop (v2)
    Row("edx.drag_and_drop_v2.loaded", v.INITIALIZED, v.INTERACTION, BLOCK, caliper=_ITEM_STARTED),
    Row(
        "edx.drag_and_drop_v2.item.picked_up",
        v.SELECTED,
        v.INTERACTION,
        BLOCK,
        result=result_extensions(item_id=v.EXT_ITEM_ID),
        caliper=_ITEM_STARTED,
    ),
    Row(
        "edx.drag_and_drop_v2.item.dropped",
        v.ANSWERED,
        v.INTERACTION,
        BLOCK,
        result=_dropped,
        caliper=_ITEM_DONE,
    ),
    Row(
        "edx.drag_and_drop_v2.feedback.opened",
        v.OPENED,
        v.SUPPLEMENTAL_INFO,
        BLOCK,
        result=result_extensions(content=v.EXT_FEEDBACK),
        caliper=_RESULTS_VIEWED,
    ),
    Row(
        "edx.drag_and_drop_v2.feedback.closed",
        v.CLOSED,
        v.SUPPLEMENTAL_INFO,
        BLOCK,
        result=result_extensions(content=v.EXT_FEEDBACK),
    ),
    # Polls and surveys
    Row(
        "xblock.poll.submitted",
        v.ANSWERED,
        v.INTERACTION,
        BLOCK,
        result=response("choice"),
        caliper=_ITEM_DONE,
    ),
    Row("xblock.poll.view_results", v.VIEWED, v.INTERACTION, BLOCK, caliper=_RESULTS_VIEWED),
    Row(
        "xblock.survey.submitted",
        v.ANSWERED,
        v.SURVEY,
        BLOCK,
        result=_choices,
        caliper=Caliper("AssessmentEvent", "Submitted", "Assessment"),
    ),
    Row("xblock.survey.view_results", v.VIEWED, v.SURVEY, BLOCK, caliper=_RESULTS_VIEWED),
    # Peer instruction (ubc)
    Row(
        "ubc.peer_instruction.accessed",
        v.ACCESSED,
        v.QUESTION,
        BLOCK,
        caliper=_ITEM_STARTED,
    ),
    Row(
        "ubc.peer_instruction.original_submitted",
        v.ANSWERED,
        v.QUESTION,
        BLOCK,
        result=_PEER,
        caliper=_ITEM_DONE,
    ),
    Row(
        "ubc.peer_instruction.revised_submitted",
        v.ANSWERED,
        v.QUESTION,
        BLOCK,
        result=_PEER,
        extensions=extensions(truncated=f"{v.EXT_RATIONALE}-truncated"),
        caliper=_ITEM_DONE,
    ),
)

register(ROWS)
