"""The package's import structure keeps the promises of design.md.

Layers point one way (cli → service → metrics → engine → policy/store → calendar; simulation and testing
beside metrics), a package is used from outside only through its public names (never
``efficacy_flow.engine._views``, never ``efficacy_flow.engine.runtime``), relative imports stay inside their
package, only engine/runtime/ imports SpiffWorkflow, only store/ imports SQLAlchemy, only _parsing imports
PyYAML (and nothing parses XML with the standard library), and nothing below the CLI reads the wall clock.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path, PurePosixPath

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "efficacy_flow"

# Public modules at the root that every layer may import; they import nothing but errors. _parsing is the
# one private one: the hardened XML and YAML readers every file of configuration goes through.
BOTTOM = {"errors", "clock", "_parsing"}
# What each subpackage may import from efficacy_flow (besides itself and the bottom modules). "efficacy_flow"
# is the root package: its public names re-export every layer, so only the top may import it.
ALLOWED: dict[str, set[str]] = {
    "calendar": set(),
    "store": {"calendar"},
    "policy": {"calendar"},
    "engine": {"calendar", "policy", "store"},
    "metrics": {"calendar", "policy", "store", "engine"},
    "simulation": {"calendar", "policy", "store", "engine"},
    "testing": {"calendar", "policy", "store", "engine", "simulation"},
    # The HTTP service: the engine's public API, the metrics it serves, the store for idempotency keys.
    "service": {"efficacy_flow", "calendar", "policy", "store", "engine", "metrics"},
    "cli": {"efficacy_flow", "calendar", "policy", "store", "engine", "metrics", "simulation", "service"},
}
#: Third-party packages fenced into one folder (or root module) each, the seam where their errors are
#: translated: SpiffWorkflow into the engine's runtime seam (engine/runtime/), RestrictedPython into the
#: engine (its sandbox), PyYAML into _parsing (every YAML file goes through the hardened loader).
FENCED = {
    "SpiffWorkflow": "engine/runtime",
    "sqlalchemy": "store",
    "psycopg": "store",
    "RestrictedPython": "engine",
    "yaml": "_parsing",
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _where(path: Path) -> PurePosixPath:
    """The module's path inside the package, e.g. ``engine/_views.py``."""
    return PurePosixPath(path.relative_to(PACKAGE).as_posix())


def _layer(where: PurePosixPath) -> str:
    """The subpackage a module belongs to; a root module is its own layer (``errors``, ``_shipped``, ...)."""
    return where.parts[0] if len(where.parts) > 1 else where.stem


