"""FEEL's temporal types (policy/_feel_temporal.py) against the DMN TCK's temporal cases, and by hand.

The FEEL compiler is not what is tested here, so the TCK cases are evaluated by ``_TemporalExpression``, a
reader of the small FEEL subset those cases are written in (literals, ``@"…"``, ``[]``, calls of the temporal
built-ins, ``string`` and ``is``, ``+ - * /`` and unary minus with a temporal operand, comparisons,
``between``, ``instance of``, properties and context entries, input and decision names): each operation is
one call of ``_feel_temporal`` (or ``_feel_values.equal``/``compare``). A case whose expression leaves that
subset (lists, contexts, ranges, ``**``, function literals, arithmetic on numbers alone) is not derived;
``test_derived_case_counts`` pins how many each folder yields (1,113 in all, 81 of them refused by design),
so a change in the reader shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from tests.policy import tck_runner

from efficacy_flow.clock import SystemClock
from efficacy_flow.errors import EfficacyFlowError
from efficacy_flow.policy import _feel_temporal as temporal
from efficacy_flow.policy._feel_temporal import (
    BUILTINS,
    CLOCK,
    DayTimeDuration,
    FeelTime,
    UnsupportedTemporalValue,
    YearMonthDuration,
)
from efficacy_flow.policy._feel_values import FeelError, compare, equal, kind

LEVEL_3: Final = tck_runner.LEVELS[3]
FOLDERS: Final = (
    "0007-date-time",
    "0068-feel-equality",
    "0070-feel-instance-of",
    "0071-feel-between",
    "0074-feel-properties",
    "0093-feel-at-literals",
    "0095-feel-day-of-year-function",
    "0096-feel-day-of-week-function",
    "0097-feel-month-of-year-function",
    "0098-feel-week-of-year-function",
    "0099-arithmetic-negation",
    "0100-arithmetic",
    "0103-feel-is-function",
    "1115-feel-date-function",
    "1116-feel-time-function",
    "1117-feel-date-and-time-function",
    "1120-feel-duration-function",
    "1121-feel-years-and-months-duration-function",
    "1148-feel-now-function",
    "1149-feel-today-function",
)


# --- a reader of the TCK's temporal FEEL subset -------------------------------------------------------------


class Underivable(Exception):
    """The expression leaves the subset this reader evaluates."""


_FUNCTIONS: Final = sorted([*BUILTINS, "string", "is"], key=len, reverse=True)
_PROPERTIES: Final = sorted(
    [
        "year", "month", "day", "weekday", "hour", "minute", "second", "time offset", "timezone",
        "days", "hours", "minutes", "seconds", "years", "months",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_TYPES: Final = sorted(
    ["date and time", "date", "time", "days and time duration", "years and months duration"],
    key=len,
    reverse=True,
)
_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_STRING: Final = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SPACE: Final = re.compile(r"\s*")
_IDENTIFIER: Final = re.compile(r"[A-Za-z_]\w*")
_COMPARISONS: Final = ("!=", "<=", ">=", "=", "<", ">")


class _TemporalExpression:
    """Evaluates one expression of the subset over ``names`` (value getters). A FeelError in an operation
    is null, as in FEEL; an UnsupportedTemporalValue propagates (the engine's typed refusal)."""

    def __init__(self, text: str, names: Mapping[str, Callable[[], Any]]) -> None:
        self.text = text
        self.at = 0
        self.names = sorted(names, key=len, reverse=True)
        self.getters = names

    def evaluate(self) -> Any:
        value = self.expression()
        self.skip()
        if self.at != len(self.text):
            raise Underivable(f"unread {self.text[self.at :]!r}")
        return value

    # tokens
    def skip(self) -> None:
        match = _SPACE.match(self.text, self.at)
        assert match is not None
        self.at = match.end()

    def accept(self, word: str, *, keyword: bool = False) -> bool:
        self.skip()
        if not self.text.startswith(word, self.at):
            return False
        end = self.at + len(word)
        if keyword and end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"):
            return False
        self.at = end
        return True

    def expect(self, word: str) -> None:
        if not self.accept(word):
            raise Underivable(f"expected {word!r} at {self.text[self.at :]!r}")

    # grammar
    def expression(self) -> Any:
        value = self.comparison()
        if self.accept("between", keyword=True):
            low = self.sum()
            if not self.accept("and", keyword=True):
                raise Underivable("between without and")
            high = self.sum()
            if kind(value) not in _TEMPORAL_KINDS:
                raise Underivable("between of non-temporal values")
            above, below = compare(value, low), compare(value, high)
            return None if above is None or below is None else above >= 0 and below <= 0
        if self.accept("instance of", keyword=True):
            for name in _TYPES:
                if self.accept(name, keyword=True):
                    return kind(value) == name
            raise Underivable("instance of an unknown type")
        return value

    def comparison(self) -> Any:
        left = self.sum()
        for op in _COMPARISONS:
            if self.accept(op):
                right = self.sum()
                if op in ("=", "!="):
                    same = equal(left, right)
                    return same if same is None or op == "=" else not same
                order = compare(left, right)
                if order is None:
                    return None
                return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]
        return left

    def sum(self) -> Any:
        value = self.product()
        while True:
            if self.accept("+"):
                value = _operate(temporal.add, value, self.product())
            elif self.accept("-"):
                value = _operate(temporal.subtract, value, self.product())
            else:
                return value

    def product(self) -> Any:
        value = self.unary()
        while True:
            if self.accept("**"):
                raise Underivable("exponentiation")
            if self.accept("*"):
                value = _operate(temporal.multiply, value, self.unary())
            elif self.accept("/"):
                value = _operate(temporal.divide, value, self.unary())
            else:
                return value

    def unary(self) -> Any:
        if self.accept("-"):
            self.skip()
            number = _NUMBER.match(self.text, self.at)
            if number is not None:
                self.at = number.end()
                return -Decimal(number.group())
            value = self.unary()
            if kind(value) not in _TEMPORAL_KINDS:
                raise Underivable("negation of a non-temporal value")
            try:
                return temporal.negate(value)
            except FeelError:
                return None
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.accept("."):
            if isinstance(value, dict):
                self.skip()
                key = _IDENTIFIER.match(self.text, self.at)
                if key is None or key.group() not in value:
                    raise Underivable("an unknown context entry")
                self.at = key.end()
                value = value[key.group()]
                continue
            for name in _PROPERTIES:
                if self.accept(name, keyword=True):
                    try:
                        value = temporal.property_of(value, name)
                    except FeelError:
                        value = None
                    break
            else:
                raise Underivable("an unknown property")
        return value

    def primary(self) -> Any:
        self.skip()
        if self.accept("("):
            value = self.expression()
            self.expect(")")
            return value
        if self.accept("@"):
            literal = _STRING.match(self.text, self.at)
            if literal is None:
                raise Underivable("@ without a string")
            self.at = literal.end()
            try:
                return temporal.parse_at_literal(literal[1])
            except FeelError:
                return None
        literal = _STRING.match(self.text, self.at)
        if literal is not None:
            if "\\" in literal[1]:
                raise Underivable("string escapes")
            self.at = literal.end()
            return literal[1]
        number = _NUMBER.match(self.text, self.at)
        if number is not None:
            self.at = number.end()
            return Decimal(number.group())
        if self.accept("["):
            self.expect("]")
            return []
        for word, value in (("null", None), ("true", True), ("false", False)):
            if self.accept(word, keyword=True):
                return value
        for name in _FUNCTIONS:
            if self.accept(name, keyword=True):
                self.skip()
                if self.text.startswith("(", self.at):
                    return self.call(name)
                self.at -= len(name)
                break
        for name in self.names:
            if self.accept(name, keyword=True):
                return self.getters[name]()
        raise Underivable(f"unreadable {self.text[self.at :]!r}")

    def call(self, name: str) -> Any:
        self.expect("(")
        positional: list[Any] = []
        named: dict[str, Any] = {}
        while not self.accept(")"):
            if positional or named:
                self.expect(",")
            self.skip()
            label = re.match(r"([a-z]+)\s*:", self.text[self.at :])
            if label is not None:
                self.at += label.end()
                named[label[1]] = self.expression()
            else:
                positional.append(self.expression())
        if positional and named:
            raise Underivable("mixed positional and named arguments")
        if name == "is":
            if len(positional) != 2 or not all(kind(value) in _TEMPORAL_KINDS for value in positional):
                raise Underivable("is() of non-temporal values or by name")
            return temporal.identical(*positional)
        if name == "string":
            if len(positional) != 1:
                raise Underivable("string() with named arguments")
            value = positional[0]
            if isinstance(value, str):
                return value
            try:
                return temporal.to_string(value)
            except FeelError as exc:
                raise Underivable("string() of a non-temporal value") from exc
        try:
            return BUILTINS[name].invoke(None if named else positional, named or None)
        except FeelError:
            return None


