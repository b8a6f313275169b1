"""The runtime's table of private SpiffWorkflow names (engine/runtime/private_names.py) is complete and true.

If a SpiffWorkflow upgrade breaks one, the first test fails naming it; if runtime code starts using a private
name that is not in the table, the second fails naming the file and line.
"""

from __future__ import annotations

import ast
import importlib
from datetime import datetime
from pathlib import Path

import pytest
from tests.engine._stepping import deployments

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine.runtime.private_names import PRIVATE_NAMES, PrivateName
from efficacy_flow.testing import FakeClock

RUNTIME = Path(__file__).resolve().parents[3] / "src" / "efficacy_flow" / "engine" / "runtime"
BASIC = Path(__file__).parents[1] / "fixtures" / "basic"
_MISSING = object()


def _owner(entry: PrivateName) -> type:
    module, _, name = entry.owner.rpartition(".")
    owner: type = getattr(importlib.import_module(module), name)
    return owner


def _sample(cls: type) -> object:
    """A live instance of ``cls`` from a running workflow (instance attributes exist only on instances)."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    handle = deployments(BASIC, clock)["fx_ten"].runtime.new("i")
    handle.start({}, clock.now())
    task = next(iter(handle._workflow.tasks.values()))  # type: ignore[attr-defined]
    return task if isinstance(task, cls) else task.task_spec


@pytest.mark.parametrize("entry", PRIVATE_NAMES, ids=lambda e: f"{e.owner.rpartition('.')[2]}.{e.name}")
def test_every_listed_private_name_still_exists(entry: PrivateName) -> None:
    """Each listed name is still there, of the kind listed (a method is callable)."""
    cls = _owner(entry)
    holder = cls if entry.kind == "method" else _sample(cls)
    found = getattr(holder, entry.name, _MISSING)
    assert found is not _MISSING, (
        f"SpiffWorkflow no longer has {entry.owner}.{entry.name}, used by {entry.used_by}: "
        f"change that fast path to {entry.stock}"
    )
    if entry.kind == "method":
        assert callable(found), f"{entry.owner}.{entry.name} is no longer a method"


def _own_names(tree: ast.Module) -> set[str]:
    """The private names the runtime defines itself (its own attributes and methods)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.startswith("_"):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and node.attr.startswith("_")
        ):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_"):
            names.add(node.value)  # __slots__ entries
    return names


def test_the_runtime_uses_no_unlisted_private_name() -> None:
    """Every ``x._name`` in engine/runtime/ is either the runtime's own or listed in the table."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(RUNTIME.glob("*.py"))}
    own = set().union(*(_own_names(tree) for tree in trees.values()))
    listed = {entry.name for entry in PRIVATE_NAMES}
    unlisted = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr not in own | listed
            ):
                unlisted.append(f"{path.name}:{node.lineno}: {node.attr}")
    assert unlisted == [], "private SpiffWorkflow names missing from runtime/private_names.py"
    used = {
        node.attr
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in listed
    }
    assert used == listed, f"listed but no longer used (remove them): {sorted(listed - used)}"