def _resolve(where: PurePosixPath, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names, relative imports resolved against ``where``."""
    if node.level == 0:
        return node.module or ""
    package = ["efficacy_flow", *where.parts[:-1]]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _targets(where: PurePosixPath, tree: ast.AST) -> list[tuple[str, int]]:
    """Every efficacy_flow module or name a module imports, as a dotted path, with its line.

    ``from efficacy_flow.engine import Engine`` gives ``efficacy_flow.engine.Engine``: a submodule and a name
    imported from a package are refused alike when they are private.
    """
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(where, node)
            found.extend((f"{module}.{alias.name}", node.lineno) for alias in node.names)
    return [(name, line) for name, line in found if name.split(".")[0] == "efficacy_flow"]


def _is_package(name: str) -> bool:
    return (PACKAGE / name / "__init__.py").is_file()


def _is_root_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file()


@functools.cache
def _exports(package: str) -> frozenset[str]:
    """The names a package's ``__init__.py`` lists in ``__all__`` (read from the source, not imported)."""
    init = PACKAGE / package / "__init__.py" if package else PACKAGE / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def layer_violations(where: PurePosixPath, source: str) -> list[str]:
    """What is wrong with the imports in ``source`` of the module at ``where`` (``engine/_engine.py``)."""
    tree = ast.parse(source, filename=str(where))
    layer = _layer(where)
    in_init = where.name == "__init__.py"
    bottom = layer in BOTTOM or (layer.startswith("_") and layer != "__init__")
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            module = _resolve(where, node)
            for alias in node.names:
                parts = f"{module}.{alias.name}".split(".")
                if parts[1] != layer:
                    reached = ".".join(parts[:2])
                    problems.append(f"{where}:{node.lineno}: a relative import into {reached} leaves {layer}")
                    break
    for name, line in _targets(where, tree):
        parts = name.split(".")[1:]
        here = f"{where}:{line} imports {name}"
        if not parts or not (_is_package(parts[0]) or _is_root_module(parts[0])):
            # The root package, or a name it exports (from efficacy_flow import Engine).
            if parts and parts[0] not in _exports(""):
                problems.append(f"{here}: efficacy_flow exports no {parts[0]}")
            elif layer != "__init__" and "efficacy_flow" not in ALLOWED.get(layer, set()):
                problems.append(f"{here}: only {_importers_of_root()} may import the root package")
            continue
        target = parts[0]
        if target == layer:
            continue
        if bottom:
            if target != "errors":
                problems.append(f"{here}: {layer}.py must stay at the bottom")
            continue
        if target in BOTTOM:
            continue
        if target.startswith("_"):
            # The root's other private helpers (_public, _shipped) exist for the package surfaces only.
            if not in_init:
                problems.append(f"{here}: the root's private modules serve the __init__.py files only")
            continue
        if layer != "__init__" and target not in ALLOWED[layer]:
            problems.append(f"{here}: {layer}/ may not depend on {target}/")
        if len(parts) > 2 or (len(parts) == 2 and parts[1] not in _exports(target)):
            problems.append(f"{here}: outside {target}/ only the names efficacy_flow.{target} exports")
    return problems


def _importers_of_root() -> str:
    return ", ".join(sorted(layer for layer, allowed in ALLOWED.items() if "efficacy_flow" in allowed))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(_where(p)))
