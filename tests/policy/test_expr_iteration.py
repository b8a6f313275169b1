"""FEEL iteration, filters and paths (DMN 1.5 10.3.2.5, 10.3.2.14, 10.3.2.15): ``for`` with ``partial`` and
range domains, ``some``/``every``, ``L[cond]`` and ``L[i]``, ``a.b`` on contexts, lists and ranges; bounds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from efficacy_flow.policy import _expr
from efficacy_flow.policy._expr import FeelError, compile_expression
from efficacy_flow.policy._feel import FeelSyntaxError


def feel(text: str, scope: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expression(text, **kwargs).evaluate(scope or {})


def numbers(*values: int) -> list[Decimal]:
    return [Decimal(value) for value in values]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("for i in [1,2,3] return i + 1", numbers(2, 3, 4)),
        ("for i in [1,2,3], j in [4,5] return i + j", numbers(5, 6, 6, 7, 7, 8)),
        ("for i in [] return i", []),
        ("for i in 2..4 return i", numbers(2, 3, 4)),
        ("for i in 4..2 return i", numbers(4, 3, 2)),
        ("for i in -1..1 return i", numbers(-1, 0, 1)),
        ("for i in 1..1 return i", numbers(1)),
        ("for i in 1+1..1+3 return i", numbers(2, 3, 4)),
        ("for x in [[1,2], [3,4]], y in x return y", numbers(1, 2, 3, 4)),
        ("for x in [[1,2], [3,4]] return for y in x return y", [numbers(1, 2), numbers(3, 4)]),
        ("for i in 0..4 return if i = 0 then 1 else i * partial[-1]", numbers(1, 1, 2, 6, 24)),
    ],
)
def test_for(text: str, expected: Any) -> None:
    assert feel(text) == expected


def test_for_over_a_range_of_dates() -> None:
    days = feel("for d in a..b return d", {"a": date(1980, 1, 1), "b": date(1980, 1, 3)})
    assert days == [date(1980, 1, 1), date(1980, 1, 2), date(1980, 1, 3)]


@pytest.mark.parametrize(
    "text", ['for i in "a".."z" return i', "for i in 1..1.5 return i", "for i in 5 return i"]
)
def test_a_domain_that_cannot_be_iterated_is_null(text: str) -> None:
    assert feel(text) is None
    with pytest.raises(FeelError, match="iterate"):
        feel(text, strict=True)


def test_iterations_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    assert feel("for i in 1..2000000 return i") is None
    with pytest.raises(FeelError, match="more than 1,000,000"):
        feel("for i in 1..2000000 return i", strict=True)
    monkeypatch.setattr(_expr, "MAX_ITERATIONS", 10)
    assert len(feel("for i in 1..5, j in 1..2 return i")) == 10
    with pytest.raises(FeelError, match="more than 10 iterations"):
        feel("for i in 1..5, j in 1..3 return i", strict=True)


def test_all_the_loops_of_an_evaluation_share_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_expr, "MAX_WORK", 100)
    assert len(feel("for i in 1..9 return for j in 1..10 return j")) == 9  # 9 + 90 items
    text = "for i in 1..10 return for j in 1..10 return j"  # 10 + 100 items
    assert feel(text) is None
    with pytest.raises(FeelError, match="more than 100 items"):
        feel(text, strict=True)
    assert feel("[1, 2, 3][item > 1]") == numbers(2, 3)  # a new evaluation, a new budget
    inner = compile_expression("for j in 1..10 return j")  # a function evaluated inside: the same budget
    from efficacy_flow.policy._feel_values import LambdaFunction

    f = LambdaFunction("f", (), inner.evaluate)
    results = feel("for i in 1..10 return f()", {"f": f}, names=["f"])  # 10 + 10 x 10 items
    assert results[:9] == [numbers(*range(1, 11))] * 9
    assert results[9] is None  # the tenth call finds the budget spent


def test_nesting_is_bounded() -> None:
    assert feel("(" * 300 + "1" + ")" * 300) == Decimal(1)  # parentheses add no level
    assert feel("[" * 50 + "]" * 50) is not None
    with pytest.raises(FeelSyntaxError, match="deeper than"):
        compile_expression("[" * 300 + "]" * 300)
    with pytest.raises(FeelSyntaxError, match="deeper than"):
        compile_expression("-" * 300 + "1")
    with pytest.raises(FeelSyntaxError, match="deeper than"):
        compile_expression(" + ".join(["1"] * 500))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("some x in [1, 2, 3] satisfies x > 2", True),
        ("some x in [1, 2, 3] satisfies x > 3", False),
        ("some x in [1, null] satisfies x > 1", None),
        ("some x in [1, null, 3] satisfies x > 2", True),
        ("some x in [] satisfies x > 2", False),
        ("every x in [1, 2, 3] satisfies x > 0", True),
        ("every x in [1, 2, 3] satisfies x > 1", False),
        ("every x in [2, null] satisfies x > 1", None),
        ("every x in [0, null] satisfies x > 1", False),
        ("every x in [] satisfies x > 1", True),
        ("some x in [1, 2], y in [2, 3] satisfies x = y", True),
        ("every x in [1, 2], y in [2, 3] satisfies x < y", False),
    ],
)
def test_some_and_every_are_three_valued(text: str, expected: Any) -> None:
    assert feel(text) is expected


def test_some_reads_records() -> None:
    table = [{"price": 5}, {"price": 15}]
    assert feel("some i in t satisfies i.price > 10", {"t": table}) is True
    assert feel("every i in t satisfies i.price > 10", {"t": table}) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2, 3, 4][item > 2]", numbers(3, 4)),
        ("[1, 2, 3][item > 5]", []),
        ("[][item > 5]", []),
        ("[1, 2, 3][1]", Decimal(1)),
        ("[1, 2, 3][-1]", Decimal(3)),
        ("[1, 2, 3][-3]", Decimal(1)),
        ("[1, 2, 3][4]", None),
        ("[1, 2, 3][0]", None),
        ("[1, 2, 3][-4]", None),
        ("[][1]", None),
        ("true[1]", True),
        ('"foo"[1]', "foo"),
        ("100[item > 50]", numbers(100)),
        ("null[1]", None),
        ("[{a: 1}, {a: 2}, {a: 3}][a >= 2]", [{"a": 2}, {"a": 3}]),
        ("[{item: 1}, {item: 2}, {item: 3}][item >= 2]", [{"item": 2}, {"item": 3}]),  # the entry wins
        ("[{a: 1}, {a: 2}][item.a = 2]", [{"a": 2}]),
    ],
)
def test_filters(text: str, expected: Any) -> None:
    assert feel(text) == expected


def test_a_filter_sees_the_outer_scope_but_elements_shadow_it() -> None:
    people = [{"name": "a", "dept": 10}, {"name": "b", "dept": 20}]
    assert feel("Employees[dept = 20].name", {"Employees": people}) == ["b"]
    assert feel("xs[item > limit]", {"xs": [1, 5, 9], "limit": 4}) == numbers(5, 9)
    compiled = compile_expression("Employees[dept = d].name", names=["Employees", "d"])
    assert compiled.reads == {"Employees", "d"}  # "dept" is an element's entry, not a read


def test_paths() -> None:
    assert feel('{a: "foo"}.a') == "foo"
    assert feel("{a: {b: 1}}.a.b") == Decimal(1)
    assert feel("[{b: 1}, {b: [2.1, 2.2]}, {b: 3}].b") == [
        Decimal(1),
        [Decimal("2.1"), Decimal("2.2")],
        Decimal(3),
    ]
    assert feel("[{a: {b: 1}}, {a: {b: 2}}].a.b") == numbers(1, 2)
    assert feel("[{a: 1}, {c: 2}].a") == [Decimal(1), None]
    assert feel("null.b") is None
    assert feel("{a: 1}.b") is None
    with pytest.raises(FeelError, match="no entry 'b'"):
        feel("{a: 1}.b", strict=True)
    assert feel("(5).b") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1..10].start", Decimal(1)),
        ("[1..10].end", Decimal(10)),
        ("[1..10].start included", True),
        ("(1..10].start included", False),
        ("[1..10[.end included", False),
        ("(< 10).start", None),
        ("(< 10).start included", False),
        ("(<= 10).end included", True),
        ("(>= 10).start included", True),
        ("(= 10).start included", True),
        ("(!= 10).start included", False),
    ],
)
def test_range_properties(text: str, expected: Any) -> None:
    assert feel(text) == expected