def _operate(operation: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if not any(kind(value) in _TEMPORAL_KINDS for value in (a, b)):
        raise Underivable("arithmetic without a temporal operand")
    try:
        return operation(a, b)
    except FeelError:
        return None


_TEMPORAL_KINDS: Final = frozenset(
    {"date", "date and time", "time", "days and time duration", "years and months duration"}
)


# --- the TCK cases ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TckCase:
    """One result node of one TCK test case whose expression this reader evaluates."""

    id: str
    text: str
    inputs: Mapping[str, Any]
    decisions: Mapping[str, Decision]
    result: tck_runner.ResultNode

    def evaluate(self) -> Any:
        return _evaluate(self.text, self.inputs, self.decisions, 0)


#: A decision this reader evaluates: a literal expression, or a context of literal expressions.
Decision = str | dict[str, str]


def _evaluate(text: str, inputs: Mapping[str, Any], decisions: Mapping[str, Decision], depth: int) -> Any:
    if depth > 5:
        raise Underivable("decisions nested too deep")

    def decision(logic: Decision) -> Any:
        if isinstance(logic, str):
            return _evaluate(logic, inputs, decisions, depth + 1)
        return {key: _evaluate(entry, inputs, decisions, depth + 1) for key, entry in logic.items()}

    names: dict[str, Callable[[], Any]] = {}
    for name, logic in decisions.items():
        names[name] = lambda logic=logic: decision(logic)
    for name, value in inputs.items():
        names[name] = lambda value=value: value
    return _TemporalExpression(text, names).evaluate()


def _text(element: Any) -> str | None:
    text = element.find("{*}literalExpression/{*}text")
    return " ".join(text.text.split()) if text is not None and text.text else None


def _literal_decisions(folder: Path) -> dict[str, Decision]:
    """The folder's decisions that are literal expressions or contexts of them, by name."""
    found: dict[str, Decision] = {}
    for model in sorted(folder.glob("*.dmn")):
        for decision in etree.parse(str(model)).getroot().iter("{*}decision"):
            name = decision.get("name") or ""
            text = _text(decision)
            if text is not None:
                found[name] = text
                continue
            entries = decision.findall("{*}context/{*}contextEntry")
            variables = [entry.find("{*}variable") for entry in entries]
            if not entries or any(variable is None for variable in variables):
                continue
            pairs = zip(variables, entries, strict=True)
            texts = {(variable.get("name") or ""): _text(entry) for variable, entry in pairs}
            if all(texts.values()):
                found[name] = {key: value for key, value in texts.items() if value}
    return found


def _tck_cases() -> Iterator[TckCase]:
    for name in FOLDERS:
        folder = LEVEL_3 / name
        decisions = _literal_decisions(folder)
        for test in sorted(folder.glob("*-test-*.xml")):
            for case in tck_runner.read_tests(test):
                for result in case.results:
                    text = decisions.get(result.name)
                    if text is None or case.kind != "decision":
                        continue
                    if isinstance(text, dict):  # the reader evaluates contexts only as names
                        text = result.name
                        continue
                    case_id = f"{name}/{case.case}" + (f"/{result.name}" if len(case.results) > 1 else "")
                    yield TckCase(case_id, text, case.inputs, decisions, result)


def _derivable(case: TckCase) -> bool:
    try:
        case.evaluate()
    except Underivable:
        return False
    except EfficacyFlowError:
        return True
    return True


ALL_CASES: Final = list(_tck_cases())
CASES: Final = [case for case in ALL_CASES if _derivable(case)]

#: The cases whose values Python's datetime cannot hold — a year outside 1..9999 (``date("-2017-12-31")``,
#: ``@"-2021-01-01T10:10:10+11:00"``) or nanoseconds in a date and time (``…T11:22:33.123456789``), by
#: folder.
#: The engine refuses exactly these (UnsupportedTemporalValue), never answers them wrongly.
REFUSED_BY_FOLDER: Final[Mapping[str, tuple[str, ...]]] = {
    "0100-arithmetic": (
        "add_lhs_dateAndTime_to_rhs_ymDuration_010",
        "add_lhs_dateAndTime_to_rhs_ymDuration_011",
        "add_lhs_dateAndTime_to_rhs_ymDuration_012",
        "add_lhs_dateAndTime_to_rhs_ymDuration_013",
        "add_lhs_dateAndTime_to_rhs_ymDuration_014",
        "add_lhs_dateAndTime_to_rhs_ymDuration_015",
        "add_lhs_dateAndTime_to_rhs_ymDuration_016",
        "add_lhs_dateAndTime_to_rhs_ymDuration_017",
        "add_lhs_ymDuration_to_rhs_dateAndTime_010",
        "add_lhs_ymDuration_to_rhs_dateAndTime_011",
        "add_lhs_ymDuration_to_rhs_dateAndTime_012",
        "add_lhs_ymDuration_to_rhs_dateAndTime_013",
        "add_lhs_ymDuration_to_rhs_dateAndTime_014",
        "add_lhs_ymDuration_to_rhs_dateAndTime_015",
        "add_lhs_ymDuration_to_rhs_dateAndTime_016",
        "add_lhs_ymDuration_to_rhs_dateAndTime_017",
        "add_lhs_dateAndTime_to_rhs_dtDuration_014",
        "add_lhs_dateAndTime_to_rhs_dtDuration_015",
        "add_lhs_dateAndTime_to_rhs_dtDuration_016",
        "add_lhs_dateAndTime_to_rhs_dtDuration_017",
        "add_lhs_dateAndTime_to_rhs_dtDuration_018",
        "add_lhs_dateAndTime_to_rhs_dtDuration_019",
        "add_lhs_dateAndTime_to_rhs_dtDuration_020",
        "add_lhs_dateAndTime_to_rhs_dtDuration_021",
        "add_lhs_dtDuration_to_rhs_dateAndTime_014",
        "add_lhs_dtDuration_to_rhs_dateAndTime_015",
        "add_lhs_dtDuration_to_rhs_dateAndTime_016",
        "add_lhs_dtDuration_to_rhs_dateAndTime_017",
        "add_lhs_dtDuration_to_rhs_dateAndTime_018",
        "add_lhs_dtDuration_to_rhs_dateAndTime_019",
        "add_lhs_dtDuration_to_rhs_dateAndTime_020",
        "add_lhs_dtDuration_to_rhs_dateAndTime_021",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_009",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_010",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_011",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_012",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_013",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_014",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_015",
        "subtract_lhs_dateAndTime_minus_rhs_ymDuration_016",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_010",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_011",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_012",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_013",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_014",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_015",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_016",
        "subtract_lhs_dateAndTime_minus_rhs_dtDuration_017",
    ),
    "1115-feel-date-function": (
        "013_d7e901ee86",
        "014_fad7e00633",
        "015_1dd66594cf",
        "016_31f3fef4a0",
        "019_b2b82796ce",
        "027_987c5be372",
        "028_35ca79a6cd",
        "029_88f5c7c90f",
        "030_9184a7bfc3",
    ),
    "1116-feel-time-function": ("050_524d9a8146",),
    "1117-feel-date-and-time-function": (
        "010_59f5b47012",
        "011_eec2d5bdcd",
        "012_225a105eef",
        "014_ded0e5fe2f",
        "022_b8b20f0328",
        "026_5ba081cd5f",
        "027_ae365197dd",
        "028_1c3d56275f",
        "033_2fac4d6807",
        "035_831b1ad0c5",
        "038_1493e6d873",
        "040_d9116e1daa",
        "042_0cbcc3d1dc",
        "045_5d93a541eb",
        "047_60ea7838ce",
        "049_eb9cd1f777",
        "052_911dbd0a24",
        "054_2561a406fc",
    ),
    "1121-feel-years-and-months-duration-function": (
        "017_86744b9a54",
        "018_8a9ed1d66d",
        "019_90c2084588",
        "025_161f6fca54",
        "026_fcc906b375",
    ),
}
REFUSED: Final = frozenset(
    f"{folder}/{case}" for folder, cases in REFUSED_BY_FOLDER.items() for case in cases
)

#: How many cases of each folder the reader derives (every result node of the folder but those whose
#: expressions leave the subset: in 0068 and 0100 lists, contexts, ranges, ``**``, function literals, and
#: arithmetic or comparisons without a temporal operand).
DERIVED_BY_FOLDER: Final = {
    "0007-date-time": 18,
    "0068-feel-equality": 71,
    "0070-feel-instance-of": 40,
    "0071-feel-between": 25,
    "0074-feel-properties": 42,
    "0093-feel-at-literals": 19,
    "0095-feel-day-of-year-function": 19,
    "0096-feel-day-of-week-function": 10,
    "0097-feel-month-of-year-function": 10,
    "0098-feel-week-of-year-function": 18,
    "0099-arithmetic-negation": 8,
    "0100-arithmetic": 481,
    "0103-feel-is-function": 39,
    "1115-feel-date-function": 52,
    "1116-feel-time-function": 83,
    "1117-feel-date-and-time-function": 88,
    "1120-feel-duration-function": 50,
    "1121-feel-years-and-months-duration-function": 36,
    "1148-feel-now-function": 2,
    "1149-feel-today-function": 2,
}


@pytest.fixture
def fixed_clock() -> Iterator[datetime]:
    instant = datetime(2026, 12, 7, 23, 0, 5, tzinfo=UTC)
    token = CLOCK.set(lambda: instant)
    yield instant
    CLOCK.reset(token)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_tck_case(case: TckCase) -> None:
    try:
        got = case.evaluate()
    except UnsupportedTemporalValue:
        assert case.id in REFUSED, f"{case.text!r} was refused"
        return
    assert case.id not in REFUSED, f"{case.text!r} was expected to be refused, got {got!r}"
    if case.result.error:
        assert got is None, f"{case.text!r}: expected null, got {got!r}"
    else:
        assert tck_runner.same(case.result.expected, got), (
            f"{case.text!r}: expected {case.result.expected!r}, got {got!r}"
        )


def test_derived_case_counts() -> None:
    by_folder: dict[str, int] = {}
    for case in CASES:
        folder = case.id.split("/")[0]
        by_folder[folder] = by_folder.get(folder, 0) + 1
    assert by_folder == DERIVED_BY_FOLDER
    assert len(CASES) == 1113
    assert len(REFUSED) == 81


# --- by hand: what the TCK does not pin ---------------------------------------------------------------------


def at(text: str) -> Any:
    return temporal.parse_at_literal(text)


def call(name: str, *arguments: Any, **named: Any) -> Any:
    if named:
        return BUILTINS[name].invoke(None, named)
    return BUILTINS[name].invoke(arguments, None)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2021-01-31", 1, "2021-02-28"),
        ("2020-01-31", 1, "2020-02-29"),
        ("2020-02-29", 12, "2021-02-28"),
        ("2021-03-31", -1, "2021-02-28"),
        ("2021-12-15", 1, "2022-01-15"),
        ("2021-01-15", -13, "2019-12-15"),
    ],
)
def test_month_arithmetic_clamps_to_the_end_of_the_month(start: str, months: int, expected: str) -> None:
    assert temporal.add(at(start), YearMonthDuration(months)) == at(expected)
    moved = temporal.add(at(start + "T10:00:00@Europe/Paris"), YearMonthDuration(months))
    assert temporal.to_string(moved) == expected + "T10:00:00@Europe/Paris"


