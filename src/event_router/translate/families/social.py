"""Certificates, teams, cohorts and enrollment upgrades: a learner and a course's groups.

Example: "Learner 32e08e30… joined http://lms/course/course-v1:…/team/e1ac…"; "earned
http://lms/certificates/5d6e… (verified)".
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
    course,
    extensions,
    kind_in_course,
    lms_path,
    register,
    response,
    result_extensions,
    text,
)
from event_router.translate.xapi import vocabulary as v


def _certificate(event: TrackingEvent, options: Options, data: Json) -> Target:
    if text(data, "certificate_url") is not None:
        return lms_path("certificate_url")(event, options, data)
    return kind_in_course("certificate", "certificate_id")(event, options, data)


TEAM = kind_in_course("team", "team_id")
COHORT = kind_in_course("cohort", "cohort_id", name_key="name")


def _generation(enabled: bool) -> Row:
    return Row(
        f"edx.certificate.generation.{'enabled' if enabled else 'disabled'}",
        v.UPDATED,
        v.COURSE,
        course,
        result=lambda d: {"extensions": {v.EXT_ENABLED: enabled}},
        caliper=Caliper("Event", "Activated" if enabled else "Deactivated", "CourseOffering"),
    )


ROWS = (
    # Certificates
    Row(
        "edx.certificate.created",
        v.EARNED,
        v.CERTIFICATE,
        _certificate,
        extensions=extensions(enrollment_mode=v.EXT_MODE, generation_mode=v.EXT_MODE_GENERATION),
        caliper=Caliper("Event", "Created", "DigitalResource"),
    ),
    Row(
        "edx.certificate.shared",
        v.SHARED,
        v.CERTIFICATE,
        _certificate,
        extensions=extensions(enrollment_mode=v.EXT_MODE, social_network=v.EXT_SOCIAL_NETWORK),
        caliper=Caliper("Event", "Shared", "DigitalResource"),
    ),
    Row(
        "edx.certificate.evidence_visited",
        v.VIEWED,
        v.CERTIFICATE,
        _certificate,
        extensions=extensions(
            enrollment_mode=v.EXT_MODE, social_network=v.EXT_SOCIAL_NETWORK, source_url=v.EXT_SOURCE
        ),
        caliper=Caliper("ViewEvent", "Viewed", "DigitalResource"),
    ),
    Row(
        "edx.certificate.revoked",
        v.RETRACTED,
        v.CERTIFICATE,
        _certificate,
        extensions=extensions(enrollment_mode=v.EXT_MODE, source=v.EXT_SOURCE),
        caliper=Caliper("Event", "Deleted", "DigitalResource"),
    ),
    _generation(True),
    _generation(False),
    # Teams
    Row(
        "edx.team.created",
        v.CREATED,
        v.GROUP,
        TEAM,
        caliper=Caliper("ResourceManagementEvent", "Created", "DigitalResource"),
    ),
    Row(
        "edx.team.deleted",
        v.DELETED,
        v.GROUP,
        TEAM,
        caliper=Caliper("ResourceManagementEvent", "Deleted", "DigitalResource"),
    ),
    Row(
        "edx.team.changed",
        v.UPDATED,
        v.GROUP,
        TEAM,
        result=result_extensions(field=v.EXT_FIELD, old=v.EXT_OLD_VALUE, new=v.EXT_NEW_VALUE),
        caliper=Caliper("ResourceManagementEvent", "Modified", "DigitalResource"),
    ),
    Row(
        "edx.team.activity_updated",
        v.UPDATED,
        v.GROUP,
        TEAM,
        caliper=Caliper("ResourceManagementEvent", "Modified", "DigitalResource"),
    ),
    Row(
        "edx.team.learner_added",
        v.JOINED,
        v.GROUP,
        TEAM,
        extensions=extensions(add_method=v.EXT_METHOD),
        caliper=Caliper("Event", "Added", "Group"),
    ),
    Row(
        "edx.team.learner_removed",
        v.LEFT,
        v.GROUP,
        TEAM,
        extensions=extensions(remove_method=v.EXT_METHOD),
        caliper=Caliper("Event", "Removed", "Group"),
    ),
    Row(
        "edx.team.page_viewed",
        v.VIEWED,
        v.GROUP,
        TEAM,
        extensions=extensions(page_name=v.EXT_PAGE_NAME, topic_id=v.EXT_TOPIC),
        caliper=Caliper("ViewEvent", "Viewed", "DigitalResource"),
    ),
    Row(
        "edx.team.searched",
        v.SEARCHED,
        v.COURSE,
        course,
        result=response("search_text"),
        extensions=extensions(number_of_results=v.EXT_RESULTS, topic_id=v.EXT_TOPIC),
        caliper=Caliper("SearchEvent", "Searched", "CourseOffering"),
    ),
    # Cohorts
    Row(
        "edx.cohort.created",
        v.CREATED,
        v.GROUP,
        COHORT,
        caliper=Caliper("ResourceManagementEvent", "Created", "DigitalResource"),
    ),
    Row(
        "edx.cohort.user_added",
        v.ADDED,
        v.GROUP,
        COHORT,
        caliper=Caliper("Event", "Added", "Group"),
    ),
    Row(
        "edx.cohort.user_removed",
        v.REMOVED,
        v.GROUP,
        COHORT,
        caliper=Caliper("Event", "Removed", "Group"),
    ),
    # Enrollment upgrades
    Row(
        "edx.course.enrollment.upgrade_clicked",
        v.INTERACTED,
        v.COURSE,
        course,
        result=lambda d: {"extensions": {v.EXT_MODE: "verified"}},
        caliper=Caliper("NavigationEvent", "NavigatedTo", "CourseOffering"),
    ),
    Row(
        "edx.course.enrollment.upgrade.succeeded",
        v.PURCHASED,
        v.COURSE,
        course,
        caliper=Caliper("Event", "Modified", "CourseOffering"),
    ),
)


# Each event as the LMS logs it (the load generator emits these, the tests translate them).
SAMPLES = {
    "edx.certificate.created": Sample(
        "server", "", lambda a: s.certificate(a, generation_mode="self")
    ),
    "edx.certificate.shared": Sample(
        "server", "", lambda a: s.certificate(a, social_network="linkedin")
    ),
    "edx.certificate.evidence_visited": Sample(
        "server",
        "",
        lambda a: s.certificate(
            a, social_network="linkedin", source_url="https://www.linkedin.com/feed"
        ),
    ),
    "edx.certificate.revoked": Sample("server", "", lambda a: s.certificate(a, source="staff")),
    "edx.certificate.generation.enabled": Sample(
        "server", "", lambda a: {"course_id": a.course_id}
    ),
    "edx.certificate.generation.disabled": Sample(
        "server", "", lambda a: {"course_id": a.course_id}
    ),
    "edx.team.created": Sample("server", "", lambda a: s.team(a)),
    "edx.team.deleted": Sample("server", "", lambda a: s.team(a)),
    "edx.team.changed": Sample(
        "server", "", lambda a: s.team(a, field="name", new="Owls", old="Larks", truncated=[])
    ),
    "edx.team.activity_updated": Sample("server", "", lambda a: s.team(a)),
    "edx.team.learner_added": Sample(
        "server",
        "",
        lambda a: s.team(a, add_method="joined_from_team_view", user_id=str(a.user_id)),
    ),
    "edx.team.learner_removed": Sample(
        "server", "", lambda a: s.team(a, remove_method="self_removal", user_id=str(a.user_id))
    ),
    "edx.team.page_viewed": Sample(
        "server", "", lambda a: s.team(a, page_name="single-team", topic_id="general")
    ),
    "edx.team.searched": Sample(
        "server",
        "",
        lambda a: {"number_of_results": 3, "search_text": "owls", "topic_id": "general"},
    ),
    "edx.cohort.created": Sample("server", "", lambda a: {"cohort_id": 3, "name": "Group A"}),
    "edx.cohort.user_added": Sample(
        "server", "", lambda a: {"cohort_id": 3, "name": "Group A", "user_id": a.user_id}
    ),
    "edx.cohort.user_removed": Sample(
        "server", "", lambda a: {"cohort_id": 3, "name": "Group A", "user_id": a.user_id}
    ),
    "edx.course.enrollment.upgrade_clicked": Sample("browser", "", lambda a: {}),
    "edx.course.enrollment.upgrade.succeeded": Sample("server", "", lambda a: {}),
}

register(ROWS, SAMPLES)
