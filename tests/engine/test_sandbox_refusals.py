"""What the sandbox refuses at deployment (``compile``), and what it still allows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from efficacy_flow.engine import Engine
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.errors import ExpressionLimitExceeded, UnsafeExpression

REFUSED_SCRIPTS = [
    pytest.param("class A: pass", "class definitions", id="class"),
    pytest.param("range.leak = 1", "writing attribute 'leak'", id="attribute-on-builtin"),
    pytest.param("len.x = 1", "writing attribute 'x'", id="attribute-on-function"),
    pytest.param("d.items = 1", "writing attribute 'items'", id="attribute-on-data"),
    pytest.param("del x.y", "writing attribute 'y'", id="attribute-delete"),
    pytest.param("x.y += 1", "writing attribute 'y'", id="attribute-augmented"),
    pytest.param("for x.y in items: pass", "writing attribute 'y'", id="attribute-as-loop-target"),
    pytest.param("async def f(): pass", "async", id="async-def"),
    pytest.param("with x: pass", "with statements", id="with"),
    pytest.param("def g():\n    yield 1", "generators", id="yield-in-function"),
    pytest.param("def g():\n    yield from items", "generators", id="yield-from"),
    pytest.param("yield 1", "generators", id="yield-at-top-level"),
    pytest.param("return 1", "syntax error: 'return' outside function", id="return-at-top-level"),
    pytest.param("b = [*a, *a]", "unpacking with *", id="star-into-list"),
    pytest.param("b = (*a,)", "unpacking with *", id="star-into-tuple"),
    pytest.param("f(*a)", "unpacking with *", id="star-into-call"),
    pytest.param("f(**k)", "unpacking with **", id="double-star-into-call"),
    pytest.param("a[:0] = a", "slice assignment", id="slice-assignment"),
    pytest.param("a[1:2, 3] = b", "slice assignment", id="extended-slice-assignment"),
    pytest.param(
        "def f():\n    try:\n        pass\n    finally:\n        return 1", "finally", id="finally-return"
    ),
    pytest.param(
        "while True:\n    try:\n        pass\n    finally:\n        break", "finally", id="finally-break"
    ),
    pytest.param(
        "for x in a:\n    try:\n        pass\n    finally:\n        continue",
        "finally",
        id="finally-continue",
    ),
    pytest.param(
        "for x in a:\n    try:\n        pass\n    finally:\n"
        "        for y in a:\n            pass\n        else:\n            break",
        "finally",
        id="finally-break-in-loop-else",
    ),
    pytest.param("print('x')", "'print' is not allowed", id="print"),
    pytest.param("global x", "global and nonlocal", id="global"),
    pytest.param("import os", "imports", id="import"),
    pytest.param("_x = 1", 'starts with "_"', id="underscore-name"),
    pytest.param("x = '\0'", "syntax error", id="null-byte"),
    pytest.param("x = " + "(" * 300 + ")" * 300, "too many nested parentheses", id="nested-parentheses"),
    pytest.param("x = " + "-" * 100000 + "1", "nested too deeply to compile", id="recursion-in-compiler"),
]

ALLOWED_SCRIPTS = [
    pytest.param("first, *rest = items", {"first": 1, "rest": [2, 3]}, id="starred-target"),
    pytest.param("d = {**{'a': 1}, 'b': 2}", {"d": {"a": 1, "b": 2}}, id="double-star-in-dict"),
    pytest.param("total = 0\nfor x in items:\n    total += x", {"total": 6, "x": 3}, id="augmented-name"),
    pytest.param(
        "n = 0\nfor x in items:\n    try:\n        n += 1\n    finally:\n        for y in items:\n"
        "            break",
        {"n": 3, "x": 3, "y": 1},
        id="break-of-loop-inside-finally",
    ),
    pytest.param(
        "def f():\n    try:\n        return 1\n    finally:\n        g = lambda: 2\nr = f()\ndel f",
        {"r": 1},
        id="lambda-in-finally",
    ),
    pytest.param("try:\n    r = 1 / 0\nexcept:\n    r = 0", {"r": 0}, id="bare-except-catches-errors"),
    pytest.param(
        "copy = list(items)\ncopy[0] = 9\ndel copy[1]", {"copy": [9, 3]}, id="item-write-and-delete"
    ),
    pytest.param("r = [x for x in items][::-1]", {"r": [3, 2, 1]}, id="slice-read"),
    pytest.param(
        "r = [isinstance('a', str), isinstance(1, (str, int)), isinstance(1.5, str | int | float),"
        " isinstance(None, int | str), int.from_bytes(b'\\x01\\x00', 'big'), str.join('-', ['a', 'b']),"
        " sorted(['b', 'A'], key=str.lower)]",
        {"r": [True, True, True, False, 256, "a-b", ["A", "b"]]},
        id="str-and-int-still-behave-as-types",
    ),
]


@pytest.mark.parametrize(("source", "problem"), REFUSED_SCRIPTS)
def test_refused_at_compile(source: str, problem: str) -> None:
    """Each construct is refused by compile() with UnsafeExpression naming the element and the problem."""
    with pytest.raises(UnsafeExpression) as caught:
        Sandbox().compile(source, "exec", element_id="Script_Z")
    assert not isinstance(caught.value, ExpressionLimitExceeded)
    assert (caught.value.element_id, caught.value.expression) == ("Script_Z", source)
    assert problem in caught.value.problem
    assert "Script_Z" in caught.value.message


@pytest.mark.parametrize(("source", "expected"), ALLOWED_SCRIPTS)
def test_allowed_and_correct(source: str, expected: dict[str, Any]) -> None:
    """What stays allowed compiles and runs with Python's meaning."""
    variables: dict[str, Any] = {"items": [1, 2, 3]}
    Sandbox().execute(source, variables)
    assert {k: v for k, v in variables.items() if k != "items"} == expected