def test_a_named_zone_moves_on_the_time_line_across_daylight_saving() -> None:
    before = at("2021-03-27T12:00:00@Europe/Paris")  # the clocks go forward at 02:00 on 28 March
    after = temporal.add(before, at("PT24H"))
    assert temporal.to_string(after) == "2021-03-28T13:00:00@Europe/Paris"
    assert temporal.subtract(at("2021-03-28T12:00:00@Europe/Paris"), before) == at("PT23H")
    assert temporal.property_of(after, "time offset") == at("PT2H")
    assert temporal.property_of(before, "time offset") == at("PT1H")


def test_a_local_and_a_zoned_date_and_time_are_not_comparable() -> None:
    local, zoned = at("2021-01-01T10:00:00"), at("2021-01-01T10:00:00Z")
    assert equal(local, zoned) is None
    assert compare(local, zoned) is None
    with pytest.raises(FeelError):
        temporal.subtract(local, zoned)
    assert equal(zoned, at("2021-01-01T11:00:00+01:00")) is True
    assert compare(at("2021-01-01T10:00:00+01:00"), zoned) == -1


def test_dates_and_times_at_the_edges_of_the_years_compare_and_subtract() -> None:
    first, last = at("0001-01-01T00:00:00+01:00"), at("9999-12-31T23:00:00-05:00")
    assert compare(first, last) == -1
    assert equal(at("0001-01-01T00:30:00+01:00"), at("0001-01-01T01:30:00+02:00")) is True
    assert temporal.subtract(at("9999-12-31T23:00:00-05:00"), at("9999-12-31T23:00:00Z")) == at("PT5H")
    with pytest.raises(UnsupportedTemporalValue):
        temporal.add(first, at("-P1D"))


