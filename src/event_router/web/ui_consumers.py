"""UI pages for consumers: the create / edit form, enable, disable, remove.

Viewers see the form read-only. "Test connection" on the edit page calls the API from the page
(`POST /api/v1/consumers/{name}/test`), so its answer shows without leaving the form.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from event_router.delivery.rewind import RewindError, rewind, since_time
from event_router.routing.consumer import AuthKind, Consumer, Protocol
from event_router.routing.identity import Policy
from event_router.routing.presets import EventSet
from event_router.sinks.registry import sink_types
from event_router.store import (
    ConsumerRecord,
    DuplicateConsumer,
    InvalidConfig,
    Store,
    UnknownConsumer,
)
from event_router.store.consumers import validate
from event_router.web import consumer_form
from event_router.web.api_attempts import delivery_log
from event_router.web.auth import Principal, UiAdmin, UiUser, check_form_csrf
from event_router.web.connection_check import check_connection
from event_router.web.context import web
from event_router.web.history_panel import Panel, panel
from event_router.web.playground import OptionsSource
from event_router.web.route_preview import known_names
from event_router.web.ui import PageNotFound, flash, redirect, render, templates

router = APIRouter(include_in_schema=False)


def clock(moment: float | None) -> str:
    """Epoch seconds for people: the UTC time of day, with the date when it is not today."""
    if moment is None:
        return "\u2013"  # an en dash: no time
    when = time.gmtime(moment)
    today = when[:3] == time.gmtime()[:3]
    return time.strftime("%H:%M:%S" if today else "%Y-%m-%d %H:%M:%S", when)


templates.env.filters["clock"] = clock

CHOICES = {
    "protocol": [p.value for p in Protocol],
    "sink": sorted(sink_types()),
    "auth": [a.value for a in AuthKind],
    "identity": [p.value for p in Policy],
    "events": [e.value for e in EventSet],
}


def _page(
    request: Request,
    principal: Principal,
    form: consumer_form.Form,
    record: ConsumerRecord | None,
    status_code: int = 200,
    live: dict[str, Any] | None = None,
    history: Panel | None = None,
    log: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "consumer_form.html",
        principal,
        status_code,
        form=form,
        record=record,
        creating=record is None,
        choices=CHOICES,
        event_names=known_names("edx"),
        live=live,
        history=history,
        log=log,
        active="consumers",
    )


@router.get("/consumers/new")
def new_consumer(request: Request, principal: UiAdmin) -> Response:
    return _page(request, principal, consumer_form.blank(), None)


@router.post("/consumers/new")
async def create_consumer(request: Request, principal: UiAdmin) -> Response:
    submitted = await request.form()
    check_form_csrf(principal, submitted)
    form, config = consumer_form.parse(submitted, None)
    store = web(request).store
    consumer = await run_in_threadpool(_checked, store, form, config)
    if consumer is None:
        return _page(request, principal, form, None, 400)
    try:
        await run_in_threadpool(store.consumers.add, consumer)
    except InvalidConfig as exc:
        form.add_errors(exc.errors)
        return _page(request, principal, form, None, 400)
    except DuplicateConsumer as exc:
        form.errors["name"] = str(exc)
        return _page(request, principal, form, None, 409)
    return await saved(request, principal, f"/consumers/{consumer.name}/edit")


def _checked(store: Store, form: consumer_form.Form, config: dict[str, Any]) -> Consumer | None:
    """The consumer the form asks for, or None with every problem placed in `form`: what the
    form itself could not read (a number that is not one), what the model refuses and what the
    sink needs, all at once, so the operator fixes them in one go."""
    try:
        consumer = store.consumers.check(validate(config))
    except InvalidConfig as exc:
        form.add_errors(exc.errors)
        return None
    return None if form.errors or form.general else consumer


async def saved(request: Request, principal: Principal, url: str) -> Response:
    await flash(request, principal, "Saved. The router applies changes within a few seconds.")
    return redirect(url)


@router.get("/consumers/{name}/edit")
async def edit_consumer(
    request: Request, principal: UiUser, name: str, rewind_error: str | None = None
) -> Response:
    record = await run_in_threadpool(_record, request, name)
    form = consumer_form.from_public(record.public())
    form.rewind_error = rewind_error
    # Its live figures (state, last error, counters), as the dashboard row shows them: a paused
    # consumer's page says why it is paused.
    status = await request.app.state.status_payload()
    code = 400 if rewind_error else 200
    live, log = status["consumers"].get(name), delivery_log(request, name)
    history = await panel(request, name)
    return _page(request, principal, form, record, code, live=live, history=history, log=log)


@router.post("/consumers/{name}/rewind")
async def rewind_consumer(request: Request, principal: UiAdmin, name: str) -> Response:
    """Send the consumer again what the journal holds since a time (delivery/rewind.py)."""
    submitted = await request.form()
    check_form_csrf(principal, submitted)
    context = web(request)
    try:
        moment = since_time(str(submitted.get("since", "") or ""))
        done = await run_in_threadpool(rewind, context.store, context.journal, name, moment)
    except UnknownConsumer:
        raise PageNotFound(f"no consumer named {name!r}") from None
    except (ValueError, RewindError) as exc:
        return await edit_consumer(request, principal, name, rewind_error=str(exc))
    await flash(request, principal, done.message + (f" Note: {done.note}" if done.note else ""))
    return redirect(f"/consumers/{name}/edit")


@router.post("/consumers/{name}/edit")
async def save_consumer(request: Request, principal: UiAdmin, name: str) -> Response:
    submitted = await request.form()
    check_form_csrf(principal, submitted)
    store = web(request).store
    record = await run_in_threadpool(_record, request, name)
    stored = record.consumer.model_dump(mode="json")
    form, config = consumer_form.parse(submitted, stored)
    form.values["name"] = config["name"] = name
    if await run_in_threadpool(_checked, store, form, config) is None:
        return _page(request, principal, form, record, 400)
    try:
        await run_in_threadpool(store.consumers.update, name, config)
    except InvalidConfig as exc:
        form.add_errors(exc.errors)
        return _page(request, principal, form, record, 400)
    return await saved(request, principal, f"/consumers/{name}/edit")


@router.post("/consumers/check")
async def check_form(request: Request, principal: UiAdmin) -> Response:
    """ "Test connection" with the values in the form, saved or not: a secret left blank is the
    stored one (field `existing` names the consumer being edited), unless the URL moved to
    another host. JSON: the check's answer, or 400 with `errors` by field."""
    submitted = await request.form()
    check_form_csrf(principal, submitted)  # the form's own csrf_token field
    context = web(request)
    existing = str(submitted.get("existing", "") or "")
    stored = None
    if existing:
        stored = (await run_in_threadpool(_record, request, existing)).consumer
    form, config = consumer_form.parse(
        submitted, stored.model_dump(mode="json") if stored else None
    )
    config["name"] = existing or config.get("name") or "connection-test"
    consumer = await run_in_threadpool(_checked, context.store, form, config)
    if consumer is None:
        errors = {"errors": form.errors, "general": form.general}
        return JSONResponse(errors, status_code=400, headers={"Cache-Control": "no-store"})
    options = await run_in_threadpool(OptionsSource(context), consumer.identity)
    destinations = context.store.consumers.destinations
    answer = await check_connection(consumer, options, context.secret_key, destinations)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


