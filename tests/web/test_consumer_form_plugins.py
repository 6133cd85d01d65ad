"""The admin form carries a consumer's plugin hooks and its validate option both ways."""

from __future__ import annotations

from event_router.routing.consumer import Consumer
from event_router.web.consumer_form import from_public, parse


def test_hooks_and_validate_round_trip_through_the_form() -> None:
    submitted = {
        "name": "lrs",
        "protocol": "xapi",
        "url": "https://lrs.example.org/xapi/statements",
        "auth": "none",
        "identity": "anonymous",
        "batch_size": "100",
        "linger": "0.02",
        "max_in_flight": "1",
        "timeout": "10",
        "hooks": "campus-sso\n\n  add-tenant \n",
        "validate": "on",
    }
    form, config = parse(submitted, None)
    assert form.errors == {}
    consumer = Consumer.model_validate(config)
    assert consumer.hooks == ["campus-sso", "add-tenant"] and consumer.validate_items
    shown = from_public(consumer.public())
    assert shown.values["hooks"] == "campus-sso\nadd-tenant"
    assert shown.values["validate"] is True
    _, cleared = parse({**submitted, "hooks": "", "validate": ""}, None)
    assert cleared["hooks"] == [] and cleared["validate"] is False
