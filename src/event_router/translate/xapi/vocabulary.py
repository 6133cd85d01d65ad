"""The IRIs Open edX statements use (verbs, activity types, extensions), named once.

These are the values ERB emits (its code, not its docs, where the two disagree), so that LRS
queries and dashboards written against ERB's output keep working.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

ADL = "http://adlnet.gov/expapi"
W3ID = "https://w3id.org/xapi"
TINCAN = "http://id.tincanapi.com"

# ERB's namespace seed for statement ids (uuid5 of uuid5): changing it changes every id.
_ID_SEED = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")


def id_namespace(key: str) -> uuid.UUID:
    """The uuid5 namespace ERB derives from a verb's JSON text (and a child id, for fan-out)."""
    return uuid.uuid5(_ID_SEED, key)


@dataclass(frozen=True, slots=True)
class Verb:
    """An xAPI verb with its English display, and the id namespace ERB derives from it."""

    id: str
    display: str
    value: dict[str, Any] = field(init=False, compare=False)
    json_text: str = field(init=False, compare=False)
    namespace: uuid.UUID = field(init=False, compare=False)

    def __post_init__(self) -> None:
        value = {"id": self.id, "display": {"en": self.display}}
        text = json.dumps(value)  # ERB hashes tincan's to_json(): Python's default separators
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "json_text", text)
        object.__setattr__(self, "namespace", id_namespace(text))


# Verbs
ASKED = Verb(f"{ADL}/verbs/asked", "asked")
ATTEMPTED = Verb(f"{ADL}/verbs/attempted", "attempted")
COMPLETED = Verb(f"{ADL}/verbs/completed", "completed")
DELETED = Verb(f"{W3ID}/dod-isd/verbs/deleted", "deleted")
EARNED = Verb(f"{TINCAN}/verb/earned", "earned")
EDITED = Verb(f"{W3ID}/acrossx/verbs/edited", "edited")
EVALUATED = Verb(f"{W3ID}/acrossx/verbs/evaluated", "evaluated")
FAILED = Verb(f"{ADL}/verbs/failed", "failed")
INITIALIZED = Verb(f"{ADL}/verbs/initialized", "initialized")
INTERACTED = Verb(f"{ADL}/verbs/interacted", "interacted")
NAVIGATED = Verb(f"{W3ID}/dod-isd/verbs/navigated", "navigated")
PASSED = Verb(f"{ADL}/verbs/passed", "passed")
PAUSED = Verb(f"{W3ID}/video/verbs/paused", "paused")
PLAYED = Verb(f"{W3ID}/video/verbs/played", "played")
POSTED = Verb(f"{W3ID}/acrossx/verbs/posted", "posted")
PROGRESSED = Verb(f"{ADL}/verbs/progressed", "progressed")
REGISTERED = Verb(f"{ADL}/verbs/registered", "registered")
REPORTED = Verb(f"{W3ID}/acrossx/verbs/reported", "reported")
SEEKED = Verb(f"{W3ID}/video/verbs/seeked", "seeked")
TERMINATED = Verb(f"{ADL}/verbs/terminated", "terminated")
UNREGISTERED = Verb(f"{TINCAN}/verb/unregistered", "unregistered")
UNREPORTED = Verb(f"{W3ID}/openedx/verb/unreported", "unreported")
VIEWED = Verb(f"{TINCAN}/verb/viewed", "viewed")
VOTED = Verb(f"{W3ID}/openedx/verb/voted", "voted")

