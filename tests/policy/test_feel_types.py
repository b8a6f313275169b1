"""FEEL types (DMN 1.5 10.3.2.9): the type grammar, conformance (``instance of``) and the conversions of
10.3.2.9.4 (null for a value that does not conform, singleton lists), and item definitions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from efficacy_flow.policy._feel_temporal import DayTimeDuration, FeelTime, YearMonthDuration
from efficacy_flow.policy._feel_types import FeelType, coerce, conforms, item_definition, parse_type
from efficacy_flow.policy._feel_values import FeelError, FeelRange, LambdaFunction

NUMBER = FeelType("number")
STRING = FeelType("string")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("number", "number"),
        ("date and time", "date and time"),
        ("days and time duration", "days and time duration"),
        ("years and months duration", "years and months duration"),
        ("Any", "Any"),
        ("Null", "Null"),
        ("list<string>", "list<string>"),
        ("list< list<number> >", "list<list<number>>"),
        ("context<a: number, full name: string>", "context<a: number, full name: string>"),
        ("function<number, string>->boolean", "function<number, string>->boolean"),
        ("function<>->number", "function<>->number"),
        ("range<date>", "range<date>"),
        ("feel:string", "string"),
        ("dateTime", "date and time"),
        ("integer", "number"),
    ],
)
def test_the_type_grammar(text: str, expected: str) -> None:
    assert str(parse_type(text)) == expected


@pytest.mark.parametrize("text", ["list<number", "context<a number>", "strings", "function<number>", ""])
def test_a_type_that_cannot_be_read_is_a_feel_error(text: str) -> None:
    with pytest.raises(FeelError):
        parse_type(text)


def test_item_definitions_are_found_by_name() -> None:
    person = FeelType("context", fields=(("name", STRING),))
    named = {"tPerson": person, "my.tPerson": person}
    assert parse_type("tPerson", named) is person
    assert parse_type("my.tPerson", named) is person
    assert parse_type("list<tPerson>", named) == FeelType("list", (person,))


def function() -> LambdaFunction:
    return LambdaFunction("f", ("a",), lambda scope: scope["a"])


VALUES: list[tuple[Any, str]] = [
    (Decimal(1), "number"),
    ("a", "string"),
    (True, "boolean"),
    (date(2025, 1, 1), "date"),
    (datetime(2025, 1, 1, 10, 0), "date and time"),
    (FeelTime(10, 0, Decimal(0)), "time"),
    (DayTimeDuration(Decimal(60)), "days and time duration"),
    (YearMonthDuration(3), "years and months duration"),
    ([Decimal(1)], "list"),
    ({"a": Decimal(1)}, "context"),
    (FeelRange(Decimal(1), True, Decimal(2), False), "range"),
]


@pytest.mark.parametrize(("value", "name"), VALUES)
def test_a_value_conforms_to_its_own_type_and_to_any_but_to_no_other(value: Any, name: str) -> None:
    assert conforms(value, FeelType(name))
    assert conforms(value, FeelType("Any"))
    assert not conforms(value, FeelType("Null"))
    for _, other in VALUES:
        if other != name:
            assert not conforms(value, FeelType(other)), other
    assert not conforms(value, FeelType("function"))


def test_null_is_an_instance_of_null_only() -> None:
    """TCK 0070: ``null instance of Any`` is false."""
    assert conforms(None, FeelType("Null"))
    for _, name in VALUES:
        assert not conforms(None, FeelType(name))
    assert not conforms(None, FeelType("Any"))


def test_functions_conform_to_function_types() -> None:
    assert conforms(function(), FeelType("function"))
    assert conforms(function(), parse_type("function<number>->number"))
    assert not conforms(function(), NUMBER)


def test_lists_conform_element_wise_and_null_elements_conform() -> None:
    numbers = parse_type("list<number>")
    assert conforms([Decimal(1), None, Decimal(2)], numbers)
    assert not conforms([Decimal(1), "x"], numbers)
    assert conforms([], numbers)
    assert conforms([[Decimal(1)]], parse_type("list<list<number>>"))


def test_a_context_conforms_when_it_has_at_least_the_entries() -> None:
    """TCK 0082: extra entries are allowed; a missing one is not."""
    name_and_age = parse_type("context<name: string, age: number>")
    assert conforms({"name": "a", "age": Decimal(3), "extra": True}, name_and_age)
    assert not conforms({"name": "a"}, name_and_age)
    assert not conforms({"name": "a", "age": "3"}, name_and_age)


def test_ranges_conform_by_their_endpoints() -> None:
    assert conforms(FeelRange(Decimal(1), True, None, False), parse_type("range<number>"))
    assert not conforms(FeelRange("a", True, "b", True), parse_type("range<number>"))


def test_conversion_keeps_null_and_conforming_values() -> None:
    assert coerce(None, NUMBER) is None
    assert coerce(Decimal(2), NUMBER) == Decimal(2)
    assert coerce("x", FeelType("Any")) == "x"


def test_conversion_of_singleton_lists() -> None:
    """TCK 0021/0082: a singleton list to its element, an element to a singleton list, where the type asks."""
    assert coerce(["foo"], STRING) == "foo"
    assert coerce("foo", parse_type("list<string>")) == ["foo"]
    with pytest.raises(FeelError):
        coerce([Decimal(1)], STRING)  # a singleton list whose element does not conform
    with pytest.raises(FeelError):
        coerce("foo", parse_type("list<number>"))


def test_a_value_that_does_not_conform_is_an_error() -> None:
    with pytest.raises(FeelError, match="does not conform to type number"):
        coerce("2", NUMBER)
    with pytest.raises(FeelError):
        coerce([Decimal(1), "foo"], parse_type("list<number>"))


def test_item_definition_constraints_are_checked_by_conversion_not_by_conformance() -> None:
    """TCK 0070: ``instance of`` does not look at allowedValues; a typed value outside them is null."""
    grade = item_definition("tGrade", STRING, allowed=lambda value: value in ("A", "B"))
    assert str(grade) == "tGrade"
    assert conforms("C", grade)
    assert coerce("A", grade) == "A"
    with pytest.raises(FeelError):
        coerce("C", grade)


def test_a_collection_item_definition_constrains_each_element_and_the_whole() -> None:
    short = item_definition(
        "tShort",
        NUMBER,
        collection=True,
        allowed=lambda value: value > 0,
        constraint=lambda value: len(value) <= 2,
    )
    assert coerce([Decimal(1), Decimal(2)], short) == [Decimal(1), Decimal(2)]
    assert coerce(Decimal(1), short) == [Decimal(1)]
    with pytest.raises(FeelError):
        coerce([Decimal(-1)], short)
    with pytest.raises(FeelError):
        coerce([Decimal(1), Decimal(2), Decimal(3)], short)
