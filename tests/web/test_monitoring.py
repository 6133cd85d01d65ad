"""The shipped alert rules and Grafana dashboard: checked by promtool, and every metric they name
is one the router really exports (read from a real `/metrics` scrape, not from a list)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from event_router.plugins import figures
from tests.support.web import busy_engine
from tests.web.conftest import Web

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "event-router.rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "event-router.rules.test.yml"
DASHBOARD = ROOT / "docs" / "grafana" / "event-router.json"
METRIC = re.compile(r"\bevent_router_[a-z_]+")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "promtool is missing (Debian package prometheus; scripts/test.sh installs it)"
            )
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def test_promtool_checks_the_rules() -> None:
    run = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS: 8 rules found" in run.stdout


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    run = subprocess.run(
        [promtool(), "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=RULE_TESTS.parent,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout


def exported(web: Web) -> set[str]:
    busy_engine(web)
    web.app.state.source_counts = {"tracking-log": Counter(accepted=3, malformed=1)}  # as `run`
    figures.record("sample-hook", "after", "ok", 0.001)  # as a translation worker with a hook
    figures.flush()
    text = web.client().get("/metrics").text
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    queries += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return queries


def test_every_metric_in_the_alert_rules_is_exported(web_engine: Web) -> None:
    named = set(METRIC.findall(RULES.read_text()))
    assert len(named) >= 6
    assert named <= exported(web_engine), f"not exported: {sorted(named - exported(web_engine))}"


def test_every_dashboard_query_names_an_exported_metric(web_engine: Web) -> None:
    metrics = exported(web_engine)
    queries = dashboard_queries()
    assert len(queries) >= 14
    for query in queries:
        named = set(METRIC.findall(query))
        if not named:  # Prometheus' own series for the scrape targets
            assert 'up{job="event-router"}' in query, f"a query names no router metric: {query}"
        assert named <= metrics, f"{query} names {sorted(named - metrics)}, not exported"


def test_the_dashboard_covers_every_exported_router_family(web_engine: Web) -> None:
    """A metric the router adds later shows up here until the dashboard charts it."""
    charted = {m for q in dashboard_queries() for m in METRIC.findall(q)}
    families = {re.sub(r"_(bucket|sum|count)$", "", m) for m in exported(web_engine)}
    charted_families = {re.sub(r"_(bucket|sum|count)$", "", m) for m in charted}
    routers = {m for m in families if m.startswith("event_router_")}
    assert routers <= charted_families, f"not charted: {sorted(routers - charted_families)}"
