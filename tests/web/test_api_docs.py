"""`/api/docs` is served whole by the router: no third-party address, no inline script."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def test_the_api_docs_page_loads_only_from_the_router(web: Web) -> None:
    client = web.client()
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 3, sources
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert re.search(r"<script>[^<]", page.text) is None, "an inline script"
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100, source
    bundle = client.get(next(s for s in sources if s.endswith("swagger-ui-bundle.js")))
    assert "SwaggerUIBundle" in bundle.text
    assert 'data-openapi="/api/openapi.json"' in page.text
    assert client.get("/api/openapi.json").json()["info"]["title"] == "Open edX Event Router"
