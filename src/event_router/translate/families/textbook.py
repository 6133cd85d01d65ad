"""PDF textbooks: pages read, chapters and thumbnails navigated, searches, zoom and display.

Example: "Learner 32e08e30… navigated to http://lms/asset-v1:…+type@asset+block/ch1.pdf#page=7".
The object is the PDF (the payload's `chapter`, an asset path), with `#page=N` for a page.
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate import samples as s
from event_router.translate.options import Options
from event_router.translate.payload import Json
from event_router.translate.samples import Sample
from event_router.translate.table import (
    Caliper,
    Row,
    Target,
    TargetFn,
    lms_path,
    number,
    register,
    response,
    result_extensions,
)
from event_router.translate.xapi import vocabulary as v

_CHAPTER = lms_path("chapter")


def _document(event: TrackingEvent, options: Options, data: Json) -> Target:
    return _CHAPTER(event, options, data)


def _page(key: str) -> TargetFn:
    def target(event: TrackingEvent, options: Options, data: Json) -> Target:
        chapter = _CHAPTER(event, options, data)
        page = number(data, key)
        if page is None or isinstance(page, float):
            return chapter
        return Target(f"{chapter.iri}#page={page}")

    return target


PAGE = _page("page")
_POSITION = result_extensions(page=v.EXT_PAGE)
_VIEWED = Caliper("ViewEvent", "Viewed", "Document")
_NAVIGATED = Caliper("NavigationEvent", "NavigatedTo", "Document")
_SEARCH = Caliper("SearchEvent", "Searched", "Document")
_SEARCH_RESULT = result_extensions(
    page=v.EXT_PAGE, query=v.EXT_QUERY, caseSensitive=f"{v.EXT_QUERY}-case-sensitive"
)

ROWS = (
    Row(
        "book",
        v.VIEWED,
        v.DOCUMENT,
        _page("new"),
        result=result_extensions(
            old=v.EXT_POSITION_FROM, new=v.EXT_POSITION_TO, type=v.EXT_NAVIGATION
        ),
        caliper=_VIEWED,
    ),
    Row(
        "textbook.pdf.page.navigated",
        v.NAVIGATED,
        v.DOCUMENT,
        PAGE,
        result=_POSITION,
        caliper=_NAVIGATED,
    ),
    Row(
        "textbook.pdf.thumbnail.navigated",
        v.NAVIGATED,
        v.DOCUMENT,
        PAGE,
        result=result_extensions(page=v.EXT_PAGE, thumbnail_title=v.EXT_TITLE),
        caliper=_NAVIGATED,
    ),
    Row(
        "textbook.pdf.chapter.navigated",
        v.NAVIGATED,
        v.DOCUMENT,
        _document,
        result=result_extensions(chapter_title=v.EXT_TITLE),
        caliper=_NAVIGATED,
    ),
    Row(
        "textbook.pdf.page.scrolled",
        v.INTERACTED,
        v.DOCUMENT,
        PAGE,
        result=result_extensions(page=v.EXT_PAGE, direction=v.EXT_DIRECTION),
        caliper=_VIEWED,
    ),
    *(
        Row(
            name,
            v.INTERACTED,
            v.DOCUMENT,
            PAGE,
            result=result_extensions(
                page=v.EXT_PAGE, amount=v.EXT_AMOUNT, direction=v.EXT_DIRECTION
            ),
            caliper=_VIEWED,
        )
        for name in (
            "textbook.pdf.display.scaled",
            "textbook.pdf.zoom.buttons.changed",
            "textbook.pdf.zoom.menu.changed",
            "textbook.pdf.outline.toggled",
            "textbook.pdf.thumbnails.toggled",
        )
    ),
    Row(
        "textbook.pdf.search.executed",
        v.SEARCHED,
        v.DOCUMENT,
        _document,
        result=lambda d: {
            **(response("query")(d) or {}),
            **(_SEARCH_RESULT(d) or {}),
        },
        caliper=_SEARCH,
    ),
    *(
        Row(
            name,
            v.INTERACTED,
            v.DOCUMENT,
            _document,
            result=_SEARCH_RESULT,
            caliper=_SEARCH,
        )
        for name in (
            "textbook.pdf.search.navigatednext",
            "textbook.pdf.search.highlight.toggled",
            "textbook.pdf.searchcasesensitivity.toggled",
        )
    ),
)


# Each event as the LMS logs it (the load generator emits these, the tests translate them).
SAMPLES = {
    "book": Sample(
        "browser",
        "",
        lambda a: {
            "chapter": s.pdf(a)["chapter"],  # the page is in `old`/`new`
            "name": "textbook.pdf.page.loaded",
            "new": 4,
            "old": 3,
            "type": "nextpage",
        },
    ),
    "textbook.pdf.page.navigated": Sample(
        "browser", "", lambda a: {**s.pdf(a), "name": "textbook.pdf.page.navigated"}
    ),
    "textbook.pdf.thumbnail.navigated": Sample(
        "browser",
        "",
        lambda a: {
            **s.pdf(a),
            "name": "textbook.pdf.thumbnail.navigated",
            "thumbnail_title": "Page 3",
        },
    ),
    "textbook.pdf.chapter.navigated": Sample(
        "browser",
        "",
        lambda a: {
            "chapter": s.pdf(a)["chapter"],  # no page: the viewer logs none for a chapter
            "name": "textbook.pdf.chapter.navigated",
            "chapter_title": "Chapter 1",
        },
    ),
    "textbook.pdf.page.scrolled": Sample(
        "browser",
        "",
        lambda a: {**s.pdf(a), "name": "textbook.pdf.page.scrolled", "direction": "down"},
    ),
    "textbook.pdf.display.scaled": Sample(
        "browser", "", lambda a: {**s.pdf(a), "name": "textbook.pdf.display.scaled", "amount": 1.5}
    ),
    "textbook.pdf.zoom.buttons.changed": Sample(
        "browser",
        "",
        lambda a: {**s.pdf(a), "name": "textbook.pdf.zoom.buttons.changed", "direction": "in"},
    ),
    "textbook.pdf.zoom.menu.changed": Sample(
        "browser",
        "",
        lambda a: {**s.pdf(a), "name": "textbook.pdf.zoom.menu.changed", "amount": "1.25"},
    ),
    "textbook.pdf.outline.toggled": Sample(
        "browser", "", lambda a: {**s.pdf(a), "name": "textbook.pdf.outline.toggled"}
    ),
    "textbook.pdf.thumbnails.toggled": Sample(
        "browser", "", lambda a: {**s.pdf(a), "name": "textbook.pdf.thumbnails.toggled"}
    ),
    "textbook.pdf.search.executed": Sample(
        "browser", "", s.pdf_search("textbook.pdf.search.executed")
    ),
    "textbook.pdf.search.navigatednext": Sample(
        "browser",
        "",
        lambda a: {**s.pdf_search("textbook.pdf.search.navigatednext")(a), "findPrevious": False},
    ),
    "textbook.pdf.search.highlight.toggled": Sample(
        "browser", "", s.pdf_search("textbook.pdf.search.highlight.toggled")
    ),
    "textbook.pdf.searchcasesensitivity.toggled": Sample(
        "browser", "", s.pdf_search("textbook.pdf.searchcasesensitivity.toggled")
    ),
}

register(ROWS, SAMPLES)
