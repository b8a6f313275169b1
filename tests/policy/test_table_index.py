"""The column index of a decision table answers exactly as the rule-by-rule scan does.

``Table.evaluate`` finds the matching rules through per-column bit masks built at load; ``Table._scan`` calls
every cell in rule order (the reference semantics the other policy tests pin down). Random tables of every
cell form, random inputs of every kind (null, NaN, Decimal, ISO date strings, wrong kinds, missing keys)
and every hit policy must give the same result, or the same error with the same message and fields.
Then the hooks for FEEL-expression cells (``Rule.scoped``, ``Rule.computed``, ``InputColumn.evaluate``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from tests.policy.dmn_builder import dmn_xml

from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy._dmn import parse_dmn_text
from efficacy_flow.policy._feel import compile_unary_tests
from efficacy_flow.policy._feel_values import FeelError
from efficacy_flow.policy._table import HitPolicy, InputColumn, OutputColumn, Rule, Table

# The literals cells are written with, per kind; inputs draw from the same values and the ones between them.
LITERALS: dict[str, list[str]] = {
    "number": ["-1", "0", "1", "2.5", "3", "7"],
    "string": ['"a"', '"b"', '"bb"', '"c"'],
    "date": ['date("2025-01-01")', 'date("2025-03-01")', 'date("2025-12-31")'],
    "boolean": ["true", "false"],
}
ORDERED = ("number", "string", "date")
INPUTS: dict[str, list[Any]] = {
    "number": [-2, -1, 0, 0.5, 1, 1.0, 2.5, 2.6, 3, 5, 7, 8, float("inf"), Decimal("2.5"), float("nan")],
    "string": ["", "a", "ab", "b", "bb", "c", "d"],
    "date": [date(2024, 12, 31), date(2025, 1, 1), date(2025, 2, 1), date(2025, 12, 31), "2025-03-01"],
    "boolean": [True, False],
}
POLICIES = ["UNIQUE", "FIRST", "ANY", "RULE ORDER", "COLLECT", "COLLECT SUM", "COUNT"]
WRONG: list[Any] = [True, 1, "a", date(2025, 1, 1), "2025-02-30", [1], {"k": 1}]


@st.composite
def positive(draw: st.DrawFn, kind: str) -> str:
    """One positive unary test of ``kind``: a literal, a comparison or a range."""
    literals = LITERALS[kind]
    form = draw(st.sampled_from(["literal", "comparison", "range"] if kind in ORDERED else ["literal"]))
    if form == "literal":
        return draw(st.sampled_from([*literals, "null"]))
    if form == "comparison":
        return draw(st.sampled_from(["<", "<=", ">", ">="])) + " " + draw(st.sampled_from(literals))
    low, high = sorted(draw(st.lists(st.sampled_from(range(len(literals))), min_size=2, max_size=2)))
    opening = draw(st.sampled_from(["[", "(", "]"]))
    closing = draw(st.sampled_from(["]", ")", "["]))
    if low == high:
        opening, closing = "[", "]"
    return f"{opening}{literals[low]}..{literals[high]}{closing}"


@st.composite
def cell(draw: st.DrawFn, kind: str) -> str:
    """An input entry of ``kind``: ``-``, a list of positive tests, or ``not(...)`` of one."""
    if draw(st.integers(0, 4)) == 0:
        return "-"
    tests = ", ".join(draw(st.lists(positive(kind), min_size=1, max_size=3)))
    return f"not({tests})" if draw(st.booleans()) else tests


@st.composite
def table_and_data(draw: st.DrawFn) -> tuple[Table, dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(sorted(LITERALS)), min_size=1, max_size=3))
    typed = [draw(st.booleans()) for _ in kinds]
    rules = draw(
        st.lists(st.tuples(*(cell(kind) for kind in kinds), st.integers(1, 3)), min_size=1, max_size=8)
    )
    policy = draw(
        st.sampled_from(["UNIQUE", "FIRST", "ANY", "RULE ORDER", "COLLECT", "COLLECT SUM", "COUNT"])
    )
    hit_policy, aggregation = {"COLLECT SUM": ("COLLECT", "SUM"), "COUNT": ("COLLECT", "COUNT")}.get(
        policy, (policy, None)
    )
    defaults = {"out": "0"} if draw(st.booleans()) else None
    xml = dmn_xml(
        inputs=[(f"c.x{i}", kind) if typed[i] else f"c.x{i}" for i, kind in enumerate(kinds)],
        rules=[(list(row[:-1]), [str(row[-1])]) for row in rules],
        hit_policy=hit_policy,
        aggregation=aggregation,
        defaults=defaults,
    )
    try:
        (decision,) = parse_dmn_text(xml, "random.dmn").decisions
        table = decision.logic
    except DecisionTableError:
        reject()  # a table the loader refuses is not what this test is about
    assert isinstance(table, Table)
    case: dict[str, Any] = {}
    for i, kind in enumerate(kinds):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing
        if choice == 1:
            case[f"x{i}"] = None
        elif choice == 2:
            case[f"x{i}"] = draw(st.sampled_from(WRONG))
        else:
            case[f"x{i}"] = draw(st.sampled_from(INPUTS[kind]))
    data: dict[str, Any] = {"c": case} if draw(st.integers(0, 20)) else {"c": None}
    return table, data


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", call()
    except DecisionError as exc:
        return "error", (str(exc), vars(exc))


def reference(table: Table, data: Mapping[str, Any]) -> Any:
    return table._scan([table._read(column, data) for column in table.inputs], data)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(table_and_data())
def test_the_index_answers_as_the_scan(case: tuple[Table, dict[str, Any]]) -> None:
    table, data = case
    assert table._columns is not None  # every generated cell is indexable
    expected = outcome(lambda: reference(table, data))
    actual = outcome(lambda: table.evaluate(data))
    if expected[0] == "value" and actual[0] == "value":
        assert repr(actual[1]) == repr(expected[1])  # repr: NaN-free, and 1 vs 1.0 must agree too
    assert actual == expected


def _one_column_table(cells: list[str], hit_policy: HitPolicy = HitPolicy.RULE_ORDER) -> Table:
    column = InputColumn("x", "x", ("x",), None, False)
    rules = tuple(
        Rule(n, f"r{n}", ((0, test),) if (test := compile_unary_tests(text).test) else (), (n,))
        for n, text in enumerate(cells, 1)
    )
    return Table("d", "d", "<test>", hit_policy, None, (column,), (OutputColumn("n"),), rules)


@pytest.mark.parametrize(
    ("cells", "value", "numbers"),
    [
        (["< 3", "[3..5]", "> 5", "3", "not(3)"], 3, [2, 4]),
        (["< 3", "[3..5]", "> 5", "3", "not(3)"], 3.5, [2, 5]),
        (["< 3", "(3..5)", "]5..7]", "not(< 3, > 5)"], 5, [4]),
        (["< 3", "(3..5)", "]5..7]", "not(< 3, > 5)"], 7, [3]),
        (['"a", "b"', '< "b"', 'not("a")', "-"], "a", [1, 2, 4]),
        (['"a", "b"', '< "b"', 'not("a")', "-"], "ab", [2, 3, 4]),
        (["null", "not(null)", "< 1", "not(< 1)", "-"], None, [1, 5]),
        (["null", "not(null)", "< 1", "not(< 1)", "-"], 0, [2, 3, 5]),
        (["true", "false", "not(true)"], False, [2, 3]),
    ],
)
def test_pieces_between_and_on_bounds(cells: list[str], value: Any, numbers: list[int]) -> None:
    table = _one_column_table(cells)
    assert table._columns is not None
    assert table.evaluate({"x": value}) == [{"n": n} for n in numbers]
    assert reference(table, {"x": value}) == [{"n": n} for n in numbers]


def test_a_wrong_kind_raises_naming_the_first_rule_that_reads_it() -> None:
    table = _one_column_table(["-", "< 3", "> 5"])
    with pytest.raises(DecisionError, match=r"rule 2 \(r2\).*must be a number, got string 'a'"):
        table.evaluate({"x": "a"})


def test_a_cell_that_is_not_a_cell_test_turns_the_index_off() -> None:
    column = InputColumn("x", "x", ("x",), None, False)

    def even(value: Any) -> bool:
        return isinstance(value, int) and value % 2 == 0

    rules = (Rule(1, "r1", ((0, even),), ("even",)), Rule(2, "r2", (), ("any",)))
    table = Table("d", "d", "<test>", HitPolicy.FIRST, None, (column,), (OutputColumn("out"),), rules)
    assert table._columns is None
    assert table.evaluate({"x": 4}) == {"out": "even"}
    assert table.evaluate({"x": 3}) == {"out": "any"}


def test_scoped_cells_and_computed_outputs() -> None:
    """The hooks for FEEL expression cells: tested after the rule's fast cells, in rule order."""
    calls: list[int] = []

    def above_limit(value: Any, scope: Mapping[str, Any]) -> bool | None:
        assert type(value) is Decimal  # a FEEL cell sees FEEL values
        calls.append(value)
        if scope.get("limit") is None:
            raise FeelError("no limit")
        return bool(value > scope["limit"])

    def doubled(scope: Mapping[str, Any]) -> Any:
        return scope["x"] * 2

    column = InputColumn("x", "x", ("x",), "number", False)
    positive = compile_unary_tests(">= 0").test
    assert positive is not None
    rules = (
        Rule(1, "r1", ((0, positive),), ("big", None), scoped=((0, above_limit),), computed=((1, doubled),)),
        Rule(2, "r2", ((0, positive),), ("small", 0)),
        Rule(3, "r3", (), ("negative", -1)),
    )
    outputs = (OutputColumn("size"), OutputColumn("twice"))
    first = Table("d", "d", "<test>", HitPolicy.FIRST, None, (column,), outputs, rules)
    assert first.evaluate({"x": 10, "limit": 5}) == {"size": "big", "twice": 20}
    assert first.evaluate({"x": 3, "limit": 5}) == {"size": "small", "twice": 0}
    assert calls == [10, 3]
    assert first.evaluate({"x": -3, "limit": 5}) == {"size": "negative", "twice": -1}
    assert calls == [10, 3]  # the fast cell failed: the scoped cell was not called
    with pytest.raises(DecisionError, match=r"rule 1 \(r1\): input 'x' \(x\): no limit") as caught:
        first.evaluate({"x": 10})
    assert caught.value.rule == "r1"  # type: ignore[attr-defined]
    every = Table("d", "d", "<test>", HitPolicy.RULE_ORDER, None, (column,), outputs, rules)
    assert every.evaluate({"x": 10, "limit": 5}) == [
        {"size": "big", "twice": 20},
        {"size": "small", "twice": 0},
        {"size": "negative", "twice": -1},
    ]
    assert every._scan([10], {"x": 10, "limit": 5}) == every.evaluate({"x": 10, "limit": 5})
    agree = Table("d", "d", "<test>", HitPolicy.ANY, None, (column,), outputs, rules[:2])
    with pytest.raises(DecisionError, match="ANY needs matching rules to agree"):
        agree.evaluate({"x": 10, "limit": 5})


def test_an_evaluated_input_column() -> None:
    def total(scope: Mapping[str, Any]) -> Any:
        if "a" not in scope:
            raise FeelError("no a")
        return Decimal(scope["a"]) + 1  # FEEL numbers are Decimal: read as the cells' float, as a path is

    column = InputColumn("a + 1", "a + 1", (), "number", False, evaluate=total, reads=frozenset({"a"}))
    test = compile_unary_tests("> 2.5").test
    assert test is not None
    rules = (Rule(1, "r1", ((0, test),), ("yes",)),)
    table = Table(
        "d", "d", "<test>", HitPolicy.UNIQUE, None, (column,), (OutputColumn("out", None, "no", True),), rules
    )
    assert table.reads == frozenset({"a"})
    assert table.evaluate({"a": 2}) == {"out": "yes"}
    assert table.evaluate({"a": 1}) == {"out": "no"}
    with pytest.raises(DecisionError, match=r"input 'a \+ 1' \(a \+ 1\): no a"):
        table.evaluate({})
