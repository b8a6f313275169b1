"""Every Python example in docs/policy.md runs as written: its statements run, its ``test_*`` functions pass,
and a ``# value`` comment under an expression is what the expression gives."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "policy.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=lambda n: f"block-{n + 1}")
def test_example_runs_as_written(number: int) -> None:
    block = BLOCKS[number]
    lines = block.splitlines()
    namespace: dict[str, object] = {}
    cwd = Path.cwd()
    os.chdir(ROOT)  # the examples load "processes/" from the repository root
    try:
        for statement in ast.parse(block).body:
            code = compile(ast.Module([statement], []), f"docs/policy.md block {number + 1}", "exec")
            following = lines[statement.end_lineno] if statement.end_lineno < len(lines) else ""
            if isinstance(statement, ast.Expr) and following.startswith("# "):
                value = eval(compile(ast.Expression(statement.value), "docs", "eval"), namespace)
                assert value == ast.literal_eval(following[2:]), f"{ast.unparse(statement)} gives {value!r}"
            else:
                exec(code, namespace)
        tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
        for test in tests:
            test()
    finally:
        os.chdir(cwd)