# Activity types
COURSE = f"{ADL}/activities/course"
QUESTION = f"{ADL}/activities/question"
INTERACTION = f"{ADL}/activities/cmi.interaction"
LINK = f"{ADL}/activities/link"
MODULE = f"{ADL}/activities/module"
ATTEMPT = f"{ADL}/activities/attempt"
RESOURCE = f"{TINCAN}/activitytype/resource"
SOLUTION = f"{TINCAN}/activitytype/solution"
DISCUSSION = f"{TINCAN}/activitytype/discussion"
SUPPLEMENTAL_INFO = f"{W3ID}/acrossx/extensions/supplemental-info"
VIDEO = f"{W3ID}/video/activity-type/video"
TIMED_ASSESSMENT = f"{W3ID}/openedx/activity/timed-assessment"
PRACTICE_ASSESSMENT = f"{W3ID}/openedx/activity/practice-assessment"
PROCTORED_ASSESSMENT = f"{W3ID}/openedx/activity/proctored-assessment"
GRADE_CLASSIFICATION = "http://www.tincanapi.co.uk/activitytypes/grade_classification"

# Extensions
EXT_TRANSFORMER_VERSION = f"{W3ID}/openedx/extension/transformer-version"
EXT_SESSION_ID = f"{W3ID}/openedx/extensions/session-id"
EXT_MODE = f"{W3ID}/acrossx/extensions/type"
EXT_TOTAL_ITEMS = f"{W3ID}/acrossx/extensions/total-items"
EXT_TIME_LIMIT = f"{W3ID}/acrossx/extensions/time-limit"
EXT_ATTEMPT_ID = f"{TINCAN}/extension/attempt-id"
EXT_STARTING_POSITION = f"{TINCAN}/extension/starting-position"
EXT_ENDING_POSITION = f"{TINCAN}/extension/ending-point"
EXT_DURATION = f"{TINCAN}/extension/duration"
EXT_PROGRESS = f"{W3ID}/cmi5/result/extensions/progress"
EXT_ATTEMPT_STARTED = f"{W3ID}/openedx/extension/attempt-started"
EXT_ATTEMPT_COMPLETED = f"{W3ID}/openedx/extension/attempt-completed"
EXT_VIDEO_LENGTH = f"{W3ID}/video/extensions/length"
EXT_VIDEO_CC_LANGUAGE = f"{W3ID}/video/extensions/cc-subtitle-lang"
EXT_VIDEO_TIME = f"{W3ID}/video/extensions/time"
EXT_VIDEO_TIME_FROM = f"{W3ID}/video/extensions/time-from"
EXT_VIDEO_TIME_TO = f"{W3ID}/video/extensions/time-to"
EXT_VIDEO_SPEED_FROM = f"{W3ID}/openedx/extension/speed-from"
EXT_VIDEO_SPEED_TO = f"{W3ID}/openedx/extension/speed-to"
EXT_VIDEO_CC_ENABLED = f"{W3ID}/video/extensions/cc-enabled"

# Verbs and types of the families translated as tables (translate/families), from the ADL,
# Activity Streams 1.0, tincan and acrossx vocabularies; Open edX's own under w3id.org/xapi/openedx.
AS = "http://activitystrea.ms/schema/1.0"
ACCESSED = Verb(f"{AS}/access", "accessed")
ADDED = Verb(f"{AS}/add", "added")
ANSWERED = Verb(f"{ADL}/verbs/answered", "answered")
ATTACHED = Verb(f"{AS}/attach", "attached")
BOOKMARKED = Verb(f"{TINCAN}/verb/bookmarked", "bookmarked")
CLOSED = Verb(f"{AS}/close", "closed")
CREATED = Verb(f"{AS}/create", "created")
JOINED = Verb(f"{AS}/join", "joined")
LEFT = Verb(f"{AS}/leave", "left")
OPENED = Verb(f"{AS}/open", "opened")
PURCHASED = Verb(f"{AS}/purchase", "purchased")
RECEIVED = Verb(f"{AS}/receive", "received")
REMOVED = Verb(f"{AS}/remove", "removed")
RETRACTED = Verb(f"{AS}/retract", "retracted")
SAVED = Verb(f"{AS}/save", "saved")
SEARCHED = Verb(f"{AS}/search", "searched")
SELECTED = Verb(f"{TINCAN}/verb/selected", "selected")
SHARED = Verb(f"{ADL}/verbs/shared", "shared")
SUBMITTED = Verb(f"{AS}/submit", "submitted")
UPDATED = Verb(f"{AS}/update", "updated")
USED = Verb(f"{AS}/use", "used")
EXITED = Verb(f"{ADL}/verbs/exited", "exited")
RESPONDED = Verb(f"{ADL}/verbs/responded", "responded")

