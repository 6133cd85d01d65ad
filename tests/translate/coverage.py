"""Coverage of Ralph's Open edX event models: which translate to valid xAPI and Caliper.

Run `python -m tests.translate.coverage` for the report ("N of M Ralph event types translate to
valid xAPI / Caliper", then the misses with their reasons); tests/translate/test_coverage.py
asserts the thresholds.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import Any

import ralph.models.edx
from ralph.models.edx.base import BaseEdxModel

from event_router.events import normalise
from event_router.translate import Options, TranslationError, translate
from tests.translate.fixtures.families.samples import sample
from tests.validation import assert_valid_caliper_event, assert_valid_xapi


def ralph_models() -> dict[str, type[BaseEdxModel]]:
    """Every concrete Open edX event model of Ralph (those with a selector), by class name."""
    found: dict[str, type[BaseEdxModel]] = {}
    for info in pkgutil.walk_packages(ralph.models.edx.__path__, "ralph.models.edx."):
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEdxModel)
                and cls.__module__ == module.__name__
                and getattr(cls, "__selector__", None)
            ):
                found[name] = cls
    return found


def ralph_event(model: type[BaseEdxModel], name: str) -> dict[str, Any]:
    """The sample for `model`, without the fields the model does not define (some events carry
    no `name` or `session`)."""
    event = sample(name)
    return {k: v for k, v in event.items() if k in model.model_fields}


@dataclass
class Coverage:
    models: list[str] = field(default_factory=list)
    valid: dict[str, list[str]] = field(default_factory=lambda: {"xapi": [], "caliper": []})
    missed: dict[str, dict[str, str]] = field(default_factory=lambda: {"xapi": {}, "caliper": {}})

    def line(self, protocol: str) -> str:
        label = {"xapi": "xAPI", "caliper": "Caliper"}[protocol]
        return (
            f"{len(self.valid[protocol])} of {len(self.models)} Ralph event types translate to "
            f"valid {label}"
        )


def measure(options: Options) -> Coverage:
    coverage = Coverage()
    for name, model in sorted(ralph_models().items()):
        coverage.models.append(name)
        raw = ralph_event(model, name)
        event = normalise(raw)
        for protocol, check in (
            ("xapi", assert_valid_xapi),
            ("caliper", assert_valid_caliper_event),
        ):
            try:
                outputs = translate(event, protocol, options)
                if not outputs:
                    raise TranslationError("no output")
                for item in outputs:
                    check(item)
            except (TranslationError, AssertionError) as exc:
                coverage.missed[protocol][name] = str(exc).splitlines()[0][:200]
            else:
                coverage.valid[protocol].append(name)
    return coverage


if __name__ == "__main__":
    from tests.conftest import erb_options

    result = measure(erb_options())
    for protocol in ("xapi", "caliper"):
        print(result.line(protocol))
        for name, reason in sorted(result.missed[protocol].items()):
            print(f"  - {name}: {reason}")
