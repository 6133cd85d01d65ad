"""XBlocks beyond problems: drag and drop, polls, surveys, peer instruction.

Example: "Learner 32e08e30… answered http://lms/xblock/block-v1:…+type@drag-and-drop-v2+block@…:
item 2 on zone 'Cell' (correct)". The object is the block that emitted the event
(`context.module.usage_key`).
"""

from __future__ import annotations

import json

from event_router.translate.payload import Json
from event_router.translate.samples import Sample
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


# Each event as the LMS logs it (the load generator emits these, the tests translate them).
SAMPLES = {
    "edx.drag_and_drop_v2.loaded": Sample("server", "drag-and-drop-v2", lambda a: {}),
    "edx.drag_and_drop_v2.item.picked_up": Sample(
        "server", "drag-and-drop-v2", lambda a: {"item_id": 1}
    ),
    "edx.drag_and_drop_v2.item.dropped": Sample(
        "server",
        "drag-and-drop-v2",
        lambda a: {
            "input": 1,
            "item": "Nucleus",
            "item_id": 1,
            "is_correct": a.rng.random() < 0.6,
            "is_correct_location": True,
            "location": "Cell",
            "location_id": 2,
        },
    ),
    "edx.drag_and_drop_v2.feedback.opened": Sample(
        "server",
        "drag-and-drop-v2",
        lambda a: {"content": "Well done", "manually": False, "truncated": False},
    ),
    "edx.drag_and_drop_v2.feedback.closed": Sample(
        "server",
        "drag-and-drop-v2",
        lambda a: {"content": "Well done", "manually": True, "truncated": False},
    ),
    "xblock.poll.submitted": Sample(
        "server",
        "poll",
        lambda a: {"url_name": "poll", "choice": a.rng.choice(("red", "green", "blue"))},
    ),
    "xblock.poll.view_results": Sample("server", "poll", lambda a: {}),
    "xblock.survey.submitted": Sample(
        "server",
        "survey",
        lambda a: {"url_name": "survey", "choices": {"enjoy": "Y", "learn": "M"}},
    ),
    "xblock.survey.view_results": Sample("server", "survey", lambda a: {}),
    "ubc.peer_instruction.accessed": Sample("server", "ubcpi", lambda a: {}),
    "ubc.peer_instruction.original_submitted": Sample(
        "server", "ubcpi", lambda a: {"answer": 1, "rationale": "Because.", "truncated": False}
    ),
    "ubc.peer_instruction.revised_submitted": Sample(
        "server", "ubcpi", lambda a: {"answer": 2, "rationale": "Convinced.", "truncated": False}
    ),
}

register(ROWS, SAMPLES)
