"""Enrollment and course outcomes (ERB's): the learner registered for, left, passed or failed a
course.

Example: "Learner 32e08e30… registered http://lms/course/course-v1:edX+DemoX+Demo_Course (audit)";
in Caliper Event/Activated on the CourseOffering.
The object is the course itself, with its display name and the enrollment mode; ERB gives these
statements no context activities (the course is already the object).
"""

from __future__ import annotations

from event_router.events import TrackingEvent
from event_router.translate.options import Options
from event_router.translate.payload import Json, prune, require_course
from event_router.translate.samples import About, Sample
from event_router.translate.table import (
    Caliper,
    Row,
    Target,
    activity,
    no_context_activities,
    register,
)
from event_router.translate.xapi import vocabulary as v


def course(event: TrackingEvent, options: Options, data: Json) -> Target:
    """The course of the event's context."""
    course_id = require_course(event)
    return Target(options.iri("course", course_id), options.courses.name(course_id))


def _course_activity(event: TrackingEvent, options: Options, data: Json, kind: str) -> Json:
    # ERB tags the name "en" here (elsewhere "en-US") and adds the enrollment mode.
    course_id = require_course(event)
    iri, name = options.iri("course", course_id), options.courses.name(course_id)
    mode = {v.EXT_MODE: data.get("mode")}
    return prune(activity(iri, kind, name=name, language="en", extensions=mode))


def _offering(event: TrackingEvent, options: Options, data: Json, entity: str) -> Json:
    # ERB reads the payload's course first here, the context's in xAPI.
    course_id = data.get("course_id") or require_course(event)
    mode = data.get("mode")
    return {
        "id": options.iri("course", course_id),
        "type": entity,
        "name": options.courses.name(course_id),
        # ERB replaces the usual isPartOf extension with the mode (a course is not part of itself).
        "extensions": {"mode": mode} if mode is not None else None,
    }


def _row(name: str, verb: v.Verb, action: str | None) -> Row:
    """A row about the course itself, with no course parent; Caliper only for `action`."""
    caliper = None if action is None else Caliper("Event", action, "CourseOffering", obj=_offering)
    kind = v.COURSE
    return Row(
        name,
        verb,
        kind,
        course,
        caliper=caliper,
        obj=_course_activity,
        context_activities=no_context_activities,
    )


ROWS = (
    # name, xAPI verb, Caliper action (none: Caliper has no event for it, as in ERB)
    _row("edx.course.enrollment.activated", v.REGISTERED, "Activated"),
    _row("edx.course.enrollment.mode_changed", v.REGISTERED, None),
    _row("edx.course.enrollment.deactivated", v.UNREGISTERED, "Deactivated"),
    _row("edx.course.grade.passed.first_time", v.PASSED, "Completed"),
    _row("edx.course.grade.now_passed", v.PASSED, None),
    _row("edx.course.grade.now_failed", v.FAILED, None),
)


# Each event as the LMS logs it; the load generator (generate/courseware.py, problems.py) writes
# these fields, in this order.
def _enrollment(a: About) -> Json:
    return {"course_id": a.course_id, "user_id": a.user_id, "mode": a.mode}


def _grade(a: About) -> Json:
    return {
        "user_id": a.user_id,
        "course_id": a.course_id,
        "event_transaction_id": "4c3b2a19-8d7e-4f60-a5b4-c3d2e1f00a9b",
        "event_transaction_type": "edx.grades.problem.submitted",
    }


SAMPLES = {
    "edx.course.enrollment.activated": Sample("server", "", _enrollment),
    "edx.course.enrollment.mode_changed": Sample("server", "", _enrollment),
    "edx.course.enrollment.deactivated": Sample("server", "", _enrollment),
    "edx.course.grade.passed.first_time": Sample("server", "", _grade),
    "edx.course.grade.now_passed": Sample("server", "", _grade),
    "edx.course.grade.now_failed": Sample("server", "", _grade),
}

register(ROWS, SAMPLES)
