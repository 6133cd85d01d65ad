"""UI pages for consumers: the create / edit form, enable, disable, remove.

Viewers see the form read-only. "Test connection" on the edit page calls the API from the page
(`POST /api/v1/consumers/{name}/test`), so its answer shows without leaving the form.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from event_router.routing.consumer import AuthKind, Protocol
from event_router.routing.identity import Policy
from event_router.routing.presets import EventSet
from event_router.sinks.registry import sink_types
from event_router.store import ConsumerRecord, DuplicateConsumer, InvalidConfig, UnknownConsumer
from event_router.store.consumers import validate
from event_router.web import consumer_form
from event_router.web.api_attempts import delivery_log
from event_router.web.auth import Principal, UiAdmin, UiUser, check_form_csrf
from event_router.web.context import web
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
        live=live,
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
    if form.errors:
        return _page(request, principal, form, None, 400)
    store = web(request).store
    try:
        consumer = validate(config)
        await run_in_threadpool(store.consumers.add, consumer)
    except InvalidConfig as exc:
        form.add_errors(exc.errors)
        return _page(request, principal, form, None, 400)
    except DuplicateConsumer as exc:
        form.errors["name"] = str(exc)
        return _page(request, principal, form, None, 409)
    return await saved(request, principal, f"/consumers/{consumer.name}/edit")


async def saved(request: Request, principal: Principal, url: str) -> Response:
    await flash(request, principal, "Saved. The router applies changes within a few seconds.")
    return redirect(url)


@router.get("/consumers/{name}/edit")
async def edit_consumer(request: Request, principal: UiUser, name: str) -> Response:
    record = await run_in_threadpool(_record, request, name)
    form = consumer_form.from_public(record.public())
    # Its live figures (state, last error, counters), as the dashboard row shows them: a paused
    # consumer's page says why it is paused.
    status = await request.app.state.status_payload()
    live, log = status["consumers"].get(name), delivery_log(request, name)
    return _page(request, principal, form, record, live=live, log=log)


@router.post("/consumers/{name}/edit")
async def save_consumer(request: Request, principal: UiAdmin, name: str) -> Response:
    submitted = await request.form()
    check_form_csrf(principal, submitted)
    store = web(request).store
    record = await run_in_threadpool(_record, request, name)
    stored = record.consumer.model_dump(mode="json")
    form, config = consumer_form.parse(submitted, stored)
    form.values["name"] = config["name"] = name
    if form.errors:
        return _page(request, principal, form, record, 400)
    try:
        validate(config)
        await run_in_threadpool(store.consumers.update, name, config)
    except InvalidConfig as exc:
        form.add_errors(exc.errors)
        return _page(request, principal, form, record, 400)
    return await saved(request, principal, f"/consumers/{name}/edit")


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
