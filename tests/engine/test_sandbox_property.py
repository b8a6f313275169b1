"""Property: on random small arithmetic and string expressions the sandbox agrees with plain Python, or stops
with a typed error; it never raises anything else and never hangs."""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.errors import ExpressionLimitExceeded, ScriptError

#: Large operands, so that repeats, powers and shifts reach the limits.
LARGE = ["4099", "99999", "999999"]
OPERATORS = ["+", "-", "*", "//", "%", "**", "<<", "==", "!=", "<", ">=", "in", "not in"]

atoms = st.one_of(
    st.integers(-30, 30).map(str),
    st.text(alphabet="ab%s", max_size=3).map(repr),
    st.sampled_from(["True", "None", "[]", "0.5"]),
    st.sampled_from(LARGE),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(OPERATORS), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    lists = st.lists(children, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
    # The operators that explode, with a large right operand: these reach the limits often.
    growing = st.tuples(children, st.sampled_from(["*", "**", "<<"]), st.sampled_from(LARGE)).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    return binary | lists | growing


expressions = st.recursive(atoms, _combine, max_leaves=10)

#: One sandbox for every example, as in the engine: a failure must not leave state behind.
SANDBOX = Sandbox(time_budget=0.5)


def _outcome(source: str) -> tuple[str, Any]:
    """What the sandbox made of ``source``: ("value", v), ("stopped", limit) or ("raised", class name)."""
    try:
        return "value", SANDBOX.evaluate(source, {})
    except ExpressionLimitExceeded as stopped:
        return "stopped", stopped.limit
    except ScriptError as failed:
        return "raised", failed.error


def _plain_outcome(source: str) -> tuple[str, Any]:
    try:
        return "value", eval(source, {"__builtins__": {}})
    except Exception as exc:  # any failure, by class, to compare with the sandbox's ScriptError
        return "raised", type(exc).__name__


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_sandbox_agrees_with_python_or_stops_typed(source: str) -> None:
    """The value equals plain eval's (type included); a ScriptError names the exception plain eval raises;
    otherwise the expression was stopped at the size limit. Any other exception fails the test. Plain eval
    runs only when the sandbox did not stop the expression, which bounds its cost by what the sandbox
    admitted."""
    kind, detail = _outcome(source)
    event(kind if kind != "raised" else f"raised {detail}")
    if kind == "stopped":
        assert detail == "size"
        return
    plain_kind, plain_detail = _plain_outcome(source)
    assert (kind, type(detail), detail) == (plain_kind, type(plain_detail), plain_detail)