@router.post("/consumers/{name}/enable")
async def enable_consumer(request: Request, principal: UiAdmin, name: str) -> Response:
    consumers = web(request).store.consumers
    return await _act(request, principal, name, lambda: consumers.set_enabled(name, True))


@router.post("/consumers/{name}/disable")
async def disable_consumer(request: Request, principal: UiAdmin, name: str) -> Response:
    consumers = web(request).store.consumers
    return await _act(request, principal, name, lambda: consumers.set_enabled(name, False))


@router.post("/consumers/{name}/retry")
async def retry_consumer(request: Request, principal: UiAdmin, name: str) -> Response:
    """ "Retry now" on a paused or backing-off consumer."""
    check_form_csrf(principal, await request.form())
    await run_in_threadpool(_record, request, name)
    engine = web(request).engine
    waiting = engine.retry_now(name) if engine is not None else None
    if waiting is None:
        message = f"{name} is not delivering in this router process: nothing to retry."
    elif waiting:
        message = f"Retrying {name} now."
    else:
        message = f"{name} was not waiting to retry: it is sending or up to date."
    await flash(request, principal, message)
    return redirect(f"/consumers/{name}/edit")


@router.post("/consumers/{name}/delete")
async def delete_consumer(request: Request, principal: UiAdmin, name: str) -> Response:
    consumers = web(request).store.consumers
    await _act(request, principal, name, lambda: consumers.remove(name))
    return redirect("/")


async def _act(
    request: Request, principal: Principal, name: str, change: Callable[[], Any]
) -> Response:
    check_form_csrf(principal, await request.form())
    try:
        await run_in_threadpool(change)
    except UnknownConsumer:
        raise PageNotFound(f"no consumer named {name!r}") from None
    return redirect(f"/consumers/{name}/edit")


def _record(request: Request, name: str) -> ConsumerRecord:
    try:
        return web(request).store.consumers.record(name)
    except UnknownConsumer:
        raise PageNotFound(f"no consumer named {name!r}") from None
