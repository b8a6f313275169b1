"""The package's import structure keeps the promises of design.md.

Layers point one way (cli → metrics → engine → policy/store → calendar), only engine/ imports SpiffWorkflow,
only store/ imports SQLAlchemy, only _parsing imports PyYAML (and nothing parses XML with the standard
library), and nothing below the CLI reads the wall clock.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "efficacy_flow"

# What each subpackage may import from efficacy_flow (besides itself and the bottom modules).
BOTTOM = {"errors", "clock", "_parsing"}  # _parsing: the hardened XML and YAML readers
ALLOWED: dict[str, set[str]] = {
    "calendar": set(),
    "store": {"calendar"},
    "policy": {"calendar"},
    "engine": {"calendar", "policy", "store"},
    "metrics": {"calendar", "policy", "store", "engine"},
    "testing": {"calendar", "policy", "store", "engine"},
    "cli": {"calendar", "policy", "store", "engine", "metrics", "testing"},
}
# Third-party packages fenced into one subpackage each (the seam where their errors are translated).
FENCED = {
    "SpiffWorkflow": "engine",
    "sqlalchemy": "store",
    "psycopg": "store",
    "RestrictedPython": "engine",
    "yaml": "_parsing",  # every YAML file goes through the hardened loader
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    """A module imports only its own layer, the layers below it, and the bottom modules."""
    layer = _layer(path)
    own = {n.split(".")[1] for n in _imports(path) if n.startswith("efficacy_flow.")}
    if layer == "__init__":  # the public surface re-exports every layer
        return
    if layer in BOTTOM:
        assert own <= {"errors"} - {layer}, f"{layer}.py must stay at the bottom, imports {sorted(own)}"
        return
    for name in _imports(path):
        if not name.startswith("efficacy_flow."):
            continue
        target = name.split(".")[1]
        assert target == layer or target in BOTTOM or target in ALLOWED[layer], (
            f"{path.relative_to(PACKAGE)} imports {name}: {layer}/ may not depend on {target}/"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_third_party_seams(path: Path) -> None:
    """SpiffWorkflow and RestrictedPython only in engine/, SQLAlchemy and psycopg only in store/."""
    layer = _layer(path)
    for name in _imports(path):
        top = name.split(".")[0]
        if top in FENCED:
            where = path.relative_to(PACKAGE)
            assert layer == FENCED[top], f"{where} imports {top}, which is fenced into {FENCED[top]}/"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_parses_xml_with_the_standard_library(path: Path) -> None:
    """XML is parsed by _parsing.parse_xml (lxml, hardened), never by the standard library's parsers."""
    stdlib_xml = [n for n in _imports(path) if n == "xml" or n.startswith("xml.")]
    assert stdlib_xml == [], (
        f"{path.relative_to(PACKAGE)} imports {stdlib_xml}: parse with _parsing.parse_xml"
    )


def test_wall_clock_is_read_only_by_system_clock() -> None:
    """Only clock.SystemClock calls datetime.now(); everything else is handed a Clock."""
    offenders = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "date.today(", "time.time(", "utcnow("):
            if needle in text and path.name != "clock.py":
                offenders.append(f"{path.relative_to(PACKAGE)}: {needle}")
    assert offenders == []
