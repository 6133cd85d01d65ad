"""Where translation code may reach: Caliper modules read payloads through `translate/payload.py`
and build IRIs with `translate/iri.py`, never through an xAPI module; the table families use
only the xAPI vocabulary (the verbs and types of their rows) from the xAPI side."""

from __future__ import annotations

import ast
from pathlib import Path

import event_router.translate as translate_package

ROOT = Path(translate_package.__file__).parent


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_caliper_modules_import_no_xapi_module() -> None:
    for path in sorted((ROOT / "caliper").glob("*.py")):
        xapi = {name for name in imported(path) if "translate.xapi" in name}
        assert not xapi, f"{path.name} imports {xapi}"


def test_table_families_take_only_the_vocabulary_from_xapi() -> None:
    for path in sorted((ROOT / "families").glob("*.py")):
        xapi = {name for name in imported(path) if "translate.xapi" in name}
        assert xapi <= {"event_router.translate.xapi.vocabulary"}, f"{path.name}: {xapi}"
