"""Event families translated as data tables (see `translate.table`), both protocols at once."""

from event_router.translate.families import (  # noqa: F401  (each module registers its rows)
    assessments,
    courseware,
    problems,
    social,
    textbook,
    xblocks,
)