def test_walrus_in_a_condition_does_not_write_the_variables() -> None:
    """A condition that assigns a name (``:=``) sees the variables but leaves them untouched: conditions read
    process data, never write it."""
    variables = {"n": 1}
    assert Sandbox().evaluate("(m := n + 1) > 1", variables) is True
    assert variables == {"n": 1}


def test_refused_code_is_not_cached_and_cached_code_is_reused() -> None:
    """A refusal raises every time; accepted code compiles once per mode (the very same code object)."""
    sandbox = Sandbox()
    for _ in range(2):
        with pytest.raises(UnsafeExpression):
            sandbox.compile("class A: pass", "exec")
    assert sandbox.compile("while n: n -= 1", "exec") is sandbox.compile("while n: n -= 1", "exec")
    assert sandbox.compile("a + 1", "eval") is not sandbox.compile("a + 1", "exec")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("(len, days)", id="in-place-expression"),
        pytest.param("[(len, days) for _ in [0]][0]", id="expression-with-nested-scope"),
    ],
)
def test_variables_win_over_functions_and_builtins(source: str) -> None:
    """Both ways an expression is run (reading the variables in place, or in a scope of its own when it nests
    a scope) resolve names the same: a variable hides a function of the same name, a function a builtin."""
    assert Sandbox().evaluate(source, {"len": "variable"}, {"len": "function", "days": "function"}) == (
        "variable",
        "function",
    )
    assert Sandbox().evaluate(source, {}, {"len": "function", "days": "function"}) == ("function", "function")


def test_a_refusal_is_said_once_and_a_deployment_names_the_file(tmp_path: Path) -> None:
    """The sandbox's refusal is not wrapped a second time ("not compilable: unsafe or invalid expression"),
    and deployment adds the file to the element (issue 15: every deployment error names both)."""
    with pytest.raises(UnsafeExpression) as caught:
        Sandbox().compile('__import__("os")', "eval", element_id="Timer_Limit")
    assert caught.value.message.count("unsafe or invalid expression") == 1
    assert caught.value.problem == "'__import__' is not allowed"
    ladder = Path(__file__).parent / "fixtures" / "ladder"
    for file in ladder.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    bpmn = tmp_path / "fx_ladder.bpmn"
    bpmn.write_text(
        bpmn.read_text(encoding="utf-8").replace('time_limit("fx_handling")', '__import__("os")'),
        encoding="utf-8",
    )
    with pytest.raises(UnsafeExpression) as deployed:
        Engine(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    assert deployed.value.fields["path"] == "fx_ladder.bpmn"
    assert deployed.value.element_id == "Timer_Limit"
    assert deployed.value.message.startswith(
        "fx_ladder.bpmn: unsafe or invalid expression in element Timer_Limit"
    )