def test_times_compare_by_offset_and_only_where_comparable() -> None:
    assert equal(at("10:00:00+01:00"), at("09:00:00Z")) is True
    assert compare(at("10:00:00+01:00"), at("09:30:00Z")) == -1
    assert equal(at("10:00:00@Europe/Paris"), at("10:00:00@Europe/Paris")) is True
    assert equal(at("10:00:00@Europe/Paris"), at("09:00:00Z")) is None  # a named zone's offset needs a date
    assert equal(at("10:00:00"), at("10:00:00Z")) is None
    with pytest.raises(FeelError):
        temporal.subtract(at("10:00:00"), at("09:00:00Z"))


def test_times_and_dates_and_times_compare_at_millisecond_precision() -> None:
    assert equal(at("10:30:00.0001"), at("10:30:00.0002")) is True
    assert equal(at("10:30:00.001"), at("10:30:00.002")) is False
    assert equal(at("2018-12-08T00:00:00.0001"), at("2018-12-08T00:00:00")) is True
    assert compare(at("2018-12-08T00:00:00.001"), at("2018-12-08T00:00:00")) == 1
    assert equal(at("PT0.0001S"), at("PT0.0002S")) is False  # durations compare exactly


def test_time_arithmetic_wraps_around_midnight_and_keeps_every_digit() -> None:
    assert temporal.add(at("23:30:00"), at("PT1H")) == at("00:30:00")
    assert temporal.subtract(at("00:30:00+02:00"), at("PT1H")) == at("23:30:00+02:00")
    moved = temporal.add(at("10:00:00.123456789"), at("-P2DT0.000000001S"))
    assert temporal.to_string(moved) == "10:00:00.123456788"
    assert temporal.subtract(at("10:00:00.5"), at("09:00:00")) == DayTimeDuration(Decimal("3600.5"))