ASSESSMENT = f"{ADL}/activities/assessment"
PAGE = f"{AS}/page"
GROUP = f"{AS}/group"
NOTE = f"{AS}/note"
APPLICATION = f"{AS}/application"
DOCUMENT = f"{TINCAN}/activitytype/document"
SURVEY = f"{TINCAN}/activitytype/survey"
CERTIFICATE = f"{W3ID}/openedx/activity/certificate"
LIBRARY_CONTENT = f"{W3ID}/openedx/activity/library-content"

EXT_ITEM = f"{W3ID}/openedx/extension/item"
EXT_ITEM_ID = f"{W3ID}/openedx/extension/item-id"
EXT_LOCATION = f"{W3ID}/openedx/extension/location"
EXT_FAILURE = f"{W3ID}/openedx/extension/failure"
EXT_SUBMISSION = f"{W3ID}/openedx/extension/submission-uuid"
EXT_ATTEMPT = f"{W3ID}/openedx/extension/attempt-number"
EXT_SCORE_TYPE = f"{W3ID}/openedx/extension/score-type"
EXT_POINTS_POSSIBLE = f"{W3ID}/openedx/extension/points-possible"
EXT_FILE = f"{W3ID}/openedx/extension/file"
EXT_FEEDBACK = f"{W3ID}/openedx/extension/feedback"
EXT_TOPIC = f"{W3ID}/openedx/extension/topic-id"
EXT_FIELD = f"{W3ID}/openedx/extension/field"
EXT_OLD_VALUE = f"{W3ID}/openedx/extension/old-value"
EXT_NEW_VALUE = f"{W3ID}/openedx/extension/new-value"
EXT_METHOD = f"{W3ID}/openedx/extension/method"
EXT_PAGE_NAME = f"{W3ID}/openedx/extension/page-name"
EXT_RESULTS = f"{W3ID}/openedx/extension/number-of-results"
EXT_SOCIAL_NETWORK = f"{W3ID}/openedx/extension/social-network"
EXT_SOURCE = f"{W3ID}/openedx/extension/source"
EXT_ENABLED = f"{W3ID}/openedx/extension/enabled"
EXT_BLOCKS = f"{W3ID}/openedx/extension/blocks"
EXT_REASON = f"{W3ID}/openedx/extension/reason"
EXT_TAGS = f"{W3ID}/openedx/extension/tags"
EXT_PAGE = f"{W3ID}/openedx/extension/page"
EXT_DIRECTION = f"{W3ID}/openedx/extension/direction"
EXT_AMOUNT = f"{W3ID}/openedx/extension/amount"
EXT_QUERY = f"{W3ID}/openedx/extension/query"
EXT_VIEW = f"{W3ID}/openedx/extension/view"
EXT_CORRECTNESS = f"{W3ID}/openedx/extension/correctness"
EXT_RATIONALE = f"{W3ID}/openedx/extension/rationale"
EXT_HIGHLIGHTED = f"{W3ID}/openedx/extension/highlighted-content"
EXT_MODE_GENERATION = f"{W3ID}/openedx/extension/generation-mode"
EXT_TITLE = f"{W3ID}/openedx/extension/title"
EXT_TRIGGER = f"{W3ID}/openedx/extension/trigger-type"
EXT_NAVIGATION = f"{W3ID}/openedx/extension/navigation-type"
EXT_NOTE_TEXT = f"{W3ID}/openedx/extension/note-text"
EXT_POSITION_FROM = EXT_STARTING_POSITION
EXT_POSITION_TO = EXT_ENDING_POSITION
