"""A consumer's filter: which events it wants and may see, and which rule decided.

Names are allowed/denied by exact name or by regular expression (a pattern with any of
`*?[]()|^$+{}\\` is a full-match regex; a plain name such as `edx.video.played` matches itself
only). Restrictions narrow by course, org, site (host) and user. `match_params` is ERB's rule:
dotted path into the event as received → regex (or list of regexes, any may match, searched
anywhere in the value); every key must match. A path the event as received does not have is
looked up in its normalised form (`data`, `context` with the tracking-log fields folded in), so
ERB's `data.*` rules work on tracking-log lines, whose payload arrived as `event`. A path found in
neither (or null) never matches, whatever the regex (ERB's rule: `.*` does not match a missing key).

Activity types are the one rule that looks at the translation rather than the event (which
activity a statement is about is decided by translating it): `keeps` is asked of each item once
translated, so one problem check fanned out into several statements is filtered item by item.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from event_router.events import TrackingEvent

_REGEX_CHARS = set("*?[]()|^$+{}\\")


def is_regex(pattern: str) -> bool:
    return any(char in _REGEX_CHARS for char in pattern)


# The parser re.compile uses: the parse tree `check_regex` walks (typeshed has no stub for it).
_parser: Any = importlib.import_module("re._parser")
MAX_PATTERN = 1000  # characters: a route names events, it is not a program
_REPEATS = (_parser.MAX_REPEAT, _parser.MIN_REPEAT)


def check_regex(pattern: str, stored: bool = False) -> None:
    """re.error unless `pattern` compiles and cannot backtrack for ever: Python's `re` has no
    time limit, and a pattern such as `(.*.*)*z` holds the process (GIL and all) for hours on a
    short name. So an unbounded repeat may not contain another repeat or an alternation. A
    `stored` pattern (saved before this check) need only compile, so an upgrade loads it."""
    if stored:
        re.compile(pattern)
        return
    if len(pattern) > MAX_PATTERN:
        raise re.error(f"longer than {MAX_PATTERN} characters")
    re.compile(pattern)
    _check_nesting(_parser.parse(pattern), inside=False)


def _stored(info: ValidationInfo) -> bool:
    """Whether the store is loading a saved configuration (`context={"stored": True}`)."""
    return isinstance(info.context, dict) and bool(info.context.get("stored"))


def _check_nesting(items: Any, inside: bool) -> None:
    for op, arg in items:
        if op in _REPEATS:
            _, high, body = arg
            unbounded = high is _parser.MAXREPEAT or high > 100
            if inside and (unbounded or any(o in _REPEATS for o, _ in body)):
                raise re.error("a repeat inside a repeat can take for ever: flatten it")
            _check_nesting(body, inside or unbounded)
        elif op is _parser.BRANCH:
            if inside:
                raise re.error("alternatives inside a repeat can take for ever: flatten it")
            for branch in arg[1]:
                _check_nesting(branch, inside)
        elif op is _parser.SUBPATTERN:
            _check_nesting(arg[-1], inside)
        elif op in (_parser.ASSERT, _parser.ASSERT_NOT):
            _check_nesting(arg[1], inside)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a consumer gets an event, and the rule that said so (for the playground and logs)."""

    allowed: bool
    rule: str


class _NameSet:
    """Exact names in a set, patterns compiled into one alternation: O(1) for the common case."""

    def __init__(self, patterns: list[str]) -> None:
        self.exact = {p for p in patterns if not is_regex(p)}
        self.patterns = [(p, re.compile(p)) for p in patterns if is_regex(p)]
        joined = "|".join(f"(?:{p})" for p, _ in self.patterns)
        self.regex = re.compile(joined) if self.patterns else None

    def match(self, name: str) -> str | None:
        """The pattern that matches `name` (the name itself for an exact entry), else None."""
        if name in self.exact:
            return name
        if self.regex is not None and self.regex.fullmatch(name):
            return next(p for p, rx in self.patterns if rx.fullmatch(name))
        return None