def test_midnight_at_the_end_of_the_day() -> None:
    assert at("2021-01-01T24:00:00") == at("2021-01-02T00:00:00")
    assert call("time", "24:00:00") == FeelTime(0, 0, Decimal(0))
    assert temporal.add(at("2021-12-31T24:00:00"), at("-PT1S")) == at("2021-12-31T23:59:59")


def test_duration_properties_carry_the_sign() -> None:
    dt = at("-P1DT2H3M4.5S")
    assert [temporal.property_of(dt, name) for name in ("days", "hours", "minutes", "seconds")] == [
        Decimal(-1),
        Decimal(-2),
        Decimal(-3),
        Decimal("-4.5"),
    ]
    ym = at("-P2Y3M")
    assert (temporal.property_of(ym, "years"), temporal.property_of(ym, "months")) == (
        Decimal(-2),
        Decimal(-3),
    )
    with pytest.raises(FeelError):
        temporal.property_of(ym, "days")
    with pytest.raises(FeelError):
        temporal.property_of(at("2021-01-01"), "hour")


def test_properties_of_zoned_values() -> None:
    paris = at("10:30:00@Europe/Paris")
    assert temporal.property_of(paris, "timezone") == "Europe/Paris"
    assert temporal.property_of(paris, "time offset") is None
    fixed = at("2021-06-01T10:30:15.25-05:30")
    assert temporal.property_of(fixed, "time offset") == at("-PT5H30M")
    assert temporal.property_of(fixed, "timezone") is None
    assert temporal.property_of(fixed, "second") == Decimal("15.25")
    assert temporal.property_of(fixed, "weekday") == Decimal(2)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (DayTimeDuration(Decimal(0)), "PT0S"),
        (DayTimeDuration(Decimal("-90061.5")), "-P1DT1H1M1.5S"),
        (DayTimeDuration(Decimal("0.000000001")), "PT0.000000001S"),
        (YearMonthDuration(0), "P0M"),
        (YearMonthDuration(-27), "-P2Y3M"),
        (YearMonthDuration(12), "P1Y"),
        (FeelTime(9, 5, Decimal("7.50"), None), "09:05:07.5"),
        (FeelTime(9, 5, Decimal(7), UTC), "09:05:07Z"),
        (
            datetime(2018, 12, 10, 10, 30, 0, 100, tzinfo=ZoneInfo("Europe/Paris")),
            "2018-12-10T10:30:00.0001@Europe/Paris",
        ),
        (
            datetime(2018, 12, 10, 10, 30, tzinfo=timezone(timedelta(hours=-1, minutes=-30))),
            "2018-12-10T10:30:00-01:30",
        ),
        (datetime(18, 1, 2), "0018-01-02T00:00:00"),
        (date(18, 1, 2), "0018-01-02"),
    ],
)
def test_string_forms(value: Any, text: str) -> None:
    assert temporal.to_string(value) == text


