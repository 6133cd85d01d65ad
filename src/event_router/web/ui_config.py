"""UI pages for the configuration as YAML: export it, and import a document after seeing what it
would change (store/config_yaml.py does both, as `consumers export` / `import` do).

Secrets stay write-only: the export leaves them out (and masks URL query values), and an import
that leaves them out keeps the stored ones, so an export can be edited and imported back.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from event_router.store import ImportResult, InvalidConfig
from event_router.web.auth import Principal, UiAdmin, check_form_csrf
from event_router.web.context import web
from event_router.web.ui import flash, redirect, render

router = APIRouter(include_in_schema=False)
MAX_DOCUMENT = 1 << 20  # characters: a configuration, not a data set


def _page(
    request: Request,
    principal: Principal,
    status_code: int = 200,
    *,
    text: str = "",
    plan: ImportResult | None = None,
    errors: list[str] | None = None,
) -> Response:
    return render(
        request,
        "admin_config.html",
        principal,
        status_code,
        text=text,
        plan=plan,
        errors=errors or [],
        active="admin",
        section="config",
    )


@router.get("/admin/config")
def config_page(request: Request, principal: UiAdmin) -> Response:
    return _page(request, principal)


@router.get("/admin/config/export")
def export_config(request: Request, principal: UiAdmin) -> Response:
    """Every consumer as YAML, secrets left out: a download."""
    text = web(request).store.consumers.export_yaml(with_secrets=False)
    return Response(
        text,
        media_type="application/yaml",
        headers={
            "Content-Disposition": 'attachment; filename="event-router-consumers.yaml"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/admin/config/import")
async def import_config(request: Request, principal: UiAdmin) -> Response:
    """Without `confirm`: what the document would change (nothing is written). With it: apply."""
    form = await request.form()
    check_form_csrf(principal, form)
    text = str(form.get("document", "") or "")
    if len(text) > MAX_DOCUMENT:
        return _page(request, principal, 413, errors=["the document is over 1 MB"])
    confirm = form.get("confirm") == "yes"
    consumers = web(request).store.consumers
    try:
        plan = await run_in_threadpool(lambda: consumers.import_yaml(text, dry_run=not confirm))
    except InvalidConfig as exc:
        return _page(request, principal, 400, text=text, errors=exc.errors or [str(exc)])
    if not confirm:
        return _page(request, principal, text=text, plan=plan)
    message = (
        f"Imported: {len(plan.added)} added, {len(plan.updated)} changed, "
        f"{len(plan.unchanged)} unchanged."
    )
    await flash(request, principal, message)
    return redirect("/admin/config")
