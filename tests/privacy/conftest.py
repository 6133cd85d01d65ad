from __future__ import annotations

SECRET = "privacy-tests"
LMS = "http://lms.test"


def log_line(user_id: int | None, username: str | None, **top: object) -> dict[str, object]:
    """A tracking-log layout event (request fields at the top, payload a JSON string)."""
    context: dict[str, object] = {"course_id": "course-v1:edX+D+1", "org_id": "edX", "path": "/x"}
    if user_id is not None:
        context["user_id"] = user_id
    line: dict[str, object] = {
        "event_type": "edx.course.enrollment.activated",
        "time": "2024-03-01T10:00:00.000000+00:00",
        "event": '{"course_id": "course-v1:edX+D+1", "mode": "audit", "answers": {"a": 1}}',
        "context": context,
        "ip": "203.0.113.9",
        "agent": "Mozilla/5.0",
        "session": "s-1",
        "host": "lms.test",
        **top,
    }
    if username is not None:
        line["username"] = username
    return line


def bus_event(user_id: int | None, username: str | None, session: str = "s-1") -> dict[str, object]:
    """An event-tracking / event-bus layout event."""
    context: dict[str, object] = {
        "course_id": "course-v1:edX+D+1",
        "org_id": "edX",
        "ip": "203.0.113.9",
        "agent": "Mozilla/5.0",
        "client_id": "GA1.1.1",
        "session": session,
    }
    if user_id is not None:
        context["user_id"] = user_id
    if username is not None:
        context["username"] = username
    return {
        "name": "edx.course.enrollment.activated",
        "timestamp": "2024-03-01T10:00:00.000000+00:00",
        "data": {"course_id": "course-v1:edX+D+1", "mode": "audit", "answers": {"a": 1}},
        "context": context,
    }
