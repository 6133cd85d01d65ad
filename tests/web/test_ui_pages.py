"""The server-rendered pages: consumer form (every field, messages, secrets), dashboard, dead
letters, playground, and their empty states. The browser tests (tests/ui) drive the same pages."""

from __future__ import annotations

import html
import json

import orjson

from event_router.delivery.stats import Latencies, State, Stats
from event_router.routing.consumer import Consumer
from event_router.web.ui import duration
from tests.conftest import ERB
from tests.support.web import FULL_FORM, messages, post
from tests.web.conftest import Web


def test_create_form_covers_every_field(web: Web) -> None:
    session = web.login()
    page = session.client.get("/consumers/new").text
    for name in (*FULL_FORM, "clear_password"):
        if name != "clear_password":  # only offered once a password is stored
            assert f'name="{name}"' in page, name
    response = post(session, "/consumers/new", FULL_FORM)
    assert response.status_code == 303
    assert response.headers["location"] == "/consumers/full/edit"
    consumer = web.store.consumers.get("full")
    assert consumer.password == "pa55word-secret" and consumer.username == "key"
    assert consumer.headers == {"X-Tenant": "school", "Authorization-Extra": "header-secret"}
    assert consumer.route.allow == ["edx\\.video\\..*", "edx.course.enrollment.activated"]
    assert consumer.route.deny == ["edx.video.loaded"] and consumer.route.users == ["3", "edx"]
    assert consumer.route.match_params == {"context.org_id": ["^edX$", "^MITx$"], "name": "^edx"}
    assert consumer.override_args == {"version": "1.0.3"} and consumer.guest_learners is True
    assert (consumer.batch_size, consumer.linger, consumer.max_in_flight, consumer.timeout) == (
        50,
        0.5,
        2,
        15.0,
    )
    edit = session.client.get("/consumers/full/edit").text
    assert "Saved." in edit
    assert "Saved." not in session.client.get("/consumers/full/edit").text  # shown once
    assert "pa55word-secret" not in edit and "header-secret" not in edit
    assert "Authorization-Extra: set" in edit and "context.org_id = ^MITx$" in edit
    assert 'name="guest_learners" checked' in edit


def test_validation_messages_sit_beside_their_fields_and_input_is_kept(web: Web) -> None:
    session = web.login()
    bad = {
        **FULL_FORM,
        "name": "Bad Name",
        "batch_size": "lots",
        "headers": "no colon here",
        "override_args": "[1, 2]",
        "match_params": "missing equals",
    }
    response = post(session, "/consumers/new", bad)
    assert response.status_code == 400
    page = response.text
    assert "The consumer was not saved." in page
    assert set(messages(page)) == {  # every problem at once: the form's and the model's
        "use 1-63 lowercase letters, digits, '.', '_' or '-'",
        "must be a whole number",
        "write one header per line as Name: value (not 'no colon here')",
        'must be a JSON object, e.g. {"version": "1.0.3"}',
        "write one rule per line as path = regex (not 'missing equals')",
    }
    assert 'value="lots"' in page and "no colon here" in page  # what was typed stays
    assert "pa55word-secret" not in page  # secrets are never sent back
    fixed = {**bad, "batch_size": "10", "headers": "", "override_args": "", "match_params": ""}
    response = post(session, "/consumers/new", {**fixed, "allow": "("})
    shown = messages(response.text)
    assert len(shown) == 2 and shown[1].startswith("invalid regular expression '('"), shown
    response = post(session, "/consumers/new", {**fixed, "allow": ""})
    assert messages(response.text) == ["use 1-63 lowercase letters, digits, '.', '_' or '-'"]
    response = post(session, "/consumers/new", {**fixed, "name": "ok", "username": ""})
    assert "basic auth needs username and password" in response.text
    assert web.store.consumers.list() == []
    assert post(session, "/consumers/new", {**fixed, "name": "ok"}).status_code == 303
    again = post(session, "/consumers/new", {**fixed, "name": "ok"})
    assert again.status_code == 409
    assert messages(again.text) == ["a consumer named 'ok' already exists"]


