"""FEEL unary tests of decision-table input entries (DMN 1.5 grammar rule 17, 10.3.2.11):
``compile_unary_tests`` — ``-``, comma lists, ``not(…)``, comparisons, intervals, ``?``, expression values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from efficacy_flow.policy._expr import FeelError, compile_unary_tests
from efficacy_flow.policy._feel import FeelSyntaxError


def check(text: str, value: Any, scope: dict[str, Any] | None = None, **kwargs: Any) -> bool | None:
    return compile_unary_tests(text, **kwargs).test(value, scope or {})


@pytest.mark.parametrize("text", ["-", "", "  -  "])
def test_dash_or_empty_matches_anything(text: str) -> None:
    assert check(text, None) is True
    assert check(text, 5) is True


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("< 10", 5, True),
        ("< 10", 10, False),
        ("<= 10", 10, True),
        ("> 10", 10, False),
        (">= 10", 10, True),
        ("= 10", 10, True),
        ("!= 10", 10, False),
        ("!= 10", 11, True),
        ("[1..10]", 1, True),
        ("(1..10]", 1, False),
        ("]1..10[", 10, False),
        ("[1..10)", 9.5, True),
        ("5", 5, True),
        ("5", 6, False),
        ('"a"', "a", True),
        ('"a", "b"', "b", True),
        ('"a", "b"', "c", False),
        ("< 5, > 10", 7, False),
        ("< 5, > 10", 11, True),
        ("not(< 5, > 10)", 7, True),
        ("not(< 5, > 10)", 11, False),
        ('not("a")', "b", True),
        ("true", True, True),
        ("false", True, False),
        ("false", False, True),
        ("null", None, True),
        ("null", 1, False),
        ("[1, 2, 3]", 2, True),  # a list value holds the input
        ("[1, 2, 3]", 4, False),
        ("[[1..2], [5..6]]", 5, True),
        ("[1, 2]", [1, 2], True),  # ... or equals it when the input is a list
        ("[1..5]", None, None),
        ("< 5", None, None),
        ("< 5", "a", None),
    ],
)
def test_positive_unary_tests(text: str, value: Any, expected: Any) -> None:
    assert check(text, value) is expected


def test_question_mark_binds_the_input() -> None:
    assert check("? > 5", 6) is True
    assert check("? > 5", 4) is False
    assert check("? > 5", None) is None
    assert check("? + 1 = 3, ? = 10", 10) is True
    assert check("not(? > 5)", 4) is True
    assert check("string length(?) > 2", "abcd") is True
    assert check("? * 2", 3) is None  # not a boolean: no match


def test_names_of_the_scope() -> None:
    compiled = compile_unary_tests("[Min Age..Max Age], = Special", names=["Min Age", "Max Age", "Special"])
    scope = {"Min Age": 18, "Max Age": 65, "Special": 99}
    assert compiled.test(30, scope) is True
    assert compiled.test(99, scope) is True
    assert compiled.test(70, scope) is False
    assert compiled.reads == {"Min Age", "Max Age", "Special"}


def test_an_expression_that_is_true_holds_and_any_other_value_is_compared() -> None:
    assert check("x > 5", 1, {"x": 10}) is True  # a condition on other names
    assert check("x > 5", True, {"x": 1}) is False
    assert check("x > 5", False, {"x": 1}) is True  # the value false equals the input false
    assert check("x > 5", "a", {"x": 1}) is None
    assert check("true", False) is False  # a simple value is compared, even a boolean one
    assert check("flag", False, {"flag": True}) is False
    assert check("p.flag", True, {"p": {"flag": True}}) is True


def test_a_list_of_tests_is_null_when_none_matches_and_one_is_null() -> None:
    assert check("< 5, > x", 7, {"x": None}) is None
    assert check("< 5, > x", 3, {"x": None}) is True


@pytest.mark.parametrize(("text", "value"), [("< 5", "a"), ('"a"', 5), ("[1..5]", "x"), ("> x", 1)])
def test_a_value_of_the_wrong_kind_is_no_match_or_raises_in_strict_mode(text: str, value: Any) -> None:
    scope = {"x": "text"}
    assert check(text, value, scope) is None
    with pytest.raises(FeelError, match="cannot be applied"):
        check(text, value, scope, strict=True)
    assert check(text, None, scope, strict=True) is not True  # a null input is no error, and no match


def test_a_list_value_holds_or_not_even_of_another_kind() -> None:
    assert check("[1, 2]", "x", strict=True) is False


def test_an_error_is_no_match_or_raises_in_strict_mode() -> None:
    assert check("< 1 / 0", 5) is None
    with pytest.raises(FeelError):
        check("? > 1 / 0", 5, strict=True)


@pytest.mark.parametrize("text", ["< ", "[1..", "1,", "not(1", "not(a: 1)"])
def test_text_outside_the_grammar_is_refused(text: str) -> None:
    with pytest.raises(FeelSyntaxError):
        compile_unary_tests(text)


def test_numbers_are_compared_as_feel_numbers() -> None:
    assert check("= 0.1", 0.1) is True
    assert check("[1..2]", Decimal("1.5")) is True
