"""The router translates most of Ralph's Open edX event models, to valid xAPI and Caliper.

Ralph (`ralph.models.edx`) models ~105 Open edX tracking events. For each, a realistic sample
(tests/translate/fixtures/families/samples.py, itself checked against the Ralph model) is
translated and every output validated (Ralph's xAPI model, the tin-can schema, the IMS Caliper 1.2
schemas: tests/validation.py). At least 90 % must give valid xAPI and 70 % valid Caliper.
"""

from __future__ import annotations

import pytest

from event_router.events import normalise
from event_router.translate import Options, TranslationError, registry, translate
from tests.translate.coverage import measure, ralph_event, ralph_models
from tests.translate.fixtures.families.samples import ORA, SAMPLES, browser
from tests.validation import assert_valid_caliper_event, assert_valid_xapi

MODELS = ralph_models()


def test_every_ralph_model_has_a_sample() -> None:
    assert len(MODELS) >= 100
    assert sorted(MODELS) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_samples_are_valid_ralph_events(name: str) -> None:
    event = ralph_event(MODELS[name], name)
    if name in ("ORAGetPeerSubmission", "ORAGetSubmissionForStaffGrading"):
        # Ralph's pattern for `item_id` (`type@openassessment+block@`) reads the `+` as "one or
        # more t", so it takes no real ORA usage key; check the rest with a key it accepts.
        event["event"] = {**event["event"], "item_id": ORA.replace("+block@", "block@")}
    MODELS[name].model_validate(event)


def test_coverage_of_ralph_models(options: Options, capsys: pytest.CaptureFixture[str]) -> None:
    coverage = measure(options)
    with capsys.disabled():
        print("\n" + coverage.line("xapi") + "\n" + coverage.line("caliper"))
    total = len(coverage.models)
    assert len(coverage.valid["xapi"]) >= 0.9 * total, coverage.missed["xapi"]
    assert len(coverage.valid["caliper"]) >= 0.7 * total, coverage.missed["caliper"]


@pytest.mark.parametrize("state", ["shown", "hidden"])
def test_video_language_menu(state: str, options: Options) -> None:
    """Not in Ralph's models, listed in ERB's default allow-list, never translated by ERB."""
    raw = browser(
        f"edx.video.language_menu.{state}",
        {"id": "0b9e39477cf34507a7a48f74be381fdd", "code": "html5", "language": "fr"},
    )
    (statement,) = translate(normalise(raw), "xapi", options)
    assert_valid_xapi(statement)
    assert statement["result"]["extensions"] == {
        "https://w3id.org/xapi/video/extensions/cc-subtitle-lang": "fr"
    }
    in_caliper = f"edx.video.language_menu.{state}" in registry("caliper")
    assert in_caliper is (state == "shown")  # tests/translate/test_video.py


def test_server_page_view(options: Options) -> None:
    """A server event named by its URL path is a page view, in both protocols."""
    event = normalise(ralph_event(MODELS["Server"], "Server"))
    assert event.name.startswith("/courses/")
    (statement,) = translate(event, "xapi", options)
    assert_valid_xapi(statement)
    assert statement["object"]["id"] == f"http://localhost:18000{event.name}"
    assert statement["verb"]["id"] == "http://id.tincanapi.com/verb/viewed"
    (caliper,) = translate(event, "caliper", options)
    assert_valid_caliper_event(caliper)
    assert (caliper["type"], caliper["action"], caliper["object"]["type"]) == (
        "ViewEvent",
        "Viewed",
        "WebPage",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/event",
        "/courses/course-v1:edX+DemoX+Demo_Course/xblock/block-v1:x/handler/xmodule_handler/p",
        "/api/courses/v1/blocks/",
        "/static/js/app.js",
    ],
)
def test_requests_that_are_no_page_view_are_refused(path: str, options: Options) -> None:
    raw = ralph_event(MODELS["Server"], "Server")
    raw.update(event_type=path)
    raw["context"]["path"] = path
    with pytest.raises(TranslationError, match="no page view"):
        translate(normalise(raw), "xapi", options)
