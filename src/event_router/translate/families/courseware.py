"""Around the courseware: bookmarks, notes, course tools, "done" toggles, library content,
legacy sequence navigation, pages (server page views, a closed page) and the video menus.

Example: "Learner 32e08e30… bookmarked http://lms/xblock/block-v1:…+type@vertical+block@…";
"viewed http://lms/courses/course-v1:…/progress" (a page the LMS served).
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate import samples as s
from event_router.translate.errors import TranslationError
from event_router.translate.iri import video_iri
from event_router.translate.options import Options
from event_router.translate.payload import Json
from event_router.translate.samples import Sample
from event_router.translate.table import (
    Caliper,
    Row,
    Target,
    course,
    extensions,
    identifier,
    kind_in_course,
    register,
    register_prefix,
    request_page,
    response,
    result_extensions,
    xblock,
)
from event_router.translate.xapi import vocabulary as v

COMPONENT = xblock("component_usage_id")
SEQUENCE = xblock("id")


def _note(event: TrackingEvent, options: Options, data: Json) -> Target:
    """A note: `<block IRI>#note-<note id>` (notes have no page of their own)."""
    block = COMPONENT(event, options, data)
    return Target(f"{block.iri}#note-{identifier(data, 'note_id')}")


def _video(event: TrackingEvent, options: Options, data: Json) -> Target:
    return Target(video_iri(event, options, data))


def _done(data: Json) -> v.Verb:
    return v.COMPLETED if data.get("done") is True else v.INTERACTED


_NOTE_EXT = extensions(
    note_text=v.EXT_NOTE_TEXT, highlighted_content=v.EXT_HIGHLIGHTED, tags=v.EXT_TAGS
)
_SEQ = result_extensions(old=v.EXT_POSITION_FROM, new=v.EXT_POSITION_TO)
_NAVIGATED = Caliper("NavigationEvent", "NavigatedTo", "DigitalResourceCollection")

ROWS = (
    # Bookmarks
    Row(
        "edx.bookmark.added",
        v.BOOKMARKED,
        v.RESOURCE,
        COMPONENT,
        caliper=Caliper("AnnotationEvent", "Bookmarked", "DigitalResource"),
    ),
    Row(
        "edx.bookmark.removed",
        v.REMOVED,
        v.RESOURCE,
        COMPONENT,
        caliper=Caliper("ResourceManagementEvent", "Deleted", "DigitalResource"),
    ),
    Row(
        "edx.bookmark.accessed",
        v.ACCESSED,
        v.RESOURCE,
        COMPONENT,
        caliper=Caliper("NavigationEvent", "NavigatedTo", "DigitalResource"),
    ),
    Row(
        "edx.bookmark.listed",
        v.VIEWED,
        v.COURSE,
        course,
        extensions=extensions(bookmarks_count=v.EXT_TOTAL_ITEMS, list_type=v.EXT_VIEW),
        caliper=Caliper("ViewEvent", "Viewed", "CourseOffering"),
    ),
    # Notes
    Row(
        "edx.course.student_notes.added",
        v.CREATED,
        v.NOTE,
        _note,
        extensions=_NOTE_EXT,
        caliper=Caliper("AnnotationEvent", "Highlighted", "DigitalResource"),
    ),
    Row(
        "edx.course.student_notes.edited",
        v.UPDATED,
        v.NOTE,
        _note,
        extensions=extensions(
            note_text=v.EXT_NEW_VALUE, old_note_text=v.EXT_OLD_VALUE, tags=v.EXT_TAGS
        ),
        caliper=Caliper("ResourceManagementEvent", "Modified", "DigitalResource"),
    ),
    Row(
        "edx.course.student_notes.deleted",
        v.DELETED,
        v.NOTE,
        _note,
        extensions=_NOTE_EXT,
        caliper=Caliper("ResourceManagementEvent", "Deleted", "DigitalResource"),
    ),
    Row(
        "edx.course.student_notes.viewed",
        v.VIEWED,
        v.COURSE,
        course,
        caliper=Caliper("ViewEvent", "Viewed", "CourseOffering"),
    ),
    Row(
        "edx.course.student_notes.notes_page_viewed",
        v.VIEWED,
        v.COURSE,
        course,
        extensions=extensions(view=v.EXT_VIEW),
        caliper=Caliper("ViewEvent", "Viewed", "CourseOffering"),
    ),
    Row(
        "edx.course.student_notes.used_unit_link",
        v.NAVIGATED,
        v.RESOURCE,
        COMPONENT,
        extensions=extensions(view=v.EXT_VIEW),
        caliper=Caliper("NavigationEvent", "NavigatedTo", "DigitalResource"),
    ),
    Row(
        "edx.course.student_notes.searched",
        v.SEARCHED,
        v.COURSE,
        course,
        result=response("search_string"),
        extensions=extensions(number_of_results=v.EXT_RESULTS),
        caliper=Caliper("SearchEvent", "Searched", "CourseOffering"),
    ),
    # Course tools, "done" toggles, library content
    Row(
        "edx.course.tool.accessed",
        v.USED,
        v.APPLICATION,
        kind_in_course("tool", "tool_name"),
        caliper=Caliper("ToolUseEvent", "Used", "SoftwareApplication"),
    ),
    Row(
        "edx.done.toggled",
        _done,
        v.RESOURCE,
        xblock(),
        result=lambda d: {"completion": d.get("done") is True},
        caliper=Caliper(
            "Event",
            lambda d: "Completed" if d.get("done") is True else "Reset",
            "DigitalResource",
        ),
    ),
    Row(
        "edx.librarycontentblock.content.assigned",
        v.RECEIVED,
        v.LIBRARY_CONTENT,
        xblock("location"),
        result=result_extensions(added=v.EXT_BLOCKS),
        caliper=Caliper("Event", "Added", "DigitalResourceCollection"),
    ),
    Row(
        "edx.librarycontentblock.content.removed",
        v.REMOVED,
        v.LIBRARY_CONTENT,
        xblock("location"),
        result=result_extensions(removed=v.EXT_BLOCKS, reason=v.EXT_REASON),
        caliper=Caliper("Event", "Removed", "DigitalResourceCollection"),
    ),
    # Legacy sequence navigation (the browser's names before `edx.ui.lms.sequence.*`)
    *(
        Row(name, v.NAVIGATED, v.RESOURCE, SEQUENCE, result=_SEQ, caliper=_NAVIGATED)
        for name in ("seq_goto", "seq_next", "seq_prev")
    ),
    # Pages
    Row(
        "page_close",
        v.EXITED,
        v.PAGE,
        request_page,
    ),
    # Video menus ERB lists but never translated
    Row(
        "edx.video.language_menu.shown",
        v.INTERACTED,
        v.VIDEO,
        _video,
        result=result_extensions(language=v.EXT_VIDEO_CC_LANGUAGE),
        caliper=Caliper("MediaEvent", "EnabledClosedCaptioning", "VideoObject"),
    ),
    Row(
        "edx.video.language_menu.hidden",
        v.INTERACTED,
        v.VIDEO,
        _video,
        result=result_extensions(language=v.EXT_VIDEO_CC_LANGUAGE),
    ),
)

# Requests the LMS logs by path that are no page a learner viewed: AJAX handlers, APIs, assets.
_NOT_PAGES = ("/event", "/api/", "/handler", "/xblock/", "/static/", "/jsi18n/", "/segmentio/")


def _served_page(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The page of a server event named by its request path, unless the request was no page
    view (the LMS logs every request that way, AJAX and API calls too)."""
    if any(part in event.name for part in _NOT_PAGES):
        raise TranslationError("a request the LMS logged by path that is no page view")
    return request_page(event, options, data)


