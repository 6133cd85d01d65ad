"""Navigation (ERB's): the learner followed a link, picked a section in the outline, or moved in
a sequence.

Example: "Learner 32e08e30… navigated http://lms/xblock/block-v1:…+type@sequential+block@19a3… from
unit 4 to the next unit (10 units)"; in Caliper NavigationEvent/NavigatedTo the
DigitalResourceCollection ("Unit", tab 4 of 10, target "next unit").
Links and outline entries are identified by the URL the learner went to; sequence moves by the
sequence block, with the unit positions as context extensions.
"""

from __future__ import annotations

from urllib.parse import quote

from event_router.events import TrackingEvent
from event_router.translate.iri import absolute_url, iri_safe, sequence_iri
from event_router.translate.options import Options
from event_router.translate.payload import Json, absent, data_of, prune, target_url, text
from event_router.translate.samples import About, Sample
from event_router.translate.table import Caliper, PartFn, Row, Target, activity, register
from event_router.translate.xapi import vocabulary as v


def page(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The page the learner went to (`target_url`, resolved against the LMS)."""
    return Target(absolute_url(target_url(data), options))


def sequence(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The sequence the learner moved in (`id`)."""
    return Target(sequence_iri(data, options))


def _outline_entry(event: TrackingEvent, options: Options, data: Json, kind: str) -> Json:
    # ERB tags this one name "en" where its other names are "en-US".
    url = absolute_url(target_url(data), options)
    return prune(activity(url, kind, name=text(data.get("target_name")), language="en"))


def _sequence(event: TrackingEvent, options: Options, data: Json, kind: str) -> Json:
    tabs = {v.EXT_TOTAL_ITEMS: data.get("tab_count")}
    return prune(activity(sequence_iri(data, options), kind, extensions=tabs))


def _positions(ending: str | None) -> PartFn:
    """Where a sequence move starts and ends: a fixed phrase, or (None) the tab picked."""

    def part(data: Json) -> Json | None:
        end = ending or data.get("target_tab")
        return {v.EXT_STARTING_POSITION: data.get("current_tab"), v.EXT_ENDING_POSITION: end}

    return part


# Caliper: where each move ends inside a sequence (a fixed phrase, else the tab picked).
_CALIPER_ENDING = {
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
    return name in ("edx.ui.lms.link_clicked", "edx.ui.lms.outline.selected")


def _navigated_to(event: TrackingEvent, options: Options, data: Json, entity: str) -> Json:
    obj: Json
    extensions: Json
    if _names_page(event.name, data):
        url = absolute_url(target_url(data), options)
        obj = {"id": url, "type": entity, "name": text(data.get("target_name"))}
        extensions = {}
    else:
        obj = {"id": sequence_iri(data, options), "type": entity, "name": "Unit"}
        extensions = {
            "tab_count": data.get("tab_count"),
            "current_tab": data.get("current_tab"),
            "target": _CALIPER_ENDING.get(event.name, data.get("target_tab")),
        }
    course_id = event.course_id
    if course_id is not None:
        course = iri_safe(options.iri("course", course_id))
        extensions["isPartOf"] = {"id": course, "type": "CourseOffering"}
    obj["extensions"] = extensions  # instead of the default (isPartOf only); dropped when empty
    return obj


def _to(entity: str) -> Caliper:
    return Caliper("NavigationEvent", "NavigatedTo", entity, obj=_navigated_to)


# ERB writes "Webpage" for links, which is no Caliper term: the 1.2 context defines `WebPage`.
_WEB_PAGE, _RESOURCE = _to("WebPage"), _to("DigitalResource")
_UNITS = _to("DigitalResourceCollection")


def _outline_row(name: str) -> Row:
    """A selection in the course outline (the course's or a sequence's): the entry chosen."""
    return Row(
        name, v.NAVIGATED, v.MODULE, page, check=data_of, obj=_outline_entry, caliper=_RESOURCE
    )


def _move_row(name: str, target: str | None) -> Row:
    """A move between a sequence's units (to `target`, else the tab chosen): from, to."""
    return Row(
        name,
        v.NAVIGATED,
        v.RESOURCE,
        sequence,
        extensions=_positions(target),
        check=data_of,
        obj=_sequence,
        caliper=_UNITS,
    )


ROWS = (
    Row("edx.ui.lms.link_clicked", v.NAVIGATED, v.LINK, page, check=data_of, caliper=_WEB_PAGE),
    _outline_row("edx.ui.lms.outline.selected"),
    _outline_row("edx.ui.lms.sequence.outline.selected"),
    _move_row("edx.ui.lms.sequence.next_selected", "next unit"),
    _move_row("edx.ui.lms.sequence.previous_selected", "previous unit"),
    _move_row("edx.ui.lms.sequence.tab_selected", None),
)


# Each event as the LMS logs it; the load generator (generate/courseware.py) writes these fields,
# in this order.
def _outline(a: About) -> Json:
    course = f"{a.lms_url}/courses/{a.course_id}"
    return {
        "current_url": f"{course}/course/",
        "target_name": "Introduction",
        "target_url": f"{course}/jump_to/{a.block}",
        "widget_placement": "accordion",
    }


def _link(a: About) -> Json:
    current = f"{a.lms_url}/courses/{a.course_id}/courseware/?activate_block_id={quote(a.block)}"
    return {"current_url": current, "target_url": f"{a.lms_url}/courses/{a.course_id}/progress"}


def _move(**more: object) -> Sample:
    return Sample(
        "browser",
        "sequential",
        lambda a: {"current_tab": 2, "id": a.block, "tab_count": 5, **more},
    )


SAMPLES = {
    "edx.ui.lms.link_clicked": Sample("browser", "sequential", _link),
    "edx.ui.lms.outline.selected": Sample("browser", "sequential", _outline),
    "edx.ui.lms.sequence.outline.selected": Sample("browser", "sequential", _outline),
    "edx.ui.lms.sequence.next_selected": _move(widget_placement="top"),
    "edx.ui.lms.sequence.previous_selected": _move(widget_placement="top"),
    "edx.ui.lms.sequence.tab_selected": _move(target_tab=4, widget_placement="top"),
}

register(ROWS, SAMPLES)