@pytest.mark.parametrize(
    "make",
    [
        lambda: call("date", Decimal(10000), Decimal(1), Decimal(1)),
        lambda: call("date", "-0001-01-01"),
        lambda: call("date and time", "2021-01-01T00:00:00.0000001"),
        lambda: temporal.add(at("9999-12-01"), at("P1M")),
        lambda: temporal.subtract(at("0001-01-01T00:00:00"), at("PT1S")),
        lambda: temporal.add(at("2021-01-01T00:00:00"), at("PT0.0000001S")),
        lambda: call("date and time", at("2021-01-01"), at("10:00:00.0000001")),
    ],
)
def test_values_python_cannot_hold_are_refused(make: Callable[[], Any]) -> None:
    with pytest.raises(UnsupportedTemporalValue):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: call("date", "2021-02-29"),
        lambda: call("date", Decimal(1000999999), Decimal(1), Decimal(1)),
        lambda: call("date", Decimal("2021.5"), Decimal(1), Decimal(1)),
        lambda: call("time", "24:00:01"),
        lambda: call("time", "10:00:00+18:01"),
        lambda: call("time", Decimal(10), Decimal(0), Decimal(0), at("PT19H")),
        lambda: call("duration", "P1Y2D"),
        lambda: call("date", year=Decimal(2021), month=Decimal(1)),
        lambda: call("date", when="2021-01-01"),
        lambda: call("date", Decimal(2021), Decimal(1)),
        lambda: temporal.add(at("2021-01-01"), at("2021-01-01")),
        lambda: temporal.multiply(at("P1D"), at("P1D")),
        lambda: temporal.divide(at("P1D"), Decimal(0)),
        lambda: temporal.divide(at("P1Y"), at("P0M")),
        lambda: temporal.negate(at("10:00:00")),
        lambda: temporal.add(at("P1D"), None),
        lambda: temporal.parse_at_literal("2021-01-01T10:00:00@No/Such_Zone"),
        lambda: temporal.parse_at_literal("10:00"),
        lambda: temporal.parse_at_literal("-2017-12-31T25:00:00"),  # invalid first: not a refusal
        lambda: temporal.parse_at_literal("99999-12-31T10:00:00@No/Such_Zone"),
        lambda: temporal.parse_at_literal("-2017-02-29"),
    ],
)
def test_what_feel_leaves_undefined_is_a_feel_error(make: Callable[[], Any]) -> None:
    with pytest.raises(FeelError):
        make()


