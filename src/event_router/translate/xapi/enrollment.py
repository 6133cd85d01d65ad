"""Enrollment and course outcomes: the learner registered for, left, passed or failed a course.

Example: "Learner 32e08e30… registered http://lms/course/course-v1:edX+DemoX+Demo_Course (audit)."
The object is the course itself, with its display name and the enrollment mode; ERB gives these
statements no context activities (the course is already the object).
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate.options import Options
from event_router.translate.payload import Json, require_course
from event_router.translate.xapi import vocabulary as v
from event_router.translate.xapi.common import activity, registry, statement

_VERBS = {
    "edx.course.enrollment.activated": v.REGISTERED,
    "edx.course.enrollment.mode_changed": v.REGISTERED,
    "edx.course.enrollment.deactivated": v.UNREGISTERED,
    "edx.course.grade.passed.first_time": v.PASSED,
    "edx.course.grade.now_passed": v.PASSED,
    "edx.course.grade.now_failed": v.FAILED,
}


@registry.register(*_VERBS)
def course_outcome(event: TrackingEvent, options: Options) -> list[Json]:
    course_id = require_course(event)
    data = event.data if isinstance(event.data, dict) else {}
    course = activity(
        options.iri("course", course_id),
        v.COURSE,
        name=options.courses.name(course_id),
        language="en",
        extensions={v.EXT_MODE: data.get("mode")},
    )
    return [statement(event, options, _VERBS[event.name], course, context_activities=None)]
