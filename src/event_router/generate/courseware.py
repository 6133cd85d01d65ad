"""Enrollment and navigation: a learner enrolls (or leaves), moves through the outline and units.

Payloads have the fields of the events' samples (translate/families: enrollment, navigation).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from event_router.generate.visit import Step, Visit, ident, sampled


def enroll(visit: Visit) -> Iterator[Step]:
    progress = visit.progress
    about = f"{visit.lms_url}/courses/{visit.course.course_id}/about"
    progress.enrolled = True
    progress.mode = "audit"
    name = "edx.course.enrollment.activated"
    yield Step(
        name,
        sampled(visit, name, **ident(visit), mode="audit"),
        "server",
        "/change_enrollment",
        about,
    )
    if visit.rng.random() < 0.15:
        progress.mode = "verified"
        name = "edx.course.enrollment.mode_changed"
        yield Step(
            name,
            sampled(visit, name, **ident(visit), mode="verified"),
            "server",
            "/api/commerce/v1/baskets/",
            about,
        )


def unenroll(visit: Visit) -> Iterator[Step]:
    visit.progress.enrolled = False
    name = "edx.course.enrollment.deactivated"
    yield Step(
        name,
        sampled(visit, name, **ident(visit), mode=visit.progress.mode),
        "server",
        "/change_enrollment",
        f"{visit.lms_url}/dashboard",
    )


def navigate(visit: Visit) -> Iterator[Step]:
    rng = visit.rng
    sub = rng.choice(visit.course.subsections)
    outline = visit.outline_url()
    name = rng.choice(("edx.ui.lms.outline.selected", "edx.ui.lms.sequence.outline.selected"))
    yield Step(
        name,
        sampled(
            visit,
            name,
            current_url=outline,
            target_name=sub.name,
            target_url=visit.jump_url(sub.usage_key),
            widget_placement="accordion",
        ),
        "browser",
        "/event",
        outline,
        outline,
    )
    page = visit.courseware_url(sub)
    tab, count = 1, len(sub.units)
    for _ in range(rng.randint(1, 5)):
        move = rng.choices(("next", "previous", "tab", "link"), (6, 2, 2, 1))[0]
        data = {"current_tab": tab, "id": sub.usage_key, "tab_count": count}
        if move == "next" and tab < count:
            tab += 1
            name = "edx.ui.lms.sequence.next_selected"
            payload = sampled(visit, name, **data, widget_placement="top")
            yield Step(name, payload, "browser", "/event", page, page)
        elif move == "previous" and tab > 1:
            tab -= 1
            name = "edx.ui.lms.sequence.previous_selected"
            payload = sampled(visit, name, **data, widget_placement="top")
            yield Step(name, payload, "browser", "/event", page, page)
        elif move == "tab":
            tab = rng.randint(1, count)
            name = "edx.ui.lms.sequence.tab_selected"
            payload = sampled(visit, name, **data, target_tab=tab, widget_placement="top")
            yield Step(name, payload, "browser", "/event", page, page)
        else:
            block = rng.choice(sub.units[tab - 1])
            target = (
                visit.jump_url(block.usage_key)
                if rng.random() < 0.7
                else f"https://en.wikipedia.org/wiki/{quote(visit.course.name.replace(' ', '_'))}"
            )
            name = "edx.ui.lms.link_clicked"
            payload = sampled(visit, name, current_url=page, target_url=target)
            yield Step(name, payload, "browser", "/event", page, page)