def test_durations_scale_and_divide() -> None:
    assert temporal.multiply(Decimal("-2.5"), at("P1Y11M")) == at("-P4Y9M")  # 57.5 months: toward zero
    assert temporal.divide(at("P10Y11M"), Decimal("-2.5")) == at("-P4Y4M")
    assert temporal.divide(at("P1D"), Decimal(3)) == DayTimeDuration(Decimal(86400) / Decimal(3))
    assert temporal.divide(at("P1D"), at("PT1H")) == Decimal(24)
    assert temporal.divide(at("P1Y"), at("P5M")) == Decimal("2.4")
    assert temporal.negate(at("P0D")) == at("PT0S")
    assert temporal.to_string(temporal.negate(at("P0D"))) == "PT0S"


def test_durations_beyond_what_the_engine_holds_are_refused() -> None:
    with pytest.raises(UnsupportedTemporalValue):
        temporal.multiply(at("P1D"), Decimal("1e6000"))
    with pytest.raises(UnsupportedTemporalValue):
        temporal.multiply(at("P1Y"), Decimal("1e20"))
    assert temporal.multiply(at("PT1S"), Decimal("1e17")) == DayTimeDuration(Decimal("1e17"))
    with pytest.raises(FeelError):
        temporal.multiply(at("P1D"), Decimal("1e6144") * 10)  # beyond decimal128: a FEEL error


def test_identical_values_keep_their_zone() -> None:
    assert temporal.identical(at("2021-01-01T10:00:00.000001Z"), at("2021-01-01T10:00:00.000001+00:00"))
    assert not temporal.identical(at("2021-01-01T10:00:00.0001"), at("2021-01-01T10:00:00"))
    assert not temporal.identical(at("2021-01-01T10:00:00@Etc/UTC"), at("2021-01-01T10:00:00Z"))
    assert not temporal.identical(at("10:00:00"), at("10:00:00Z"))
    assert not temporal.identical(at("2021-01-01"), at("2021-01-01T00:00:00"))
    assert not temporal.identical(at("P0D"), at("P0M"))