def test_editing_keeps_blank_secrets_and_clears_on_request(web: Web) -> None:
    session = web.login()
    post(session, "/consumers/new", FULL_FORM)
    edit = {**FULL_FORM, "password": "", "headers": "X-Tenant: school\nAuthorization-Extra: set"}
    response = post(session, "/consumers/full/edit", {**edit, "batch_size": "99"})
    assert response.status_code == 303
    consumer = web.store.consumers.get("full")
    assert consumer.batch_size == 99 and consumer.password == "pa55word-secret"
    assert consumer.headers["Authorization-Extra"] == "header-secret"
    cleared = {**edit, "auth": "none", "username": "", "clear_password": "on"}
    assert post(session, "/consumers/full/edit", cleared).status_code == 303
    assert web.store.consumers.get("full").password is None
    renamed = post(session, "/consumers/full/edit", {**cleared, "name": "other"})
    assert renamed.status_code == 303  # the name field is ignored
    assert [c.name for c in web.store.consumers.list()] == ["full"]
    invalid = post(session, "/consumers/full/edit", {**cleared, "timeout": "0"})
    assert invalid.status_code == 400
    assert messages(invalid.text) == ["Input should be greater than 0"]


def test_enable_disable_remove_from_the_edit_page(web: Web) -> None:
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    session = web.login()
    assert post(session, "/consumers/lrs/disable", {}).status_code == 303
    assert web.store.consumers.get("lrs").enabled is False
    assert "Enable</button>" in session.client.get("/consumers/lrs/edit").text
    post(session, "/consumers/lrs/enable", {})
    assert web.store.consumers.get("lrs").enabled is True
    response = post(session, "/consumers/lrs/delete", {})
    assert response.headers["location"] == "/"
    assert web.store.consumers.list() == []
    assert session.client.get("/consumers/lrs/edit").status_code == 404
    assert post(session, "/consumers/lrs/enable", {}).status_code == 404


def test_dashboard_empty_state_then_a_row_per_consumer(web: Web) -> None:
    session = web.login()
    page = session.client.get("/")
    assert "No consumers yet" in page.text and "Add your first consumer" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    web.store.consumers.add(Consumer(name="off", url="http://a.test/xapi", enabled=False))
    page = session.client.get("/")
    assert 'data-consumer="lrs"' in page.text and 'data-consumer="off"' in page.text
    assert 'data-field="state">not running<' in page.text and ">disabled<" in page.text
    viewer = web.login("victor", "victor-password").client.get("/").text
    assert "Add consumer" not in viewer


def test_dead_letter_pages_list_show_replay_and_discard(web: Web) -> None:
    session = web.login()
    assert "No dead letters" in session.client.get("/dead-letters").text
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    ids = [
        web.store.dead_letters.add(
            "lrs", i, "play_video", {"name": "play_video"}, "rejected", item={"id": f"s{i}"},
            status=400, answer='{"error": "invalid <statement>"}',
        )
        for i in range(3)
    ]  # fmt: skip
    page = session.client.get("/dead-letters").text
    assert all(f'href="/dead-letters/{i}"' in page for i in ids)
    assert "invalid &lt;statement&gt;" in page  # endpoint answers are escaped
    detail = session.client.get(f"/dead-letters/{ids[0]}").text
    assert "&#34;id&#34;: &#34;s0&#34;" in detail or '"id": "s0"' in html.unescape(detail)
    done = post(session, "/dead-letters/replay", {"id": str(ids[0]), "back": "/dead-letters"})
    assert done.headers["location"] == "/dead-letters"
    assert "1 dead letter(s) marked for replay." in session.client.get("/dead-letters").text
    assert web.store.dead_letters.count("lrs", "replay") == 1
    post(session, "/dead-letters/discard", {"id": str(ids[1])})
    assert web.store.dead_letters.count("lrs", "discarded") == 1
    post(session, "/dead-letters/replay", {"all_of": "lrs"})
    assert web.store.dead_letters.count("lrs", "replay") == 3
    nothing = post(session, "/dead-letters/replay", {"back": "https://evil.example/"})
    assert nothing.headers["location"] == "/dead-letters"
    assert "Nothing selected." in session.client.get(nothing.headers["location"]).text
    assert (
        "No dead letters for lrs in state"
        in session.client.get("/dead-letters?consumer=lrs&state=dead").text
    )
    assert session.client.get("/dead-letters/9999").status_code == 404


