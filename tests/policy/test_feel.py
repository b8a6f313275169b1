"""FEEL unary tests and output literals: one conformance row per construct, edge cases included.

Each row puts one cell in a one-rule table whose default output is "no", so a match answers "yes".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy import Decisions
from efficacy_flow.policy._feel import compile_unary_tests

Build = Callable[..., Decisions]


def matches(dmn_table: Build, cell: str, value: Any, type_ref: str | None = None) -> bool:
    column: Any = ("x", type_ref) if type_ref else "x"
    decisions = dmn_table(inputs=[column], rules=[([cell], ['"yes"'])], defaults={"out": '"no"'})
    return decisions.decide("d", {"x": value}) == {"out": "yes"}


CASES = [
    # (cell, input, matches?)
    pytest.param("-", 42, True, id="dash-any-number"),
    pytest.param("-", None, True, id="dash-any-null"),
    pytest.param("", "text", True, id="empty-any"),
    pytest.param("5", 5, True, id="number-equal"),
    pytest.param("5", 5.0, True, id="number-equal-float-input"),
    pytest.param("5", 6, False, id="number-unequal"),
    pytest.param("-3", -3, True, id="negative"),
    pytest.param("-3", 3, False, id="negative-not-positive"),
    pytest.param("2.5", 2.5, True, id="decimal"),
    pytest.param("0.1", Decimal("0.1"), True, id="decimal-input"),
    pytest.param(".5", 0.5, True, id="decimal-leading-dot"),
    pytest.param("< 5", 4, True, id="lt-below"),
    pytest.param("< 5", 5, False, id="lt-at-bound"),
    pytest.param("<= 5", 5, True, id="le-at-bound"),
    pytest.param("> 5", 5, False, id="gt-at-bound"),
    pytest.param(">= 2", 2, True, id="ge-at-bound"),
    pytest.param(">= 2", 1.999, False, id="ge-below"),
    pytest.param("< -1", -2, True, id="lt-negative"),
    pytest.param("<5", 4, True, id="lt-no-space"),
    pytest.param("[1..5]", 1, True, id="closed-low-end"),
    pytest.param("[1..5]", 5, True, id="closed-high-end"),
    pytest.param("[1..5]", 5.01, False, id="closed-above"),
    pytest.param("(1..5]", 1, False, id="open-paren-low-end"),
    pytest.param("(1..5]", 1.01, True, id="open-paren-inside"),
    pytest.param("]1..5]", 1, False, id="open-bracket-low-end"),
    pytest.param("[1..5)", 5, False, id="open-paren-high-end"),
    pytest.param("[1..5[", 5, False, id="open-bracket-high-end"),
    pytest.param("]1..5[", 3, True, id="open-both-inside"),
    pytest.param("[-5..-1]", -5, True, id="negative-range-low"),
    pytest.param("[-5..-1]", 0, False, id="negative-range-above"),
    pytest.param("[1.5..2.5]", 2.5, True, id="decimal-range"),
    pytest.param("1,7,9", 7, True, id="number-list-member"),
    pytest.param("1,7,9", 8, False, id="number-list-non-member"),
    pytest.param("< 0, > 10", 11, True, id="list-of-comparisons"),
    pytest.param("< 0, > 10", 5, False, id="list-of-comparisons-gap"),
    pytest.param("[1..2], [5..6]", 5, True, id="list-of-ranges"),
    pytest.param("not(1,2)", 3, True, id="not-list"),
    pytest.param("not(1,2)", 2, False, id="not-list-member"),
    pytest.param("not(< 5)", 5, True, id="not-comparison"),
    pytest.param("not([1..5])", 0, True, id="not-range"),
    pytest.param('"a"', "a", True, id="string"),
    pytest.param('"a"', "A", False, id="string-case-sensitive"),
    pytest.param('"a","b"', "b", True, id="string-list"),
    pytest.param('"a, b","c"', "a, b", True, id="string-with-comma"),
    pytest.param('"a, b","c"', "a", False, id="string-with-comma-not-split"),
    pytest.param(r'"say \"hi\""', 'say "hi"', True, id="string-escaped-quote"),
    pytest.param(r'"back\\slash"', "back\\slash", True, id="string-escaped-backslash"),
    pytest.param(r'"\u544a\u8beb"', "告诫", True, id="string-unicode-escape"),
    pytest.param('"告知提醒","通报预警"', "通报预警", True, id="string-chinese"),
    pytest.param('""', "", True, id="string-empty"),
    pytest.param('not("a")', "b", True, id="not-string"),
    pytest.param('< "m"', "b", True, id="string-comparison"),
    pytest.param('["a".."c"]', "b", True, id="string-range"),
    pytest.param("true", True, True, id="true"),
    pytest.param("true", False, False, id="true-false"),
    pytest.param("false", False, True, id="false"),
    pytest.param("true,false", False, True, id="boolean-list"),
    pytest.param("true,false", None, False, id="boolean-list-null"),
    pytest.param("null", None, True, id="null"),
    pytest.param("null", 0, False, id="null-zero"),
    pytest.param("not(null)", 0, True, id="not-null"),
    pytest.param("5", None, False, id="null-input-equality"),
    pytest.param("< 5", None, False, id="null-input-comparison"),
    pytest.param("[1..5]", None, False, id="null-input-range"),
    pytest.param("not(< 5)", None, False, id="null-input-not-comparison-is-null"),
    pytest.param("not(5)", None, True, id="null-input-not-equality"),
    pytest.param("null, > 5", None, True, id="null-in-list"),
    pytest.param('date("2025-01-01")', date(2025, 1, 1), True, id="date-equal"),
    pytest.param('date("2025-01-01")', "2025-01-01", True, id="date-equal-iso-string-input"),
    pytest.param('date("2025-01-01")', date(2025, 1, 2), False, id="date-unequal"),
    pytest.param('< date("2025-01-01")', date(2024, 12, 31), True, id="date-before"),
    pytest.param('>= date("2025-01-01")', "2025-01-01", True, id="date-ge-string"),
    pytest.param('[date("2025-01-01")..date("2025-12-31")]', date(2025, 12, 31), True, id="date-range-end"),
    pytest.param(
        '[date("2025-01-01")..date("2025-12-31"))', date(2025, 12, 31), False, id="date-range-open-end"
    ),
    pytest.param(
        '(date("2025-01-01")..date("2025-12-31")]', date(2025, 1, 1), False, id="date-range-open-start"
    ),
]


@pytest.mark.parametrize(("cell", "value", "expected"), CASES)
def test_unary_test_conformance(dmn_table: Build, cell: str, value: Any, expected: bool) -> None:
    """Each supported unary test matches exactly the values FEEL says it matches."""
    assert matches(dmn_table, cell, value) is expected


REFUSED = [
    pytest.param("foo", "is a name", id="variable"),
    pytest.param("基本称职", "text must be quoted", id="unquoted-chinese"),
    pytest.param("x > 5", "is a name", id="expression"),
    pytest.param("count(x)", "is a name", id="function"),
    pytest.param('"abc', "unterminated string", id="unterminated-string"),
    pytest.param('"a\\qb"', "unknown escape", id="bad-escape"),
    pytest.param("[5..1]", "empty range", id="reversed-range"),
    pytest.param("(5..5)", "empty range", id="empty-open-range"),
    pytest.param("[1..5", "must end with", id="unclosed-range"),
    pytest.param('[1.."z"]', "range ends", id="mixed-range"),
    pytest.param("< true", "needs a number", id="compare-boolean"),
    pytest.param("< null", "needs a number", id="compare-null"),
    pytest.param("= 5", "not a unary test", id="equals-sign"),
    pytest.param("!= 5", "not a unary test", id="not-equals-sign"),
    pytest.param("1 2", "unexpected", id="missing-comma"),
    pytest.param("1,", "missing at the end", id="trailing-comma"),
    pytest.param("not(1", "expected ')'", id="unclosed-not"),
    pytest.param("not(not(1))", "is a name", id="nested-not"),
    pytest.param('date("2025-1-1")', "YYYY-MM-DD", id="date-format"),
    pytest.param('date("2025-02-30")', "not a calendar date", id="date-invalid"),
    pytest.param("date(2025)", "takes one string", id="date-number"),
    pytest.param("1e5", "unexpected", id="exponent"),
    pytest.param("5 and 6", "unexpected", id="conjunction"),
    pytest.param("?", "unexpected", id="question-mark"),
]


@pytest.mark.parametrize(("cell", "problem"), REFUSED)
def test_unsupported_cells_are_refused_at_load(dmn_table: Build, cell: str, problem: str) -> None:
    """A cell outside the supported subset fails the load, naming rule and cell: never a silent non-match."""
    with pytest.raises(DecisionTableError) as caught:
        dmn_table(rules=[(["1"], ['"a"']), ([cell], ['"b"'])])
    error = caught.value
    assert problem in error.problem
    assert (error.path, error.decision, error.rule, error.cell) == ("table.dmn", "d", "Rule_2", "In_2_0")
    assert "rule 2" in str(error)


OUTPUTS = [
    pytest.param('"基本称职"', "基本称职", id="string"),
    pytest.param(r'"a \"b\", c"', 'a "b", c', id="string-quotes-comma"),
    pytest.param("12", 12, id="integer"),
    pytest.param("-2.5", -2.5, id="negative-decimal"),
    pytest.param("true", True, id="true"),
    pytest.param("false", False, id="false"),
    pytest.param("null", None, id="null"),
    pytest.param("", None, id="empty-is-null"),
    pytest.param('date("2025-03-01")', "2025-03-01", id="date-as-iso-string"),
]


@pytest.mark.parametrize(("cell", "value"), OUTPUTS)
def test_output_literals(dmn_table: Build, cell: str, value: Any) -> None:
    """Output entries are literals and come back as JSON types (dates as ISO strings)."""
    out = dmn_table(rules=[(["-"], [cell])]).decide("d", {"x": 1})
    assert out == {"out": value}
    assert type(out["out"]) is type(value)


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param("5 <", id="dangling-comparison"),
        pytest.param('"a","b"', id="list"),
        pytest.param("-", id="dash"),
        pytest.param("x +", id="broken-expression"),
    ],
)
def test_output_must_be_a_literal_or_an_expression(dmn_table: Build, cell: str) -> None:
    """An output cell that is neither a literal nor a FEEL expression is refused at load, naming the cell."""
    with pytest.raises(DecisionTableError) as caught:
        dmn_table(rules=[(["-"], [cell])])
    assert caught.value.cell == "Out_1_0"
    assert "neither a literal nor FEEL" in caught.value.problem


@pytest.mark.parametrize(
    ("cell", "value"),
    [pytest.param("x", 4, id="name"), pytest.param("x * 2 + 1", 9, id="arithmetic")],
)
def test_an_output_entry_may_be_a_feel_expression(dmn_table: Build, cell: str, value: int) -> None:
    """DMN 1.5 8.3: an output entry is any FEEL expression, evaluated on the scope for the matched rule;
    ``decide`` gives it in JSON types."""
    decisions = dmn_table(rules=[(["< 0"], ["0"]), (["-"], [cell])], hit_policy="FIRST")
    assert decisions.decide("d", {"x": 4}) == {"out": value}
    assert decisions.decide("d", {"x": -1}) == {"out": 0}


WRONG_KIND = [
    pytest.param("< 5", "5", id="string-vs-comparison"),
    pytest.param("[1..5]", "3", id="string-vs-range"),
    pytest.param("5", True, id="boolean-vs-number"),
    pytest.param('"a"', 1, id="number-vs-string"),
    pytest.param("true", 1, id="number-vs-boolean"),
    pytest.param('date("2025-01-01")', "01/01/2025", id="non-iso-string-vs-date"),
    pytest.param('< date("2025-01-01")', 20250101, id="number-vs-date"),
]


@pytest.mark.parametrize(("cell", "value"), WRONG_KIND)
def test_input_of_the_wrong_kind_raises(dmn_table: Build, cell: str, value: Any) -> None:
    """FEEL would answer null (a silent non-match); a policy table raises DecisionError naming the input."""
    with pytest.raises(DecisionError) as caught:
        matches(dmn_table, cell, value)
    assert caught.value.input == "x"
    assert caught.value.problem == "type"


def test_datetime_is_not_a_date(dmn_table: Build) -> None:
    """A datetime against a date cell is refused rather than silently truncated to its date."""
    from datetime import datetime

    with pytest.raises(DecisionError, match="must be a date"):
        matches(dmn_table, 'date("2025-01-01")', datetime(2025, 1, 1, tzinfo=UTC))


def _feel_number(value: int) -> str:
    return str(value)


@given(
    low=st.integers(-1000, 1000),
    width=st.integers(1, 500),
    value=st.integers(-1600, 1600),
    opening=st.sampled_from(["[", "(", "]"]),
    closing=st.sampled_from(["]", ")", "["]),
)
def test_ranges_agree_with_arithmetic(low: int, width: int, value: int, opening: str, closing: str) -> None:
    """A range matches exactly the numbers between its ends, each end included only when closed."""
    high = low + width
    cell = f"{opening}{_feel_number(low)}..{_feel_number(high)}{closing}"
    test = compile_unary_tests(cell).test
    assert test is not None
    above_low = value >= low if opening == "[" else value > low
    below_high = value <= high if closing == "]" else value < high
    assert bool(test(value)) is (above_low and below_high)


@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30))
def test_any_string_round_trips_through_a_quoted_cell(text: str) -> None:
    """A string literal with its quotes and backslashes escaped matches exactly the original text."""
    literal = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    test = compile_unary_tests(f'{literal}, "\\u0000never"').test
    assert test is not None
    assert test(text) is True
    assert test(text + "x") is False


@given(
    values=st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=8), probe=st.integers(-(10**6), 10**6)
)
def test_number_lists_are_membership(values: list[int], probe: int) -> None:
    """A list of numbers matches exactly its members; not(...) matches exactly the others."""
    cell = ",".join(str(v) for v in values)
    positive = compile_unary_tests(cell).test
    negative = compile_unary_tests(f"not({cell})").test
    assert positive is not None
    assert negative is not None
    assert positive(probe) is (probe in values)
    assert negative(probe) is (probe not in values)
