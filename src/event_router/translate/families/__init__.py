"""Event families translated as data tables (see `translate.table`), both protocols at once."""

from event_router.translate.families import (  # (each module registers its rows)
    assessments,
    capa,
    completion,
    courseware,
    enrollment,
    exams,
    forums,
    grading,
    navigation,
    problems,
    social,
    textbook,
    video,
    xblocks,
)

# The families ERB translates (their output matches ERB's): the load generator simulates their
# events in sequences of its own (a problem's attempts and grades, a thread's replies, an exam's
# attempt, a video's plays and seeks, a sequence's tabs), not as the stray samples it draws from
# the other families.
ERB_FAMILIES = (capa, completion, enrollment, exams, forums, grading, navigation, video)

__all__ = [
    "ERB_FAMILIES",
    "assessments",
    "capa",
    "completion",
    "courseware",
    "enrollment",
    "exams",
    "forums",
    "grading",
    "navigation",
    "problems",
    "social",
    "textbook",
    "video",
    "xblocks",
]
