"""What a translation needs besides the event: the LMS, who the learner is, course names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from event_router import __version__
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.identity import IdentityPolicy
from event_router.translate.iri import iri_safe

TRANSFORMER_VERSION = f"event-router@{__version__}"


@dataclass(frozen=True, slots=True)
class Options:
    """Everything outside the event that shapes its translation for one consumer.

    Two consumers with equal options receive byte-identical output for the same event, which is
    what lets a translation be computed once and shared.
    """

    lms_url: str
    identity: IdentityPolicy
    courses: CourseCatalogue = field(default_factory=CourseCatalogue)
    transformer_version: str = TRANSFORMER_VERSION
    # Parts of statements that depend only on the options (a course's activity), built once.
    cache: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)

    def iri(self, kind: str, ident: str) -> str:
        """`<LMS>/<kind>/<ident>`, the IRI shape ERB uses for courses, users, sessions."""
        return iri_safe(f"{self.lms_url}/{kind}/{ident}")
