"""FEEL's built-in functions (``_feel_builtins.BUILTINS``, DMN 1.5 10.3.4) called directly: the TCK cases the
generated table cannot hold (function arguments, values computed by other decisions, context entries), the
invocation rules, and the behaviour the TCK does not pin down (string forms, regex translation, bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from efficacy_flow.policy import _feel_builtins, _feel_signatures, _feel_temporal
from efficacy_flow.policy._feel_builtins import BUILTINS
from efficacy_flow.policy._feel_ranges import parse_range
from efficacy_flow.policy._feel_regex import MAX_INPUT, MAX_PATTERN, compile_xpath
from efficacy_flow.policy._feel_temporal import DayTimeDuration, FeelTime, YearMonthDuration
from efficacy_flow.policy._feel_values import FeelError, FeelRange, LambdaFunction, compare, equal


def call(name: str, *positional: Any, **named: Any) -> Any:
    """``name(positional…)`` or, given keywords, ``name(named…)`` (underscores stand for spaces)."""
    if named:
        return BUILTINS[name].invoke(None, {key.replace("_", " "): value for key, value in named.items()})
    return BUILTINS[name].invoke(list(positional), None)


def function(parameters: tuple[str, ...], body: Callable[[Mapping[str, Any]], Any]) -> LambdaFunction:
    return LambdaFunction("f", parameters, body)


def n(*values: int | str) -> list[D]:
    return [D(value) for value in values]


# --- TCK cases with function arguments or computed inputs ---------------------------------------------------

TABLE_B = [
    {"col1": D(16), "col2": D(4), "col3": D(25), "col4": D(1)},
    {"col1": D(16), "col2": D(43), "col3": D(2), "col4": D(10)},
    {"col1": D(1), "col2": D(0), "col3": D(1), "col4": D(1)},
]


@pytest.mark.parametrize(
    ("items", "precedes", "expected"),
    [
        pytest.param(
            n(3, 1, 5, 4), lambda s: compare(s["x"], s["y"]) == 1, n(5, 4, 3, 1), id="0013-001-sort1"
        ),
        pytest.param(
            TABLE_B,
            lambda s: compare(s["x"]["col2"], s["y"]["col2"]) == -1,
            [TABLE_B[2], TABLE_B[0], TABLE_B[1]],
            id="0013-001-sort2",
        ),
        pytest.param(
            ["a", "8", "Aa", "A", "10", "9"],
            lambda s: compare(s["x"], s["y"]) == -1,
            ["10", "8", "9", "A", "Aa", "a"],
            id="0013-001-sort3",
        ),
    ],
)
def test_sort_with_a_precedes_function(items: list[Any], precedes: Any, expected: list[Any]) -> None:
    assert equal(call("sort", items, function(("x", "y"), precedes)), expected) is True


def test_sort_without_a_function_and_its_errors() -> None:
    assert call("sort", n(3, 1, 2)) == n(1, 2, 3)
    assert call("sort", list=["b", "a"]) == ["a", "b"]
    with pytest.raises(FeelError):
        call("sort", [D(1), "a"])  # not ordered
    with pytest.raises(FeelError):
        call("sort", n(1, 2), function(("x", "y"), lambda s: None))  # not a boolean


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param(
            (n(2, 4, 7, 8), function(("item", "newItem"), lambda s: s["item"] < s["newItem"]), D(5)),
            n(5, 5, 7, 8),
            id="1155-009",
        ),
        pytest.param(
            (n(2, 4), function(("item", "newItem", "extraParam"), lambda s: True), D(5)), None, id="1155-017"
        ),
        pytest.param((n(2, 4), function(("item",), lambda s: True), D(5)), None, id="1155-018"),
        pytest.param(
            (n(2, 4), function(("item", "newItem"), lambda s: s["item"]), D(5)), None, id="1155-019"
        ),
        pytest.param(
            (n(1, 2, 3, 4), function(("item", "newItem"), lambda s: True), D(5)), n(5, 5, 5, 5), id="1155-020"
        ),
    ],
)
def test_list_replace_with_a_match_function(arguments: tuple[Any, ...], expected: list[D] | None) -> None:
    if expected is None:
        with pytest.raises(FeelError):
            call("list replace", *arguments)
    else:
        assert call("list replace", *arguments) == expected


def test_list_replace_by_name_with_a_match_function_1155_013() -> None:
    match = function(("item", "newItem"), lambda s: equal(s["item"], D(2)) is True)
    assert call("list replace", match=match, newItem=D(4), list=n(1, 2, 3)) == n(1, 4, 3)


def test_list_functions_over_other_decisions_0010_0012() -> None:
    simple, nested = ["a", "b", "c"], [["w", "x"], ["y"], ["z"]]
    flat = call("flatten", nested)
    assert call("concatenate", simple, flat) == ["a", "b", "c", "w", "x", "y", "z"]  # 0010 concatenate2/3
    concatenated = call("concatenate", ["a", "b", "c"], ["x", "y", "z"])
    assert call("reverse", concatenated) == ["z", "y", "x", "c", "b", "a"]  # 0012-014
    inserted = call("insert before", ["x", "y", "z"], D(2), "OK")
    assert call("union", inserted, concatenated) == ["x", "OK", "y", "z", "a", "b", "c"]  # 0012-017
    assert call("distinct values", inserted) == ["x", "OK", "y", "z"]  # 0012-018
    assert call("flatten", call("append", ["a", "b", "c"], ["x", "y", "z"])) == [
        "a",
        "b",
        "c",
        "x",
        "y",
        "z",
    ]  # 0012-019


def test_upper_case_of_a_singleton_list_0021_decision5() -> None:
    assert call("upper case", ["Bob"]) == "BOB"
    with pytest.raises(FeelError):
        call("upper case", ["Bob", "Jack"])


def test_string_functions_0002() -> None:
    a, b = "banana", "a"
    assert [call("starts with", a, "x"), call("starts with", a, b), call("ends with", a, b)] == [
        False,
        False,
        True,
    ]
    assert [call("contains", a, "x"), call("contains", a, b)] == [False, True]
    assert call("substring", a, D(2), D(1)) == "a"
    assert call("string length", a) == D(6)
    assert call("substring before", a, "a") == "b"
    assert call("substring after", a, "b") == "anana"
    assert call("replace", a, "a", "o") == "bonono"
    assert call("replace", a, "(an)+", "**") == "b**a"
    assert call("replace", a, "([aeiou])", "[$1]") == "b[a]n[a]n[a]"


def test_two_matches_calls_1111_k2_matchesfunc_15() -> None:
    assert [call("matches", "a", "a[^b]"), call("matches", "a ", "a[^b]")] == [False, True]


def test_context_put_copies_1146() -> None:
    original = {"a": D(1)}
    copied = call("context put", original, "a", D(2))
    assert (original, copied) == ({"a": D(1)}, {"a": D(2)})  # 1146-015
    nested = {"a": {"b": D(1)}}
    copied = call("context put", nested, ["a", "b"], D(2))
    assert (nested, copied) == ({"a": {"b": D(1)}}, {"a": {"b": D(2)}})  # 1146-nested010..012
    assert call("get entries", call("context put", {"a": D(1)}, "b", D(2))) == [
        {"key": "a", "value": D(1)},
        {"key": "b", "value": D(2)},
    ]  # 1146-002
    with pytest.raises(FeelError):
        call("context put", {"x": D(1)}, ["z", "q"], D(2))  # no context at z


# --- invocation ---------------------------------------------------------------------------------------------


def test_every_builtin_of_the_brief_is_there() -> None:
    expected = {
        "string", "number", "is", "not", "all", "any", "list contains", "count", "min", "max", "sum", "mean",
        "median", "stddev", "mode", "product", "sublist", "append", "concatenate", "insert before", "remove",
        "reverse", "index of", "union", "distinct values", "flatten", "sort", "list replace", "string join",
        "decimal", "floor", "ceiling", "round up", "round down", "round half up", "round half down", "abs",
        "modulo", "sqrt", "log", "exp", "odd", "even", "substring", "string length", "upper case",
        "lower case",
        "substring before", "substring after", "replace", "contains", "starts with", "ends with", "matches",
        "split", "get value", "get entries", "context", "context put", "context merge", "before", "after",
        "meets", "met by", "overlaps", "overlaps before", "overlaps after", "finishes", "finished by",
        "includes", "during", "starts", "started by", "coincides", "range",
    }  # fmt: skip
    assert expected == set(BUILTINS)
    assert BUILTINS["substring"].parameters == ("string", "start position")


def test_signature_declarations() -> None:
    parameter = _feel_signatures.Parameter.parse(" *item : number|string? ")
    assert parameter == _feel_signatures.Parameter("item", frozenset({"number", "string"}), True, True)
    point = _feel_signatures.Parameter.parse("p: point")
    assert point.accepts(date(2020, 1, 1))
    assert not point.accepts(FeelRange(D(1), True, D(2), True))
    assert not point.accepts(None)
    library = _feel_signatures.Library()
    library.builtin("twice", "n: number")(lambda value: value * 2)
    with pytest.raises(ValueError, match="declared twice"):
        library.builtin("twice", "n: number")(lambda value: value)
    twice = library.functions["twice"]
    assert (twice.invoke([D(2)], None), twice.invoke(None, {"n": D(3)}), twice([D(4)])) == (D(4), D(6), D(8))


def test_invocation_errors() -> None:
    with pytest.raises(FeelError):
        call("substring", "abc")  # too few
    with pytest.raises(FeelError):
        call("substring", "abc", D(1), D(1), D(1))  # too many
    with pytest.raises(FeelError):
        call("substring", string="abc", start=D(1))  # unknown name
    with pytest.raises(FeelError):
        call("string length", D(3))  # wrong type
    assert call("substring", string="foobar", start_position=D(3), length=D(2)) == "ob"


def test_spread_functions_take_a_list_or_items() -> None:
    assert call("sum", n(1, 2, 3)) == call("sum", *n(1, 2, 3)) == D(6)
    assert call("max", "a", "c", "b") == "c"
    assert call("min", []) is None
    assert call("sum", []) is None
    assert call("mean", []) is None
    with pytest.raises(FeelError):
        call("max", D(1), "a")
    with pytest.raises(FeelError):
        call("sum", D(1), "a")


# --- conversions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1.0"), "1.0"),
        (D("1E+3"), "1000"),
        (D("-0"), "0"),
        (D("0.000001"), "0.000001"),
        (D("-12.50"), "-12.50"),
        (True, "true"),
        ('a "q"', 'a "q"'),
        ([D(1), "a", None, [True]], '[1, "a", null, [true]]'),
        ({"a": D(1), "b c": "x", "1st": D(2)}, '{a: 1, b c: "x", "1st": 2}'),
        (FeelRange(D(1), True, D(10), False), "[1..10)"),
        (FeelRange(None, False, D(10), False), "< 10"),
        (FeelRange(None, False, D(10), True), "<= 10"),
        (FeelRange(D(5), True, None, False), ">= 5"),
        (FeelRange("a", False, None, False), '> "a"'),
    ],
)
def test_string_of_values(value: Any, text: str) -> None:
    assert call("string", value) == text


def test_string_of_null_temporal_and_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    assert call("string", None) is None
    monkeypatch.setattr(_feel_temporal, "to_string", lambda value: "2025-01-01")
    assert call("string", date(2025, 1, 1)) == "2025-01-01"
    assert call("string", [date(2025, 1, 1)]) == '[@"2025-01-01"]'
    with pytest.raises(FeelError):
        call("string", BUILTINS["abs"])
    with pytest.raises(FeelError):
        call("string", D("1E+5000"))  # would print 5000 digits


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("12",), D(12)),
        (("-1.5e3",), D(-1500)),
        ((".5",), D("0.5")),
        (("1 234,5", " ", ","), D("1234.5")),
        (("1.234", ".", None), D(1234)),
        (("1,5", None, ","), D("1.5")),
        (("1.5", None, ","), None),
        (("", None, None), None),
        (("1,2", ";", ","), None),
        (("abc",), None),
    ],
)
def test_number(arguments: tuple[Any, ...], expected: D | None) -> None:
    if expected is None:
        with pytest.raises(FeelError):
            call("number", *arguments)
    else:
        assert call("number", *arguments) == expected


def test_not() -> None:
    assert [call("not", True), call("not", False), call("not", None)] == [False, True, None]
    with pytest.raises(FeelError):
        call("not", D(1))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(1), D("1.0"), True),
        (D(1), "1", False),
        (date(2020, 1, 1), datetime(2020, 1, 1), False),
        (FeelTime(23, 0, D(50), UTC), FeelTime(23, 0, D(50), timezone(timedelta(0))), True),
        (FeelTime(23, 0, D(50), ZoneInfo("Etc/GMT")), FeelTime(23, 0, D(50), UTC), False),
        (FeelTime(23, 0, D(50)), FeelTime(23, 0, D(50), UTC), False),
        (
            datetime(2021, 4, 2, 23, tzinfo=ZoneInfo("Australia/Melbourne")),
            datetime(2021, 4, 2, 23, tzinfo=timezone(timedelta(hours=11))),
            False,
        ),
        (
            datetime(2002, 4, 2, 12, tzinfo=timezone(timedelta(hours=-1))),
            datetime(2002, 4, 2, 17, tzinfo=timezone(timedelta(hours=4))),
            False,
        ),
        (DayTimeDuration(D(86400)), DayTimeDuration(D("86400.0")), True),
        (YearMonthDuration(0), DayTimeDuration(D(0)), False),
        ([D(1)], [D("1.00")], True),
        (None, None, True),
        (None, D(1), False),
    ],
)
def test_is(a: Any, b: Any, expected: bool) -> None:
    assert call("is", a, b) is expected


# --- numbers ------------------------------------------------------------------------------------------------


def test_numeric_edges() -> None:
    assert str(call("ceiling", D("-0.3"))) == "0"
    assert call("round half up", D(1250), D(-2)) == D(1300)
    assert call("decimal", D("1.23456789"), D(30)) == D("1.23456789")  # already that precise
    assert call("modulo", D("1E+40"), D(7)) == D(pow(10, 40, 7))  # exact, past 34 digits of quotient
    assert call("modulo", D("-1E+40"), D("0.7")) == D("0.7") - D(pow(10, 41, 7)) / 10
    assert call("even", D("1E+100")) is True
    assert call("odd", D(-3)) is True
    with pytest.raises(FeelError):
        call("odd", D("1.5"))
    assert call("modulo", D("1E+100"), D("1E-100")) == D(0)
    with pytest.raises(FeelError):
        call("modulo", D(1), D(0))
    with pytest.raises(FeelError):
        call("exp", D(100000))  # overflow
    assert len(call("sqrt", D(2)).as_tuple().digits) == 34
    assert call("abs", YearMonthDuration(-14)) == YearMonthDuration(14)
    assert call("stddev", n(1, 1)) == D(0)
    assert call("mode", n(2, 1, 2, 1, 3)) == n(1, 2)


# --- strings and regular expressions ------------------------------------------------------------------------


def test_substring_counts_code_points() -> None:
    text = "foo\U0001f40ebar\U0001f600"
    assert call("substring", text, D(4), D(1)) == "\U0001f40e"
    assert call("string length", text) == D(8)
    assert call("substring", "abc", D(-3)) == "abc"
    with pytest.raises(FeelError):
        call("substring", "abc", D(0))
    with pytest.raises(FeelError):
        call("substring", "abc", D(-4))


@pytest.mark.parametrize(
    ("text", "pattern", "flags", "expected"),
    [
        ("_", "\\w", None, False),  # XSD \w excludes punctuation (Python's includes '_')
        ("$", "\\w", None, True),  # ... and includes symbols (Python's does not)
        ("\f", "\\s", None, False),  # XSD \s is only space, tab, CR, LF
        ("a\r", "a.", None, False),  # '.' excludes CR too
        ("a\r", "a.", "s", True),
        ("ab\n", "ab$", None, False),  # '$' is the end of the input, not before a final newline
        ("ab\ncd", "b$", "m", True),
        ("Ä", "\\p{Lu}", None, True),
        ("a", "\\p{Lu}", "i", False),  # XPath: \p{…} is unaffected by the i flag
        ("a", "[A-Z]", "i", True),  # ... while a range is
        ("ä", "\\P{Lu}", None, True),
        ("é", "\\p{IsLatin-1Supplement}", None, True),
        ("b", "[a-z-[aeiou]]", None, True),
        ("e", "[a-z-[aeiou]]", None, False),
        ("a.b", "a.b", "q", True),
        ("axb", "a.b", "q", False),
        ("abab", "(ab)\\1", None, True),
        ("a b", "a b", "x", False),
        ("ab", "a b", "x", True),
        ("1a", "\\d\\D", None, True),
        ("x", "[\\p{L}]", None, True),
        ("-", "[a-]", None, True),
        ("10", "(?:1)0", None, True),
    ],
)
def test_xpath_regex_semantics(text: str, pattern: str, flags: str | None, expected: bool) -> None:
    assert call("matches", text, pattern, flags) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+",  # a variable repetition of a group with choices: exponential backtracking
        "(a*)*b",
        "(x|a+)+",
        "(a|a)*b",
        "(a?){2,9}",
        "(?:ab|cd)+",
        "\\i",  # XML name classes: not translated
        "\\b",  # not XSD
        "(?i)a",  # not XPath
        "a{,3}",
        "a{3,1}",
        "[a",
        "a)",
        "*a",
        "[]a]",
        "[z-a]",
        "\\1(a)",  # refers forward
        "(a\\1)",  # inside its own group
        "[\\S]",  # untranslated inside a class
        "\\p{IsNoSuchBlock}",
        "a{1001}",
    ],
)
def test_untranslatable_or_invalid_patterns_are_errors(pattern: str) -> None:
    with pytest.raises(FeelError):
        call("matches", "a", pattern)


def test_regex_guards() -> None:
    with pytest.raises(FeelError):
        call("matches", "a" * (MAX_INPUT + 1), "a")
    with pytest.raises(FeelError):
        compile_xpath("a" * (MAX_PATTERN + 1), None)
    assert call("matches", "a" * MAX_INPUT, "a$") is True
    assert call("matches", "a" * 30_000, "a*b") is False  # one variable quantifier: up to 31622
    with pytest.raises(FeelError):
        call("matches", "a" * 40_000, "a*b")
    assert call("matches", "a" * 1000, "a*a*b") is False  # two: up to 1000 characters
    with pytest.raises(FeelError):
        call("matches", "a" * 1001, "a*a*b")
    assert call("matches", "a" * MAX_INPUT, "a{3}b{2,2}") is False  # fixed counts do not backtrack
    assert call("matches", "(\\d{3})+", "\\(") is True


def test_replace_and_split_details() -> None:
    assert call("replace", "a$b", "\\$", "\\\\\\$") == "a\\$b"  # escaped '$' and '\' in the replacement
    assert call("replace", "abc", "(b)", "$10") == "ab0c"  # one group: $1 then '0'
    assert call("replace", "abc", "b", "$2") == "ac"  # no such group: empty
    assert call("replace", "a.c", ".", "$0", "q") == "a$0c"  # q: the replacement is literal too
    with pytest.raises(FeelError):
        call("replace", "abc", "b", "$")
    with pytest.raises(FeelError):
        call("replace", "abc", "x*", "y")  # matches the empty string
    assert call("split", "a1b22c", "(\\d)+") == ["a", "b", "c"]  # groups are not returned
    assert call("split", "", ",") == []
    with pytest.raises(FeelError):
        call("split", "abc", "x?")


# --- ranges -------------------------------------------------------------------------------------------------


def r(start: Any, end: Any, start_included: bool = True, end_included: bool = True) -> FeelRange:
    return FeelRange(start, start_included, end, end_included)


def test_range_functions_with_unbounded_ranges() -> None:
    below_10 = r(None, D(10), False, False)
    assert call("before", below_10, D(10)) is True
    assert call("includes", below_10, D(-(10**30))) is True
    assert call("after", D(20), below_10) is True
    assert call("overlaps", below_10, r(D(5), None, True, False)) is True
    assert call("before", below_10, r(D(10), None, True, False)) is True
    assert call("coincides", r(None, D(1), False), r(None, D(1), False)) is True
    assert call("includes", r("a", "c"), "b") is True
    assert call("during", range=r("a", "c"), point="d") is False


def test_range_function_errors() -> None:
    with pytest.raises(FeelError):
        call("before", D(1), "a")  # not ordered
    with pytest.raises(FeelError):
        call("before", None, D(1))
    with pytest.raises(FeelError):
        call("meets", D(1), D(2))  # points where ranges are expected
    with pytest.raises(FeelError):
        call("coincides", D(1), r(D(1), D(2)))


def test_range_from_text(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_range(' ( "a" .. "c\\"" ] ') == r("a", 'c"', False, True)
    assert parse_range("]-1.5..2e1[") == r(D("-1.5"), D(20), False, False)
    seen: list[str] = []

    def literal(text: str) -> D:
        seen.append(text)
        return D(len(seen))

    monkeypatch.setattr(_feel_temporal, "parse_at_literal", literal)
    assert parse_range('[@"x"..@"yy"]') == r(D(1), D(2))
    assert seen == ["x", "yy"]
    for text in ("[1..]", "<10", "[1..2", "[1..2]x", "[1..'a']", "[2..1]", "[null..null]", "[true..true]"):
        with pytest.raises(FeelError):
            parse_range(text)


# --- bounds -------------------------------------------------------------------------------------------------


def test_results_over_the_limits_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_feel_signatures, "MAX_ITEMS", 5)
    monkeypatch.setattr(_feel_signatures, "MAX_CHARS", 5)
    assert call("append", n(1, 2), D(3), D(4), D(5)) == n(1, 2, 3, 4, 5)
    with pytest.raises(FeelError):
        call("append", n(1, 2), D(3), D(4), D(5), D(6))
    with pytest.raises(FeelError):
        call("string join", ["abc", "def"])
    assert call("string join", ["ab", "cd"]) == "abcd"


def test_distinct_values_hashes_simple_items_and_bounds_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    many = [D(i % 1000) for i in range(200_000)]
    assert call("distinct values", many) == [D(i) for i in range(1000)]
    assert call("distinct values", [D(1), D("1.0"), "1", None, None, True, [D(1)], [D("1.00")]]) == [
        D(1),
        "1",
        None,
        True,
        [D(1)],
    ]
    monkeypatch.setattr(_feel_builtins, "MAX_COMPARISONS", 10)
    with pytest.raises(FeelError):
        call("union", [[D(i)] for i in range(10)])


def test_replace_output_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_feel_builtins, "MAX_CHARS", 100)
    assert call("replace", "a" * 50, "a", "bb") == "b" * 100
    with pytest.raises(FeelError):
        call("replace", "a" * 51, "a", "bb")


def test_flatten_depth_is_bounded() -> None:
    deep: list[Any] = [D(1)]
    for _ in range(150):
        deep = [deep]
    with pytest.raises(FeelError):
        call("flatten", deep)
