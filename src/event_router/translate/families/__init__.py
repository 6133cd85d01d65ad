"""Event families translated as data tables (see `translate.table`), both protocols at once."""

from event_router.translate.families import (  # (each module registers its rows)
    assessments,
    capa,
    courseware,
    exams,
    forums,
    grading,
    problems,
    social,
    textbook,
    xblocks,
)

# The families ERB translates (their output matches ERB's): the load generator simulates their
# events in sequences of its own (a problem's attempts and grades, a thread's replies, an exam's
# attempt), not as the stray samples it draws from the other families.
ERB_FAMILIES = (capa, exams, forums, grading)

__all__ = [
    "ERB_FAMILIES",
    "assessments",
    "capa",
    "courseware",
    "exams",
    "forums",
    "grading",
    "problems",
    "social",
    "textbook",
    "xblocks",
]