def test_imports_point_down_through_public_names(path: Path) -> None:
    """A module imports only its own package, the packages below it and the bottom modules; another package
    only through the names its ``__init__`` exports; relative imports only inside its own package."""
    assert layer_violations(_where(path), path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        pytest.param(
            "cli/_demo.py",
            "from efficacy_flow.engine._views import TaskView",
            ["outside engine/ only the names efficacy_flow.engine exports"],
            id="private-module-of-another-package",
        ),
        pytest.param(
            "cli/_demo.py",
            "import efficacy_flow.store._store as store",
            ["outside store/ only the names efficacy_flow.store exports"],
            id="plain-import-of-a-private-module",
        ),
        pytest.param(
            "metrics/_adapter.py",
            "from efficacy_flow.engine import _views",
            ["outside engine/ only the names efficacy_flow.engine exports"],
            id="private-module-imported-from-its-package",
        ),
        pytest.param(
            "metrics/_adapter.py",
            "from efficacy_flow.engine import runtime",
            ["outside engine/ only the names efficacy_flow.engine exports"],
            id="engine-runtime-from-outside-engine",
        ),
        pytest.param(
            "metrics/_adapter.py",
            "from efficacy_flow.engine.runtime import ProcessRuntime",
            ["outside engine/ only the names efficacy_flow.engine exports"],
            id="engine-runtime-names-from-outside-engine",
        ),
        pytest.param(
            "engine/_engine.py",
            "from efficacy_flow.engine.runtime._serializer import dump",
            [],
            id="own-private-modules-are-fine",
        ),
        pytest.param("engine/_engine.py", "from . import _views", [], id="relative-inside-the-package"),
        pytest.param(
            "engine/runtime/_step.py",
            "from .._views import TaskView",
            [],
            id="relative-up-inside-the-package",
        ),
        pytest.param(
            "engine/_engine.py",
            "from ..store import Store",
            ["a relative import into efficacy_flow.store leaves engine"],
            id="relative-import-across-packages",
        ),
        pytest.param(
            "errors.py",
            "from . import clock",
            ["a relative import into efficacy_flow.clock leaves errors", "errors.py must stay at the bottom"],
            id="relative-import-at-the-root",
        ),
        pytest.param(
            "store/_store.py",
            "from efficacy_flow.engine import Engine",
            ["store/ may not depend on engine/"],
            id="upward-import",
        ),
        pytest.param(
            "cli/_demo.py",
            "from efficacy_flow.testing import FakeClock",
            ["cli/ may not depend on testing/"],
            id="cli-may-not-use-testing",
        ),
        pytest.param(
            "simulation/_scenario.py",
            "from efficacy_flow.metrics import collect_records",
            ["simulation/ may not depend on metrics/"],
            id="simulation-below-metrics",
        ),
        pytest.param(
            "testing/_engine.py", "from efficacy_flow.simulation import Simulation", [], id="testing-uses-sim"
        ),
        pytest.param(
            "engine/_engine.py",
            "from efficacy_flow import shipped_processes",
            ["only cli, service may import the root package"],
            id="root-package-below-the-top",
        ),
        pytest.param(
            "cli/_demo.py",
            "from efficacy_flow._shipped import shipped_processes",
            ["the root's private modules serve the __init__.py files only"],
            id="root-private-module-outside-an-init",
        ),
        pytest.param("calendar/__init__.py", "from efficacy_flow import _public", [], id="init-uses-_public"),
        pytest.param(
            "policy/_dmn.py",
            "from efficacy_flow._parsing import parse_xml",
            [],
            id="the-hardened-parser-is-a-bottom-module",
        ),
        pytest.param(
            "_parsing.py",
            "from efficacy_flow.calendar import TimeLimit",
            ["_parsing.py must stay at the bottom"],
            id="the-parser-stays-at-the-bottom",
        ),
        pytest.param(
            "clock.py",
            "from efficacy_flow.calendar import china",
            ["clock.py must stay at the bottom"],
            id="bottom",
        ),
        pytest.param(
            "cli/_demo.py",
            "from efficacy_flow.calendar import china\nfrom efficacy_flow import shipped_processes",
            [],
            id="public-names",
        ),
    ],
)
def test_layer_rules_refuse_what_they_promise(where: str, source: str, expected: list[str]) -> None:
    """Each rule refuses its kind of import (and allows the ones beside it), with a message that says why."""
    problems = layer_violations(PurePosixPath(where), source)
    assert len(problems) == len(expected), problems
    for problem, reason in zip(problems, expected, strict=True):
        assert problem.endswith(reason), problem


def _absolute_imports(path: Path) -> list[str]:
    """Every module a file imports absolutely (``import a.b`` and ``from a.b import c`` give ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(_where(p)))
def test_third_party_seams(path: Path) -> None:
    """SpiffWorkflow only in engine/runtime/, RestrictedPython only in engine/, SQLAlchemy and psycopg only in
    store/, PyYAML only in _parsing.py."""
    where = str(_where(path))
    for name in _absolute_imports(path):
        top = name.split(".")[0]
        if top in FENCED:
            fence = FENCED[top]
            assert where.startswith(fence + "/") or where == fence + ".py", (
                f"{where} imports {top}, which is fenced into {fence}"
            )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(_where(p)))
def test_no_module_parses_xml_with_the_standard_library(path: Path) -> None:
    """XML is parsed by _parsing.parse_xml (lxml, hardened), never by the standard library's parsers."""
    stdlib_xml = [n for n in _absolute_imports(path) if n == "xml" or n.startswith("xml.")]
    assert stdlib_xml == [], f"{_where(path)} imports {stdlib_xml}: parse with _parsing.parse_xml"


def test_wall_clock_is_read_only_by_system_clock() -> None:
    """Only clock.SystemClock calls datetime.now(); everything else is handed a Clock."""
    offenders = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "date.today(", "time.time(", "utcnow("):
            if needle in text and path.name != "clock.py":
                offenders.append(f"{_where(path)}: {needle}")
    assert offenders == []
