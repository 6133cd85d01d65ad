"""Several sites, one router: which LMS an event comes from, for its IRIs and its learner's id.

Without sites every IRI is built from `EVENT_ROUTER_LMS_URL`. With `EVENT_ROUTER_SITES` (a JSON
list), an event whose `context.host` names a listed site — or, when the host names none, whose
organisation a site lists — is translated with that site's LMS URL (actor `homePage`, course,
block, user IRIs), and its learner is looked up among that site's users:

    [{"lms_url": "https://lms.school-a.org", "orgs": ["SchoolA"]},
     {"lms_url": "https://courses.b.edu", "hosts": ["b.edu"], "users": "b"}]

`users` names the user table a site's learners live in. Sites of one Open edX instance (site
configurations) share the instance's users: give them `"users": "default"`, so a learner keeps
one anonymous id across them and the imported identity table applies. Separate LMSs have separate
users — the same user id is a different person — and that is the default for a site whose LMS URL
is not `EVENT_ROUTER_LMS_URL`: its learners get ids derived from the site (never the imported
table, which holds the default LMS's ids).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from event_router.events import TrackingEvent

ENV = "EVENT_ROUTER_SITES"
DEFAULT_USERS = "default"  # the users of EVENT_ROUTER_LMS_URL's instance


class SitesError(ValueError):
    """An `EVENT_ROUTER_SITES` value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Site:
    lms_url: str
    hosts: frozenset[str]
    orgs: frozenset[str]
    users: str | None  # None: the site's own (or the default's, if its URL is the default's)

    def realm(self, default_lms_url: str) -> str:
        """The identity realm: "" for the default LMS's users, else a name of its own."""
        if self.users == DEFAULT_USERS or (self.users is None and self.lms_url == default_lms_url):
            return ""
        return self.users or self.lms_url


@dataclass(frozen=True, slots=True)
class Sites:
    """The configured sites, indexed by host and by organisation."""

    by_host: dict[str, Site]
    by_org: dict[str, Site]

    def __bool__(self) -> bool:
        return bool(self.by_host)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.by_host)))

    def site_of(self, event: TrackingEvent) -> Site | None:
        """The event's site: by `context.host`, then by organisation; None if neither names one."""
        host = event.context.get("host")
        if isinstance(host, str) and host:
            found = self.by_host.get(host.strip().lower())
            if found is not None:
                return found
        org = org_of(event)
        return self.by_org.get(org) if org else None


NO_SITES = Sites({}, {})


def org_of(event: TrackingEvent) -> str | None:
    """The event's organisation: `context.org_id`, else the one in its course id."""
    org = event.org_id
    if not org and event.course_id and ":" in event.course_id:
        org = event.course_id.split(":", 1)[1].split("+", 1)[0]
    return org or None


def parse(text: str | None) -> Sites:
    """Sites from the JSON text of `EVENT_ROUTER_SITES`; SitesError says what is wrong."""
    if text is None or not text.strip():
        return NO_SITES
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise SitesError(f"{ENV} is not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise SitesError(f"{ENV} must be a JSON list of sites")
    by_host: dict[str, Site] = {}
    by_org: dict[str, Site] = {}
    for index, entry in enumerate(entries):
        site = _site(entry, f"{ENV}[{index}]")
        for host in site.hosts:
            if host in by_host:
                raise SitesError(f"{ENV}[{index}]: host {host!r} belongs to two sites")
            by_host[host] = site
        for org in site.orgs:
            if org in by_org:
                raise SitesError(f"{ENV}[{index}]: org {org!r} belongs to two sites")
            by_org[org] = site
    return Sites(by_host, by_org)


def _site(entry: Any, where: str) -> Site:
    if not isinstance(entry, dict):
        raise SitesError(f"{where}: expected an object with lms_url")
    unknown = set(entry) - {"lms_url", "hosts", "orgs", "users"}
    if unknown:
        raise SitesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    url = entry.get("lms_url")
    if not isinstance(url, str) or not url.strip().startswith(("http://", "https://")):
        raise SitesError(f"{where}.lms_url: must be an http(s) URL")
    url = url.strip().rstrip("/")
    lists = {}
    for key in ("hosts", "orgs"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise SitesError(f"{where}.{key}: expected a list of names")
        lists[key] = value
    users = entry.get("users")
    if users is not None and (not isinstance(users, str) or not users.strip()):
        raise SitesError(f"{where}.users: expected a name")
    hosts = {h.strip().lower() for h in lists["hosts"]} | {urlsplit(url).netloc.lower()}
    return Site(url, frozenset(hosts), frozenset(lists["orgs"]), users)


@lru_cache(maxsize=4)
def _parsed(text: str | None) -> Sites:
    return parse(text)


def from_environment() -> Sites:
    """The sites of `EVENT_ROUTER_SITES` in this process's environment (translation workers
    inherit it, so every process translates alike); parsed once per distinct value."""
    return _parsed(os.environ.get(ENV))
