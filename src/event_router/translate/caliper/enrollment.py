"""Enrollment and first pass: the learner's course offering was activated, deactivated, completed.

Example: Event/Activated on CourseOffering http://lms/course/course-v1:edX+DemoX+Demo_Course.
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate.caliper.common import Json, caliper_event, registry
from event_router.translate.options import Options
from event_router.translate.payload import require_course

_ACTIONS = {
    "edx.course.enrollment.activated": "Activated",
    "edx.course.enrollment.deactivated": "Deactivated",
    "edx.course.grade.passed.first_time": "Completed",
}


@registry.register(*_ACTIONS)
def course_offering(event: TrackingEvent, options: Options) -> list[Json]:
    data = event.data if isinstance(event.data, dict) else {}
    course_id = data.get("course_id") or require_course(event)
    mode = data.get("mode")
    offering = {
        "id": options.iri("course", course_id),
        "type": "CourseOffering",
        "name": options.courses.name(course_id),
        # ERB replaces the usual isPartOf extension with the mode (a course is not part of itself).
        "extensions": {"mode": mode} if mode is not None else None,
    }
    return [caliper_event(event, options, "Event", _ACTIONS[event.name], offering)]