def test_named_invocation_of_each_signature() -> None:
    assert call("date", year=Decimal(2018), month=Decimal(12), day=Decimal(10)) == date(2018, 12, 10)
    assert call("time", hour=Decimal(11), minute=Decimal(59), second=Decimal("0.5")) == FeelTime(
        11, 59, Decimal("0.5")
    )
    assert call("date and time", date=at("2018-12-10"), time=at("10:30:00Z")) == at("2018-12-10T10:30:00Z")
    assert call("years and months duration", to=at("2013-08-24"), **{"from": at("2011-12-22")}) == at("P1Y8M")
    assert call("time", **{"from": at("10:30:00@Europe/Paris")}) == at("10:30:00@Europe/Paris")
    assert call("date and time", **{"from": at("2018-12-10")}) == at("2018-12-10T00:00:00")
    assert call("day of week", date=at("2021-01-17")) == "Sunday"
    assert call("week of year", date=at("2021-01-03")) == Decimal(53)
    assert BUILTINS["date and time"].parameters == ("from",)


def test_now_and_today_read_the_injected_clock(fixed_clock: datetime) -> None:
    assert call("now") == fixed_clock
    assert call("today") == date(2026, 12, 7)
    assert call("now").tzinfo is not None


def test_today_is_the_day_in_the_clocks_zone(fixed_clock: datetime) -> None:
    token = CLOCK.set(lambda: fixed_clock.astimezone(ZoneInfo("Asia/Shanghai")))
    try:
        assert call("today") == date(2026, 12, 8)  # 07:00 on the 8th in Beijing, 23:00 on the 7th in UTC
        assert equal(call("now"), fixed_clock) is True
    finally:
        CLOCK.reset(token)


def test_a_naive_clock_is_refused() -> None:
    token = CLOCK.set(lambda: datetime(2026, 1, 1))
    try:
        with pytest.raises(FeelError):
            call("now")
    finally:
        CLOCK.reset(token)


def test_the_default_clock_is_the_system_clock_in_utc() -> None:
    now = call("now")
    assert now.tzinfo is UTC
    assert abs(now - SystemClock().now()) < timedelta(minutes=1)


# --- the runner's reading of XML Schema temporal values -----------------------------------------------------


def _xsd(kind: str, text: str) -> Any:
    element = etree.fromstring(
        f'<value xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xsi:type="xsd:{kind}">{text}</value>'
    )
    return tck_runner._scalar(element)


def test_the_runner_reads_xsd_temporal_values() -> None:
    assert _xsd("dateTime", "2016-12-24T23:59:00-08:00") == at("2016-12-24T23:59:00-08:00")
    assert _xsd("time", "12:59:01.3-01:00") == FeelTime(12, 59, Decimal("1.3"), timezone(timedelta(hours=-1)))
    assert _xsd("duration", "P13DT2H14S") == at("P13DT2H14S")
    assert _xsd("duration", "-P1Y") == YearMonthDuration(-12)
    for xsd_type, text in (("dateTime", "-2017-12-31T11:22:33"), ("time", "2017-01-01"), ("duration", "P")):
        assert isinstance(_xsd(xsd_type, text), tck_runner.Untyped)


def test_the_runner_compares_temporal_values_exactly() -> None:
    same = tck_runner.same
    assert same(at("2021-01-01T10:00:00Z"), at("2021-01-01T10:00:00@Etc/UTC"))
    assert not same(at("2021-01-01T10:00:00Z"), at("2021-01-01T10:00:00"))
    assert not same(at("2021-01-01T10:00:00Z"), at("2021-01-01T11:00:00+01:00"))  # another lexical value
    assert not same(at("2021-01-01T10:00:00.0001"), at("2021-01-01T10:00:00"))
    assert same(at("10:00:00.5"), at("10:00:00.50"))
    assert not same(at("10:00:00.0001"), at("10:00:00.0002"))
    assert not same(at("10:00:00Z"), at("10:00:00"))
    assert same(at("P1D"), at("PT24H"))
    assert not same(at("P0D"), at("P0M"))
    assert not same(at("2021-01-01"), at("2021-01-01T00:00:00"))


def test_at_literals_compile_once_and_fail_only_when_evaluated() -> None:
    value = temporal.at_literal_evaluator("2021-01-01T10:00:00@Europe/Paris")
    assert value() == at("2021-01-01T10:00:00@Europe/Paris")
    invalid = temporal.at_literal_evaluator("foo")
    with pytest.raises(FeelError):
        invalid()
    beyond = temporal.at_literal_evaluator("-2021-01-01T10:10:10+11:00")
    with pytest.raises(UnsupportedTemporalValue):
        beyond()
