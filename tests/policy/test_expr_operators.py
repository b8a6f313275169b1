"""FEEL operators (DMN 1.5 10.3.2.2–10.3.2.8): arithmetic with FEEL's types, comparison, three-valued logic,
``between``, ``in``, ``if``; errors are null, or a FeelError in strict mode."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from efficacy_flow.policy import _expr, _feel_temporal
from efficacy_flow.policy._expr import FeelError, compile_expression
from efficacy_flow.policy._feel_temporal import DayTimeDuration


def feel(text: str, scope: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expression(text, **kwargs).evaluate(scope or {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),
        ("12 / 4 / 3", Decimal(1)),
        ("2 ** 10", Decimal(1024)),
        ("3 ** 4 ** 5", Decimal(3486784401)),  # left associative (TCK 0075)
        ("-3 ** 2", Decimal(9)),  # (-3) ** 2 (TCK 0075)
        ("2 ** -1", Decimal("0.5")),
        ("-(1 + 2)", Decimal(-3)),
        ("-(function(a) a)(10)", Decimal(-10)),
        ('"foo" + "bar"', "foobar"),
    ],
)
def test_arithmetic(text: str, expected: Any) -> None:
    assert feel(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1 / 0",
        '1 + "a"',
        '"a" - "b"',
        "true + 1",
        '"foo" ** 4',
        "[2] ** 4",
        "{a: 2} ** 4",
        '-"10"',
        "-[10]",
        "-{a: 1}",
        "-[1..5]",
        "10 ** 100000",  # decimal128 overflows
        "(function() 1) + 1",
    ],
)
def test_arithmetic_without_a_value_is_null_or_an_error_in_strict_mode(text: str) -> None:
    assert feel(text) is None
    with pytest.raises(FeelError):
        feel(text, strict=True)


@pytest.mark.parametrize("text", ["null + 1", "1 - null", "null * null", "null / 2", "null ** 2", "-null"])
def test_null_operands_give_null_even_in_strict_mode(text: str) -> None:
    assert feel(text) is None
    assert feel(text, strict=True) is None


def test_a_string_result_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_expr, "MAX_STRING", 10)
    assert feel('"12345" + "678"') == "12345678"
    assert feel('"123456" + "78901"') is None
    with pytest.raises(FeelError, match="more than"):
        feel('"123456" + "78901"', strict=True)


def test_temporal_operands_go_to_the_temporal_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arithmetic on a temporal value is ``_feel_temporal``'s; its FeelError is null (or raised, strict)."""
    calls: list[tuple[str, Any, Any]] = []

    def add(a: Any, b: Any) -> Any:
        calls.append(("add", a, b))
        return DayTimeDuration(a.seconds + b.seconds)

    def multiply(a: Any, b: Any) -> Any:
        raise FeelError("no product here")

    def negate(a: Any) -> Any:
        return DayTimeDuration(-a.seconds)

    monkeypatch.setattr(_feel_temporal, "add", add)
    monkeypatch.setattr(_feel_temporal, "multiply", multiply)
    monkeypatch.setattr(_feel_temporal, "negate", negate)
    one, two = DayTimeDuration(Decimal(1)), DayTimeDuration(Decimal(2))
    assert feel("a + b", {"a": one, "b": two}) == DayTimeDuration(Decimal(3))
    assert calls == [("add", one, two)]
    assert feel("-a", {"a": one}) == DayTimeDuration(Decimal(-1))
    assert feel("a * 2", {"a": one}) is None
    with pytest.raises(FeelError, match="no product here"):
        feel("a * 2", {"a": one}, strict=True)
    assert feel("a ** 2", {"a": one}) is None  # no exponent of a temporal value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("null = null", True),
        ("null != null", False),
        ("true = null", False),
        ('"foo" = null', False),
        ("0 = 0.00", True),
        ("-0 = 0", True),
        ('"foo" = "Foo"', False),
        ('"foo" != "Foo"', True),
        ("[1,2,3] = [1,2,3]", True),
        ("[1,2,3] = [3,2,1]", False),
        ("{a: 1, b: 2} = {b: 2, a: 1}", True),
        ('{foo: "bar"} = {"foo": "bar"}', True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ('"b" > "a"', True),
        ("1 >= 2", False),
        ("(function() 1) = (function() 1)", False),
    ],
)
def test_comparison(text: str, expected: bool) -> None:
    assert feel(text) is expected