def test_playground_page(web: Web) -> None:
    session = web.login("victor", "victor-password")  # read only: viewers may use it
    page = session.client.get("/playground").text
    assert "No consumers to try" in page and "play_video" in page
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    event = (ERB / "events" / "edx.course.enrollment.activated.json").read_text()
    line = "2024-01-01 00:00:00,000 INFO 1 [tracking] - " + json.dumps(json.loads(event))
    response = post(session, "/playground", {"event": line})
    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "Would receive 1 item" in text and "http://adlnet.gov/expapi/verbs/registered" in text
    broken = post(session, "/playground", {"event": '{"name": "x"'})
    assert broken.status_code == 400
    assert "not valid JSON" in broken.text
    assert '{"name": "x"' in html.unescape(broken.text)


def test_the_form_sets_a_sinks_own_options(web: Web) -> None:
    session = web.login()
    bus = {
        **FULL_FORM,
        "name": "bus",
        "sink": "bus",
        "url": "redis://127.0.0.1:6379/0",
        "auth": "none",
        "headers": "",  # a bus sends no HTTP headers (sinks/requirements.py)
        "sink_options": '{"topic": "learning", "maxlen": 5}',
    }
    assert post(session, "/consumers/new", bus).status_code == 303
    assert web.store.consumers.get("bus").sink_options == {"topic": "learning", "maxlen": 5}
    edit = html.unescape(session.client.get("/consumers/bus/edit").text)
    assert '"topic": "learning"' in edit
    wrong = post(session, "/consumers/bus/edit", {**bus, "sink_options": '{"stream": "x"}'})
    assert wrong.status_code == 400 and "stream: Extra inputs are not permitted" in wrong.text
    assert web.store.consumers.get("bus").sink_options == {"topic": "learning", "maxlen": 5}


def test_dashboard_shows_a_disabled_consumers_backlog_a_resolved_error_and_counters(
    web_engine: Web,
) -> None:
    """The figures an operator needs to believe the dashboard: a disabled consumer's backlog
    (from its stored cursor, as the engine runs no delivery for it), a last error followed by
    successful deliveries marked resolved, untranslatable events and retries, latencies in units
    a person reads, the pending/in-flight legend, and the same figures on the consumer's page."""
    web = web_engine
    assert web.engine is not None
    web.store.consumers.add(Consumer(name="lrs", url="http://a.test/xapi"))
    web.store.consumers.add(Consumer(name="off", url="http://a.test/xapi", enabled=False))
    web.journal.submit([orjson.dumps({"name": f"e{i}"}) for i in range(7)]).result()
    web.journal.submit([], cursors={"off": 2}).result()
    web.engine.stats["lrs"] = Stats(
        state=State.PAUSED,
        delivered=40,
        untranslatable=3,
        retries=6,
        last_error="HTTP 503 from the LRS",
        last_error_at=1000.0,
        last_delivery_at=1001.0,
        latencies=Latencies(),
    )
    web.engine.stats["lrs"].latencies.extend([0.0004, 0.012, 2.5])
    status = web.admin().get("/api/v1/status").json()["consumers"]
    assert status["off"]["pending"] == 5 and status["off"]["state"] == "disabled"
    assert status["lrs"]["last_error_resolved"] is True

    session = web.login()
    page = session.client.get("/").text
    row = page[page.index('data-consumer="lrs"') : page.index('data-consumer="off"')]
    off = page[page.index('data-consumer="off"') : page.index("</tbody>")]
    assert 'data-field="pending">5<' in off
    assert '<span class="badge resolved">resolved</span> HTTP 503 from the LRS' in row
    assert 'data-field="untranslatable">3<' in row and 'data-field="retries">6<' in row
    assert "12 ms · 2.5 s · 2.5 s" in row
    assert 'id="legend"' in page and "<strong>In flight</strong> counts items" in page
    assert '<th scope="col">State</th>' in page and '<th scope="row">' in page

    own = session.client.get("/consumers/lrs/edit").text
    assert 'data-field="state">paused<' in own
    assert "HTTP 503 from the LRS" in own and 'data-field="retries">6<' in own
    assert 'data-field="untranslatable">3<' in own


def test_latency_reads_in_units_people_use() -> None:
    assert [duration(v) for v in (None, 0.4, 12.345, 999, 1234, 90_000)] == [
        "\u2013", "0.4 ms", "12 ms", "999 ms", "1.2 s", "1.5 min",
    ]  # fmt: skip


def test_every_page_has_a_skip_link_to_its_main_content(web: Web) -> None:
    session = web.login()
    for path in ("/", "/dead-letters", "/playground", "/consumers/new"):
        page = session.client.get(path).text
        assert '<a class="skip" href="#main">Skip to content</a>' in page, path
        assert '<main id="main" tabindex="-1">' in page, path
