"""Event families translated as data tables (see `translate.table`), both protocols at once."""

from event_router.translate.families import (  # noqa: F401  (each module registers its rows)
    assessments,
    completion,
    courseware,
    enrollment,
    navigation,
    problems,
    social,
    textbook,
    video,
    xblocks,
)
