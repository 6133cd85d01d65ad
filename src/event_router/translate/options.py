"""What a translation needs besides the event: the LMS, who the learner is, course names, and
with several sites, which LMS each event comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from event_router import __version__
from event_router.events import TrackingEvent
from event_router.routing.catalogue import CourseCatalogue
from event_router.routing.identity import IdentityPolicy
from event_router.routing.sites import NO_SITES, Sites
from event_router.routing.sites import from_environment as sites_from_environment
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
    # Several sites, one router (routing/sites.py): an event of a listed site is translated
    # with that site's LMS URL and users. From EVENT_ROUTER_SITES unless given.
    sites: Sites = field(default_factory=sites_from_environment)

    def iri(self, kind: str, ident: str) -> str:
        """`<LMS>/<kind>/<ident>`, the IRI shape ERB uses for courses, users, sessions."""
        return iri_safe(f"{self.lms_url}/{kind}/{ident}")

    def for_event(self, event: TrackingEvent) -> Options:
        """The options to translate `event` with: these, or its site's (LMS URL, users)."""
        if not self.sites:
            return self
        site = self.sites.site_of(event)
        if site is None:
            return self
        realm = site.realm(self.lms_url)
        if site.lms_url == self.lms_url and not realm:
            return self
        key = ("site", site.lms_url, realm)
        found = self.cache.get(key)
        if found is None:
            found = Options(
                lms_url=site.lms_url,
                identity=self.identity.for_site(site.lms_url, realm),
                courses=self.courses,
                transformer_version=self.transformer_version,
                sites=NO_SITES,
            )
            self.cache[key] = found
        return found
