"""FEEL literals (DMN 1.5 10.3.1, 10.3.2.1): numbers, strings and their escapes, booleans, null, lists,
contexts, ranges and comments, as ``compile_expression`` reads them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from efficacy_flow.policy._expr import compile_expression
from efficacy_flow.policy._feel import FeelSyntaxError
from efficacy_flow.policy._feel_values import ComparisonRange, FeelRange


def feel(text: str, scope: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expression(text, **kwargs).evaluate(scope or {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", Decimal(1)),
        ("1.5", Decimal("1.5")),
        (".25", Decimal("0.25")),
        ("1.23e4", Decimal(12300)),
        ("1.23e+4", Decimal(12300)),
        ("1.23e-4", Decimal("0.000123")),
        ("-7", Decimal(-7)),
        ("--7", Decimal(7)),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_scalar_literals(text: str, expected: Any) -> None:
    got = feel(text)
    assert got == expected
    assert type(got) is type(expected)


def test_numbers_are_decimal128() -> None:
    assert feel("1 / 3") == Decimal("0.3333333333333333333333333333333333")  # 34 digits, half even
    assert feel("0.1 + 0.2") == Decimal("0.3")
    with pytest.raises(FeelSyntaxError, match="decimal128"):
        compile_expression("1e999999999")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r'"plain"', "plain"),
        (r'"a \"quoted\" word"', 'a "quoted" word'),
        (r'"back\\slash"', "back\\slash"),
        (r'"tab\tnew\nline\r"', "tab\tnew\nline\r"),
        (r'"\u0041\u00e9"', "Aé"),
        (r'"\U01F40E"', "\U0001f40e"),
        (r'"\uD83D\uDCA9"', "\U0001f4a9"),  # a surrogate pair is one character
        (r'"\ud83d\udc0e\uD83D\uDE00"', "\U0001f40e\U0001f600"),
        (r'"\\u0009"', "\\u0009"),  # an escaped backslash, then text
        (r'"\s+"', "\\s+"),  # other escapes stay as written (regular expressions use them)
        ('"two\nlines"', "two\nlines"),
    ],
)
def test_string_literals_and_escapes(text: str, expected: str) -> None:
    assert feel(text) == expected


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(FeelSyntaxError, match="surrogate"):
        compile_expression(r'"\uD83D"')


def test_list_literals() -> None:
    assert feel("[]") == []
    assert feel('[1, 2 + 1, "x", [true]]') == [Decimal(1), Decimal(3), "x", [True]]
    assert feel("[] = []") is True


def test_context_literals_see_earlier_entries() -> None:
    assert feel('{a: 1, "b c": 2, d: a + 1}') == {"a": Decimal(1), "b c": Decimal(2), "d": Decimal(2)}
    assert feel("{a: 1 + 2, b: 3, c: {d: a + b}}") == {"a": 3, "b": 3, "c": {"d": 6}}
    assert feel("{}") == {}


def test_context_keys_with_spaces_and_symbols() -> None:
    assert feel('{foo bar: "x"}') == {"foo bar": "x"}
    assert feel('{foo+bar: "x"}') == {"foo+bar": "x"}
    assert feel('{"foo+bar((!!],foo": "x"}') == {"foo+bar((!!],foo": "x"}
    assert feel('{"": "x"}') == {"": "x"}
    assert feel("{first name: 1, greeting: first name + 1}.greeting") == Decimal(2)


def test_a_context_with_a_duplicate_key_is_null_or_an_error_in_strict_mode() -> None:
    assert feel('{foo: "bar", foo: "baz"}') is None
    with pytest.raises(Exception, match="twice"):
        feel('{foo: "bar", foo: "baz"}', strict=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1..10]", FeelRange(Decimal(1), True, Decimal(10), True)),
        ("(1..10]", FeelRange(Decimal(1), False, Decimal(10), True)),
        ("]1..10]", FeelRange(Decimal(1), False, Decimal(10), True)),
        ("[1..10)", FeelRange(Decimal(1), True, Decimal(10), False)),
        ("[1..10[", FeelRange(Decimal(1), True, Decimal(10), False)),
        ("]1..10[", FeelRange(Decimal(1), False, Decimal(10), False)),
        ('["a".."z"]', FeelRange("a", True, "z", True)),
        ("< 10", ComparisonRange(None, False, Decimal(10), False, "<")),
        ("<= 10", ComparisonRange(None, False, Decimal(10), True, "<=")),
        ("> 10", ComparisonRange(Decimal(10), False, None, False, ">")),
        (">= 10", ComparisonRange(Decimal(10), True, None, False, ">=")),
        ("(= 10)", ComparisonRange(Decimal(10), True, Decimal(10), True, "=")),
    ],
)
def test_range_literals(text: str, expected: FeelRange) -> None:
    got = feel(text)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1..10] = [1..10]", True),
        ("(1..10] = ]1..10]", True),
        ("[1..2] = [1..3]", False),
        ("(< 10) = (< 10)", True),
        ("(< 10) = (null..10)", False),  # a null endpoint is not an unbounded one (TCK 0068)
        ("(= 10) = [10..10]", False),
        ("(!= 10) = (!= 10)", True),
    ],
)
def test_range_equality(text: str, expected: bool) -> None:
    assert feel(text) is expected


def test_a_range_of_values_that_cannot_be_ordered_is_null() -> None:
    assert feel('[1.."a"]') is None
    assert feel("[1..null]") is None


@pytest.mark.parametrize(
    "text",
    ["1 + /* 1 + */ 1", "1 + // end of line\n 1", "/* intro\n waffle */ 1 + 1 // and stuff"],
)
def test_comments_are_ignored(text: str) -> None:
    assert feel(text) == Decimal(2)


def test_a_comment_marker_inside_a_string_is_text() -> None:
    assert feel('"a // b /* c */"') == "a // b /* c */"


@pytest.mark.parametrize("text", ["", "   ", "1 +", "[1, 2", '"open', "{a: 1", "1 ++ 2", "if x then y", "#"])
def test_text_outside_feel_is_refused_at_compile_time(text: str) -> None:
    with pytest.raises(FeelSyntaxError):
        compile_expression(text)


def test_unicode_names_and_values() -> None:
    assert feel('{🐎: "😀"}') == {"🐎": "😀"}
    assert feel('"\\U01F40E" = "🐎"') is True


def test_at_literals_are_read_by_the_temporal_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """``@"…"`` is ``_feel_temporal.parse_at_literal``'s; one it cannot read is null, once it reads any."""
    from datetime import date

    from efficacy_flow.policy import _feel_temporal
    from efficacy_flow.policy._expr import FeelError

    def parse(text: str) -> Any:
        if text == "foo":
            raise FeelError("not a date, time or duration")
        return date.fromisoformat(text)

    monkeypatch.setattr(_feel_temporal, "parse_at_literal", parse)
    assert feel('@"2019-03-31"') == date(2019, 3, 31)
    assert feel('@"foo"') is None
    with pytest.raises(FeelError, match="not a date"):
        feel('@"foo"', strict=True)


def test_an_at_literal_the_engine_cannot_hold_is_refused_when_evaluated() -> None:
    from efficacy_flow.errors import DecisionError

    compiled = compile_expression('@"-2021-01-01T10:10:10+11:00"')  # loads: one cell refuses no model
    with pytest.raises(DecisionError, match="outside what this engine holds"):
        compiled.evaluate({})
