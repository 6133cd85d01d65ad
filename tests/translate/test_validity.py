"""Everything the translators emit is valid xAPI / Caliper 1.2, for ERB's events and for any event
made by damaging them: translate() either returns valid output or raises TranslationError.

(a) every output for every ERB golden event, in both protocols where a translation is registered
    (Caliper events also wrapped in an envelope);
(b) a property test: hypothesis mutates the golden events (drops fields, sets values to null, 0,
    "", negative, huge or wrongly typed values, swaps course keys for CCX and others, switches to
    the tracking-log layout with `event` as a JSON string, changes timestamps and time zones).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from event_router.translate import Options, registry, translate
from tests.conftest import erb_event, erb_fixture_names
from tests.support.damage import (
    PROPERTY_SETTINGS,
    _check,
    assert_valid,
    damaged_events,
)


def _registered(protocol: str) -> list[str]:
    names = registry(protocol)
    return [stem for stem in erb_fixture_names() if erb_event(stem).name in names]


# --- (a) ERB's golden events ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "fixture"),
    [(protocol, stem) for protocol in ("xapi", "caliper") for stem in _registered(protocol)],
)
def test_erb_events_translate_to_valid_output(
    protocol: str, fixture: str, options: Options
) -> None:
    outputs = translate(erb_event(fixture), protocol, options)
    assert outputs, "a golden event ERB translates gives at least one output"
    assert_valid(protocol, outputs)


# --- (b) damaged events --------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(raw=damaged_events(_registered("xapi")))
def test_damaged_events_give_valid_xapi_or_a_reason(raw: dict[str, Any], options: Options) -> None:
    _check("xapi", raw, options)


@PROPERTY_SETTINGS
@given(raw=damaged_events(_registered("caliper")))
def test_damaged_events_give_valid_caliper_or_a_reason(
    raw: dict[str, Any], options: Options
) -> None:
    _check("caliper", raw, options)