class Route(BaseModel):
    """What one consumer receives. Empty lists mean "no restriction"."""

    model_config = ConfigDict(extra="forbid")

    allow: list[str] = Field(default_factory=list, description="Event names or regexes to allow.")
    deny: list[str] = Field(default_factory=list, description="Event names or regexes to deny.")
    courses: list[str] = Field(default_factory=list, description="Only these course ids.")
    orgs: list[str] = Field(default_factory=list, description="Only these organisations.")
    sites: list[str] = Field(default_factory=list, description="Only these hosts (context.host).")
    users: list[str] = Field(default_factory=list, description="Only these user ids or usernames.")
    activity_types: list[str] = Field(
        default_factory=list,
        description="Only items about these activity types: the xAPI object's definition.type "
        "(its IRI, or the IRI's last segment such as `video` or `cmi.interaction`), the Caliper "
        "object's type (such as `VideoObject`).",
    )
    match_params: dict[str, str | list[str]] = Field(
        default_factory=dict, description="ERB match_params: dotted path → regex or regexes."
    )

    @field_validator("allow", "deny")
    @classmethod
    def _patterns_compile(cls, patterns: list[str], info: ValidationInfo) -> list[str]:
        for pattern in patterns:
            if is_regex(pattern):
                try:
                    check_regex(pattern, _stored(info))
                except re.error as exc:
                    raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns

    @field_validator("match_params")
    @classmethod
    def _params_compile(
        cls, params: dict[str, str | list[str]], info: ValidationInfo
    ) -> dict[str, str | list[str]]:
        for key, value in params.items():
            for pattern in value if isinstance(value, list) else [value]:
                try:
                    check_regex(pattern, _stored(info))
                except re.error as exc:
                    raise ValueError(f"match_params[{key!r}]: invalid regex: {exc}") from None
        return params

    @cached_property
    def _compiled(self) -> tuple[_NameSet, _NameSet, list[tuple[list[str], list[re.Pattern[str]]]]]:
        params = [
            (key.split("."), [re.compile(p) for p in (v if isinstance(v, list) else [v])])
            for key, v in self.match_params.items()
        ]
        return _NameSet(self.allow), _NameSet(self.deny), params

    @cached_property
    def is_open(self) -> bool:
        """No rule on the event restricts this route: `decide` allows every event, so it need
        not be looked at (activity types, which look at the translation, may still drop items)."""
        return not (
            self.allow
            or self.deny
            or self.courses
            or self.orgs
            or self.sites
            or self.users
            or self.match_params
        )

    def decide(self, event: TrackingEvent) -> Decision:
        allow, deny, params = self._compiled
        if self.allow:
            matched = allow.match(event.name)
            if matched is None:
                return Decision(False, "not in allow list")
        denied = deny.match(event.name)
        if denied is not None:
            return Decision(False, f"deny {denied}")
        if self.courses and event.course_id not in self.courses:
            return Decision(False, "course not in courses")
        if self.orgs and _org(event) not in self.orgs:
            return Decision(False, "org not in orgs")
        if self.sites and event.context.get("host") not in self.sites:
            return Decision(False, "site not in sites")
        if self.users and not _user_in(event, self.users):
            return Decision(False, "user not in users")
        for path, patterns in params:
            value = _dotted(event.raw, path)
            if value is None:  # `data.*` / folded `context.*` of a tracking-log line, say
                value = _dotted(event.as_dict(), path)
            if value is None:  # as in ERB, a rule on a key the event lacks never matches
                return Decision(False, f"match_params {'.'.join(path)} (missing)")
            if not any(p.search(str(value)) for p in patterns):
                return Decision(False, f"match_params {'.'.join(path)}")
        return Decision(True, "allowed" if not self.allow else f"allow {matched}")

    @cached_property
    def _activity_types(self) -> frozenset[str]:
        return frozenset(self.activity_types)

    def keeps(self, item: dict[str, Any]) -> bool:
        """Whether one translated item (an xAPI statement or a Caliper event) is about one of
        `activity_types`; always, when there are none."""
        if not self.activity_types:
            return True
        kind = activity_type(item)
        wanted = self._activity_types
        return kind is not None and (kind in wanted or kind.rsplit("/", 1)[-1] in wanted)


def activity_type(item: dict[str, Any]) -> str | None:
    """The activity type of an xAPI statement's object (`definition.type`) or of a Caliper
    event's object (`type`); None when it has none."""
    obj = item.get("object")
    if not isinstance(obj, dict):
        return None
    definition = obj.get("definition")
    kind = definition.get("type") if isinstance(definition, dict) else obj.get("type")
    return kind if isinstance(kind, str) else None


def _org(event: TrackingEvent) -> str | None:
    org = event.org_id
    if org is None and event.course_id and ":" in event.course_id:
        org = event.course_id.split(":", 1)[1].split("+", 1)[0]
    return org


def _user_in(event: TrackingEvent, users: list[str]) -> bool:
    data = event.data if isinstance(event.data, dict) else {}
    for source in (data, event.context):
        for key in ("user_id", "username"):
            value = source.get(key)
            if value is not None and str(value) in users:
                return True
    return False


def _dotted(value: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
