"""`/api/docs`: the OpenAPI explorer, served whole by the router itself.

FastAPI's default page loads Swagger UI from a CDN, so on a private network (where routers
usually run) it stays blank. Here the assets come from the `swagger-ui-py` package (Swagger UI
5, which reads OpenAPI 3.1) and the page has no inline script, so it also works under a strict
Content-Security-Policy.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from event_router.web.headers import DOCS_POLICY

ASSETS = "/api/docs/assets"
START = Path(__file__).parent / "static" / "api-docs.js"
SWAGGER_UI = Path(str(files("swagger_ui") / "static"))  # the swagger-ui-py package's copy
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} — API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi="{openapi}"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{start}"></script>
</body>
</html>
"""


def install(app: FastAPI, docs_url: str = "/api/docs") -> None:
    """Serve the explorer at `docs_url` for the app's own OpenAPI document."""
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="api-docs-assets")
    start = f"{docs_url}/start.js"
    page = PAGE.format(
        title=escape(app.title), assets=ASSETS, start=start, openapi=escape(app.openapi_url or "")
    )

    @app.get(docs_url, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    @app.get(start, include_in_schema=False)
    async def api_docs_start() -> FileResponse:
        return FileResponse(START, media_type="text/javascript")
