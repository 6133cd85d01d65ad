"""Navigation: the learner followed a link, picked a section in the outline, or moved in a sequence.

Example: "Learner 32e08e30… navigated http://lms/xblock/block-v1:…+type@sequential+block@19a3… from
unit 4 to the next unit (10 units)."
Links and outline entries are identified by the URL the learner went to; sequence moves by the
sequence block, with the unit positions as context extensions.
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate.iri import absolute_url, sequence_iri
from event_router.translate.options import Options
from event_router.translate.payload import Json, data_of, target_url, text
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import activity, registry, statement

_OUTLINE = ("edx.ui.lms.outline.selected", "edx.ui.lms.sequence.outline.selected")
# Where a sequence move ends: a fixed phrase, or (None) the tab the learner picked.
_SEQUENCE_TARGET = {
    "edx.ui.lms.sequence.next_selected": "next unit",
    "edx.ui.lms.sequence.previous_selected": "previous unit",
    "edx.ui.lms.sequence.tab_selected": None,
}


@registry.register("edx.ui.lms.link_clicked")
def link_clicked(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    link = activity(absolute_url(target_url(data), options), v.LINK)
    return [statement(event, options, v.NAVIGATED, link)]


@registry.register(*_OUTLINE)
def outline_selected(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    module = activity(
        absolute_url(target_url(data), options),
        v.MODULE,
        name=text(data.get("target_name")),
        language="en",
    )
    return [statement(event, options, v.NAVIGATED, module)]


@registry.register(*_SEQUENCE_TARGET)
def sequence_selected(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    sequence = activity(
        sequence_iri(data, options),
        v.RESOURCE,
        extensions={v.EXT_TOTAL_ITEMS: data.get("tab_count")},
    )
    ending = _SEQUENCE_TARGET[event.name] or data.get("target_tab")
    positions = {v.EXT_STARTING_POSITION: data.get("current_tab"), v.EXT_ENDING_POSITION: ending}
    return [statement(event, options, v.NAVIGATED, sequence, extensions=positions)]