@pytest.mark.parametrize(
    "text", ['100 = "100"', "false = 0", "[100] = 100", "{} = []", '1 < "a"', "true < false"]
)
def test_comparing_different_kinds_is_null_or_an_error_in_strict_mode(text: str) -> None:
    assert feel(text) is None
    with pytest.raises(FeelError, match="cannot be compared"):
        feel(text, strict=True)


def test_ordering_with_null_is_null() -> None:
    assert feel("null < 1") is None
    assert feel("1 >= null", strict=True) is None


@pytest.mark.parametrize(
    ("a", "b", "conjunction", "disjunction"),
    [
        (True, True, True, True),
        (True, False, False, True),
        (False, None, False, None),
        (True, None, None, True),
        (None, None, None, None),
        (False, "x", False, None),  # a non-boolean is null
        (True, Decimal(1), None, True),
    ],
)
def test_and_or_are_three_valued(a: Any, b: Any, conjunction: Any, disjunction: Any) -> None:
    scope = {"a": a, "b": b}
    assert feel("a and b", scope) is conjunction
    assert feel("b and a", scope) is conjunction
    assert feel("a or b", scope) is disjunction
    assert feel("b or a", scope) is disjunction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 between 1 and 10", True),
        ("1 between 1 and 10", True),
        ("10 between 1 and 10", True),
        ("11 between 1 and 10", False),
        ('"b" between "a" and "c"', True),
        ("null between 1 and 10", None),
        ("5 between null and 10", None),
        ('5 between "a" and 10', None),
        ("5 between 1 and 10 and true", True),
    ],
)
def test_between(text: str, expected: Any) -> None:
    assert feel(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 in [2, 3, 1]", True),
        ("1 in [2, 3, 4]", False),
        ("1 in [[2..4], [1..3]]", True),
        ("5 in [[2..4], [1..3]]", False),
        ("10 in <= 10", True),
        ("10 in < 10", False),
        ("2 in (2..4)", False),
        ("4 in (2..4]", True),
        ('"c" in ["b".."d"]', True),
        ("1 in 1", True),
        ("10 in (1, < 5, >= 10)", True),
        ("10 in (1, 5, 9)", False),
        ("10 in =10", True),
        ("10 in (!=10)", False),
        ("true in [false, 2, 3]", False),
        ("true in true", True),
        ("[1,2,3] in [[1,2,3], [1,2,3,4]]", True),
        ("[1,2,2] in [[1,2,3], [1,2,3,4]]", False),
        ("[1,2,3] in ([[1,2,3,4]], [[1,2,3,5]])", False),
        ("[1,2,3] in ([1,2,3,4], [1,2,3])", True),  # in a list of tests, a list may equal the value
        ("[1,2,3] in [1,2,3]", False),  # one list: membership only
        ('{a: "foo"} in [{b: "bar"}, {a: "foo"}]', True),
        ("null in [1..10]", None),
        ("5 in (null..10]", None),
        ("5 in [1..null]", None),
        ("null in null", True),
        ("null in [1, null]", True),
    ],
)
def test_in(text: str, expected: Any) -> None:
    assert feel(text) is expected


def test_in_reads_names_of_the_scope() -> None:
    assert feel("x in [lo..hi]", {"x": 5, "lo": 1, "hi": 9}) is True
    assert feel("x in (< lo, > hi)", {"x": 5, "lo": 1, "hi": 9}) is False


def test_a_parenthesised_list_is_only_for_in() -> None:
    with pytest.raises(Exception, match="only unary tests"):
        compile_expression("(1, 2)")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [(True, "yes"), (False, "no"), (None, "no"), ("text", "no"), (Decimal(1), "no")],
)
def test_if_takes_then_only_when_the_condition_is_true(condition: Any, expected: str) -> None:
    assert feel('if c then "yes" else "no"', {"c": condition}) == expected


def test_if_evaluates_only_the_branch_taken() -> None:
    assert feel("if true then 1 else 1 / 0", strict=True) == Decimal(1)


def test_precedence_of_comparison_and_logic() -> None:
    assert feel("1 + 1 = 2 and 2 * 2 = 4 or false") is True
    assert feel("not(1 = 2)") is True
