"""Hook chains, plugin translators and the loader, in-process (the unit side of plugins).

The plugins here are given to the loader directly (as `installed()` would list them), so no
package is installed; tests/plugins/test_plugins.py installs a real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import orjson
import pytest

from event_router.delivery.encoder import Encoder, Skip, TranslationCache
from event_router.events import normalise
from event_router.journal import Entry
from event_router.plugins import Hook, Translation, figures, loader
from event_router.plugins.chain import DROPPED, HookChain, hooked
from event_router.routing.consumer import Consumer
from event_router.translate import Options, TranslationError
from event_router.translate.registry import Registry
from event_router.translate.validate import invalid
from event_router.translate.workers import translated
from tests.support.traffic import play

EXT = "https://example.org/ext/mark"
TIME = "https://w3id.org/xapi/video/extensions/time"


def items(result: list[bytes] | str) -> list[bytes]:
    """The items of a translation that made some (its reason when it made none fails the test)."""
    assert not isinstance(result, str), result
    return result


def _mark(item: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    item["verb"]["display"]["en-US"] = "changed in place"  # a shared constant, were it not copied
    item["context"]["extensions"][EXT] = event["name"]
    return item


def _rename(event: dict[str, Any]) -> dict[str, Any]:
    event["data"]["currentTime"] = 99  # in place: the router's own event must not change
    return event


def _boom(event: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("no")


def _exit(event: dict[str, Any]) -> dict[str, Any]:
    raise SystemExit(3)


def _unwritable(item: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    item["context"]["extensions"][EXT] = {1, 2}  # a set: JSON cannot carry it
    return item


def _seen(item: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    item["context"]["extensions"][EXT] = event["data"]["currentTime"]
    return item


def _caliper_tag(item: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    item.setdefault("extensions", {})["tenant"] = "north"
    return item


HOOKS = {
    "caliper-tag": Hook(after=_caliper_tag, protocols=("caliper",)),
    "exit": Hook(before=_exit),
    "unwritable": Hook(after=_unwritable),
    "seen": Hook(after=_seen),
    "mark": Hook(after=_mark),
    "rename": Hook(before=_rename),
    "boom": Hook(before=_boom),
    "drop": Hook(before=lambda event: None),
    "drop-item": Hook(after=lambda item, event: None),
    "not-an-event": Hook(before=lambda event: ["a", "list"]),  # type: ignore[arg-type,return-value]
    "caliper-only": Hook(after=_mark, protocols=("caliper",)),
}


@pytest.fixture(autouse=True)
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    found = tuple(
        loader.Plugin(name, "hook", f"tests:{name}", "test-plugins", "1.0", hook=hook)
        for name, hook in HOOKS.items()
    )
    monkeypatch.setattr(loader, "installed", lambda: found)
    yield


def test_after_step_changes_a_copy_for_its_consumer_only(options: Options) -> None:
    event = normalise(play(1))
    plain = translated(event, "xapi", options)
    chain = HookChain(["mark"], "c", "xapi")
    (changed,) = items(hooked(event, "xapi", options, chain))
    item = orjson.loads(changed)
    assert item["context"]["extensions"][EXT] == "play_video"
    assert item["verb"]["display"]["en-US"] == "changed in place"
    assert translated(event, "xapi", options) == plain  # nothing shared was changed


def test_before_step_changes_what_is_translated_not_the_event(options: Options) -> None:
    event = normalise(play(2))
    (changed,) = items(hooked(event, "xapi", options, HookChain(["rename"], "c", "xapi")))
    assert event.data["currentTime"] == 2
    assert orjson.loads(changed)["result"]["extensions"][TIME] == 99


def test_a_raising_or_unusable_step_refuses_the_event_with_its_reason(options: Options) -> None:
    event = normalise(play(3))
    figures.totals()
    assert hooked(event, "xapi", options, HookChain(["boom"], "c1", "xapi")) == (
        "hook boom failed (RuntimeError: no)"
    )
    reason = hooked(event, "xapi", options, HookChain(["not-an-event"], "c1", "xapi"))
    assert reason == "hook not-an-event returned list, not an event"
    assert hooked(event, "xapi", options, HookChain(["ghost"], "c1", "xapi")) == (
        "hook ghost is not installed"
    )
    counted = figures.totals()
    assert counted[("c1", "boom", "before", "failed")][0] >= 1


def test_exit_or_unwritable_output_costs_only_the_event(options: Options) -> None:
    event = normalise(play(7))
    assert hooked(event, "xapi", options, HookChain(["exit"], "c", "xapi")) == (
        "hook exit failed (SystemExit: 3)"
    )
    reason = hooked(event, "xapi", options, HookChain(["unwritable"], "c", "xapi"))
    assert isinstance(reason, str) and reason.startswith("hook unwritable failed (TypeError")


def test_after_steps_see_the_event_the_before_steps_made(options: Options) -> None:
    event = normalise(play(8))
    (item,) = items(hooked(event, "xapi", options, HookChain(["rename", "seen"], "c", "xapi")))
    assert orjson.loads(item)["context"]["extensions"][EXT] == 99


def test_dropping_is_a_skip_not_a_failure(options: Options) -> None:
    entry = Entry(seq=1, ingested_at=0.0, event=normalise(play(4)))
    for hook in ("drop", "drop-item"):
        consumer = Consumer(name="c", url="http://127.0.0.1:9/x", hooks=[hook])
        skip = Encoder(consumer, options, TranslationCache(4)).encode(entry)
        assert skip == Skip(f"{DROPPED}{hook}", translation_failed=False)


def test_after_steps_apply_to_their_protocols_only(options: Options) -> None:
    event = normalise(play(5))
    chain = HookChain(["caliper-only"], "c", "xapi")
    assert hooked(event, "xapi", options, chain) == translated(event, "xapi", options)


def test_caliper_consumers_get_their_after_steps(options: Options) -> None:
    event = normalise(play(9))
    (item,) = items(hooked(event, "caliper", options, HookChain(["caliper-tag"], "c", "caliper")))
    changed = orjson.loads(item)
    assert changed["extensions"]["tenant"] == "north"
    assert invalid("caliper", item) == []  # still a valid Caliper 1.2 event
    assert hooked(event, "xapi", options, HookChain(["caliper-tag"], "c", "xapi")) == (
        translated(event, "xapi", options)
    )


def test_consumer_without_hooks_keeps_the_shared_translation(options: Options) -> None:
    consumer = Consumer(name="c", url="http://127.0.0.1:9/x")
    encoder = Encoder(consumer, options, TranslationCache(4))
    assert encoder._chain is None and encoder._cache_policy == consumer.identity.value


def test_plugin_translator_is_guarded_and_replaces(
    options: Options, monkeypatch: pytest.MonkeyPatch
) -> None:
    def good(event: Any, opts: Options) -> list[dict[str, Any]]:
        return [{"replaced": event.name}]

    def bad(event: Any, opts: Options) -> list[dict[str, Any]]:
        raise ZeroDivisionError("oops")

    registry = Registry("xapi")
    registry.register("play_video")(lambda event, opts: [{"ours": True}])

    def plugin(name: str, translation: Translation) -> loader.Plugin:
        return loader.Plugin(name, "translator", f"t:{name}", "pkg", "1", (translation,))

    plugins = (
        plugin("p-good", Translation(("play_video",), xapi=good)),
        plugin("p-bad", Translation(("x.y",), xapi=bad)),
        plugin("p-caliper", Translation(("z",), caliper=bad)),
    )
    monkeypatch.setattr(loader, "installed", lambda: plugins)
    loader.install_translations(registry)
    event = normalise(play(6))
    assert registry.get("play_video")(event, options) == [{"replaced": "play_video"}]
    with pytest.raises(TranslationError, match=r"plugin p-bad failed \(ZeroDivisionError: oops\)"):
        registry.get("x.y")(event, options)
    assert "z" not in registry  # a Caliper translation only


def test_a_broken_entry_point_is_listed_with_its_error() -> None:
    ep = EntryPoint("broken", "no_such_module_here:THING", loader.HOOKS)
    plugin = loader._load(ep, "hook")
    assert plugin.hook is None and plugin.error and "no_such_module_here" in plugin.error
    wrong = loader._load(EntryPoint("wrong", "json:dumps", loader.HOOKS), "hook")
    assert wrong.error == "expected an event_router.plugins.Hook"


def test_consumer_hooks_and_validate_settings() -> None:
    consumer = Consumer.model_validate(
        {"name": "c", "url": "http://x", "hooks": ["a", "b"], "validate": True}
    )
    assert consumer.public()["validate"] is True and consumer.public()["hooks"] == ["a", "b"]
    assert Consumer.model_validate(consumer.model_dump(mode="json")) == consumer
    with pytest.raises(ValueError, match="listed twice"):
        Consumer(name="c", url="http://x", hooks=["a", "a"])
    with pytest.raises(ValueError, match="not for protocol edx"):
        Consumer(name="c", url="http://x", protocol="edx", sink="webhook", hooks=["a"])


def test_invalid_names_each_broken_rule() -> None:
    good = {
        "actor": {"objectType": "Agent", "account": {"homePage": "http://lms", "name": "a"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/played"},
        "object": {"id": "http://lms/v", "objectType": "Activity"},
    }
    assert invalid("xapi", orjson.dumps(good)) == []
    bad = {**good, "verb": {"id": "not an iri"}}
    assert invalid("xapi", orjson.dumps(bad)) == ["$.verb.id: not an IRI"]
    assert invalid("xapi", b"{nope")[0].startswith("not JSON")
