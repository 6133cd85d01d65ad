"""Navigation: NavigationEvent/NavigatedTo a web page, an outline entry, or a unit of a sequence.

Example: NavigationEvent/NavigatedTo DigitalResourceCollection http://lms/xblock/block-v1:…+type@sequential+
block@19a3… ("Unit", tab 4 of 10, target "next unit").
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate.caliper.common import Json, caliper_event, registry
from event_router.translate.iri import absolute_url, iri_safe, sequence_iri
from event_router.translate.options import Options
from event_router.translate.payload import absent, data_of, target_url, text

# The Caliper type of what each event navigates to. ERB writes "Webpage" for links, which is no
# Caliper term: the 1.2 context defines `WebPage`.
_TYPES = {
    "edx.ui.lms.link_clicked": "WebPage",
    "edx.ui.lms.outline.selected": "DigitalResource",
    "edx.ui.lms.sequence.outline.selected": "DigitalResource",
    "edx.ui.lms.sequence.next_selected": "DigitalResourceCollection",
    "edx.ui.lms.sequence.previous_selected": "DigitalResourceCollection",
    "edx.ui.lms.sequence.tab_selected": "DigitalResourceCollection",
}
_PAGES = frozenset({"edx.ui.lms.link_clicked", "edx.ui.lms.outline.selected"})
# Where a move inside a sequence ends: a fixed phrase, else the tab the learner picked.
_SEQUENCE_TARGET = {
    "edx.ui.lms.sequence.next_selected": "next unit",
    "edx.ui.lms.sequence.previous_selected": "previous unit",
}


def _names_page(name: str, data: Json) -> bool:
    """Whether the event names the page navigated to (target_url) rather than a sequence (id).

    ERB reads a sequence id for `sequence.outline.selected` and so fails on the outline payload
    it documents as the same event; we read the id when there is one, else the target page.
    """
    if name == "edx.ui.lms.sequence.outline.selected":
        return absent(data.get("id"))
    return name in _PAGES


@registry.register(*_TYPES)
def navigated_to(event: TrackingEvent, options: Options) -> list[Json]:
    data = data_of(event)
    name = event.name
    obj: Json
    extensions: Json
    if _names_page(name, data):
        obj = {
            "id": absolute_url(target_url(data), options),
            "type": _TYPES[name],
            "name": text(data.get("target_name")),
        }
        extensions = {}
    else:
        obj = {"id": sequence_iri(data, options), "type": _TYPES[name], "name": "Unit"}
        extensions = {
            "tab_count": data.get("tab_count"),
            "current_tab": data.get("current_tab"),
            "target": _SEQUENCE_TARGET.get(name, data.get("target_tab")),
        }
    course_id = event.course_id
    if course_id is not None:
        course = iri_safe(options.iri("course", course_id))
        extensions["isPartOf"] = {"id": course, "type": "CourseOffering"}
    obj["extensions"] = extensions  # instead of the default (isPartOf only); dropped when empty
    return [caliper_event(event, options, "NavigationEvent", "NavigatedTo", obj)]