# A server event whose name is the request path (`/courses/…/progress`): a page the LMS served.
# Registered for every name that starts with "/".
PAGE_VIEW = Row(
    "/", v.VIEWED, v.PAGE, _served_page, caliper=Caliper("ViewEvent", "Viewed", "WebPage")
)


# Each event as the LMS logs it (the load generator emits these, the tests translate them).
SAMPLES = {
    "edx.bookmark.added": Sample(
        "server",
        "vertical",
        lambda a: {
            "bookmark_id": f"{a.username},{a.block}",
            "component_type": "vertical",
            "component_usage_id": a.block,
            "course_id": a.course_id,
        },
    ),
    "edx.bookmark.removed": Sample(
        "server",
        "vertical",
        lambda a: {
            "bookmark_id": f"{a.username},{a.block}",
            "component_type": "vertical",
            "component_usage_id": a.block,
            "course_id": a.course_id,
        },
    ),
    "edx.bookmark.accessed": Sample(
        "browser",
        "vertical",
        lambda a: {
            "bookmark_id": f"{a.username},{a.block}",
            "component_type": "vertical",
            "component_usage_id": a.block,
        },
    ),
    "edx.bookmark.listed": Sample(
        "server",
        "",
        lambda a: {
            "bookmarks_count": 2,
            "course_id": a.course_id,
            "list_type": "per_course",
            "page_number": 1,
            "page_size": 10,
        },
    ),
    "edx.course.student_notes.added": Sample("browser", "vertical", lambda a: s.note(a)),
    "edx.course.student_notes.edited": Sample(
        "browser", "vertical", lambda a: s.note(a, old_note_text="Remember", old_tags=[])
    ),
    "edx.course.student_notes.deleted": Sample("browser", "vertical", lambda a: s.note(a)),
    "edx.course.student_notes.viewed": Sample(
        "browser", "", lambda a: {"notes": [{"note_id": "5f2a1b"}]}
    ),
    "edx.course.student_notes.notes_page_viewed": Sample(
        "browser", "", lambda a: {"view": "Recent Activity"}
    ),
    "edx.course.student_notes.used_unit_link": Sample(
        "browser",
        "vertical",
        lambda a: {"component_usage_id": a.block, "note_id": "5f2a1b", "view": "Search Results"},
    ),
    "edx.course.student_notes.searched": Sample(
        "browser", "", lambda a: {"number_of_results": 1, "search_string": "idea"}
    ),
    "edx.course.tool.accessed": Sample(
        "browser",
        "",
        lambda a: {"tool_name": a.rng.choice(("edx.bookmarks", "edx.updates", "edx.reviews"))},
    ),
    "edx.done.toggled": Sample("server", "done", lambda a: {"done": a.rng.random() < 0.8}),
    "edx.librarycontentblock.content.assigned": Sample(
        "server",
        "library_content",
        lambda a: {
            "location": a.block,
            "max_count": 1,
            "previous_count": 1,
            "result": [],
            "added": [],
        },
    ),
    "edx.librarycontentblock.content.removed": Sample(
        "server",
        "library_content",
        lambda a: {
            "location": a.block,
            "max_count": 1,
            "previous_count": 1,
            "result": [],
            "reason": "invalid",
            "removed": [],
        },
    ),
    "seq_goto": Sample("browser", "sequential", lambda a: {"id": a.block, "new": 2, "old": 1}),
    "seq_next": Sample("browser", "sequential", lambda a: {"id": a.block, "new": 2, "old": 1}),
    "seq_prev": Sample("browser", "sequential", lambda a: {"id": a.block, "new": 1, "old": 2}),
    "page_close": Sample("browser", "", lambda a: "{}"),
    "edx.video.language_menu.shown": Sample(
        "browser",
        "video",
        lambda a: {"id": a.block.rsplit("@", 1)[-1], "code": "html5", "duration": 195.0},
    ),
    "edx.video.language_menu.hidden": Sample(
        "browser",
        "video",
        lambda a: {"id": a.block.rsplit("@", 1)[-1], "code": "html5", "language": "fr"},
    ),
}

register(ROWS, SAMPLES)
register_prefix(PAGE_VIEW)
