"""FEEL names (DMN 1.5 10.3.1.2, 10.3.2.6 scopes): names with spaces, keywords and the additional name
symbols; local names shadowing outer ones; unknown names; what ``reads`` reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from efficacy_flow.policy._expr import FeelError, compile_expression
from efficacy_flow.policy._feel import FeelSyntaxError


def feel(text: str, scope: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expression(text, **kwargs).evaluate(scope or {})


def test_names_with_spaces_need_no_declaration() -> None:
    assert feel("Monthly Salary * 12", {"Monthly Salary": 1000}) == Decimal(12000)
    assert feel("Monthly   Salary * 12", {"Monthly Salary": 1000}) == Decimal(12000)  # any whitespace


@pytest.mark.parametrize(
    "name",
    [
        "values in a list",
        "Years of Service",
        "Loan-Amount",
        "Applicant's age",
        "a.b",
        "x/y",
        "rate*2",
        "decision A 1",
    ],
)
def test_declared_names_may_hold_keywords_symbols_and_digits(name: str) -> None:
    compiled = compile_expression(f"{name} + 1", names=[name])
    assert compiled.evaluate({name: 41}) == Decimal(42)
    assert compiled.reads == {name}


def test_a_declared_name_wins_over_reading_its_parts() -> None:
    assert feel("a-b", {"a-b": 5, "a": 10, "b": 1}, names=["a-b"]) == Decimal(5)
    assert feel("a-b", {"a-b": 5, "a": 10, "b": 1}) == Decimal(9)


def test_keywords_end_a_name() -> None:
    assert feel(
        "for i in days in weekend return i", {"days in weekend": [1, 2]}, names=["days in weekend"]
    ) == [
        Decimal(1),
        Decimal(2),
    ]
    assert feel("a and b or c", {"a": True, "b": False, "c": True}) is True


def test_an_unknown_name_is_null_or_an_error_in_strict_mode() -> None:
    assert feel("missing + 1") is None
    with pytest.raises(FeelError, match="no value named 'missing'"):
        feel("missing + 1", strict=True)


def test_scope_values_are_read_as_feel_values() -> None:
    assert feel("x + y", {"x": 1, "y": 0.5}) == Decimal("1.5")
    assert feel("items[2]", {"items": (1, 2, 3)}) == Decimal(2)
    assert feel("p.age", {"p": {"age": 30}}) == Decimal(30)


def test_local_names_shadow_outer_ones_and_are_not_reads() -> None:
    compiled = compile_expression("for x in xs return x + y")
    assert compiled.evaluate({"xs": [1, 2], "x": 100, "y": 10}) == [Decimal(11), Decimal(12)]
    assert compiled.reads == {"xs", "y"}
    compiled = compile_expression("{a: 1, b: a + c}.b")
    assert compiled.evaluate({"a": 100, "c": 1}) == Decimal(2)
    assert compiled.reads == {"c"}
    compiled = compile_expression("(function(a) a * k)(2)")
    assert compiled.evaluate({"a": 100, "k": 3}) == Decimal(6)
    assert compiled.reads == {"k"}


def test_a_context_entry_is_a_name_after_its_own_value() -> None:
    compiled = compile_expression("{a: a + 1, b: a * 10}")
    assert compiled.evaluate({"a": 5}) == {"a": Decimal(6), "b": Decimal(60)}
    assert compiled.reads == {"a"}  # the first a is the outer one
    assert feel("{a: 1 + a}") == {"a": None}  # no outer a: null


def test_a_built_in_is_a_value_by_its_name() -> None:
    assert feel('f("abc")', {"f": None}, names=["f"]) is None  # a declared name holding no function
    assert feel('(string length)("abc")') == Decimal(3)
    assert feel("string length = string length") is True


def test_a_missing_built_in_is_refused_at_compile_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from efficacy_flow.policy import _feel_builtins

    library = {name: f for name, f in _feel_builtins.BUILTINS.items() if name not in ("sort", "max")}
    monkeypatch.setattr(_feel_builtins, "BUILTINS", library)
    with pytest.raises(FeelSyntaxError, match="'sort' is not available"):
        compile_expression("sort([2, 1])")
    with pytest.raises(FeelSyntaxError, match="'max' is not available"):
        compile_expression("max = mean")


def test_a_call_of_an_unknown_function_is_null_or_an_error_in_strict_mode() -> None:
    assert feel("non_existing_function()") is None  # DMN 1.5 10.3.2.13.2 (TCK 1131)
    with pytest.raises(FeelError, match="'non_existing_function' is null, not a function"):
        feel("non_existing_function()", strict=True)


def test_a_declared_name_may_be_called_when_the_scope_holds_a_function() -> None:
    from efficacy_flow.policy._feel_values import LambdaFunction

    double = LambdaFunction("double", ("n",), lambda scope: scope["n"] * 2)
    assert feel("double(4)", {"double": double}, names=["double"]) == Decimal(8)
    assert feel("double(4)", {"double": 5}, names=["double"]) is None


def test_question_mark_is_a_name() -> None:
    assert feel("? + 1", {"?": 1}) == Decimal(2)
