"""The DMN TCK's built-in function cases (tests/policy/feel_builtins_tck_cases.py, generated from the level-3
folders by make_feel_builtins_tck_cases.py) as direct calls of ``BUILTINS``: each case's arguments, positional
or named, and the value the TCK expects, or the error it expects.

The ``range()`` cases with temporal endpoints read them through ``_feel_temporal`` (``parse_at_literal``,
``date(…)``, ordering); for those, the test puts the generator's small literal reader in its place, so they
check how ``range()`` parses and assembles the text, not the temporal module (whose own tests do that).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from tests.policy.feel_builtins_tck_cases import CASES, ERROR, Case
from tests.policy.make_feel_builtins_tck_cases import temporal
from tests.policy.tck_runner import same

from efficacy_flow.policy import _feel_temporal
from efficacy_flow.policy._feel_builtins import BUILTINS
from efficacy_flow.policy._feel_temporal import DayTimeDuration, FeelTime, YearMonthDuration
from efficacy_flow.policy._feel_values import FeelError, FeelRange, LambdaFunction


def _same_number(expected: Decimal, got: Any) -> bool:
    """The TCK runner's rule, or within half a unit of the expected value's last digit (the TCK prints
    ``exp(-1)`` as ``0.36787944``)."""
    if same(expected, got):
        return True
    half_unit = Decimal(5).scaleb(expected.as_tuple().exponent - 1)  # type: ignore[operator]
    return isinstance(got, Decimal) and abs(got - expected) <= half_unit


def _same(expected: Any, got: Any) -> bool:
    """The TCK runner's comparison, extended to the values it does not read from XML (ranges, temporals)."""
    if isinstance(expected, FeelRange):
        return (
            isinstance(got, FeelRange)
            and (expected.start_included, expected.end_included) == (got.start_included, got.end_included)
            and _same(expected.start, got.start)
            and _same(expected.end, got.end)
        )
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(map(_same, expected, got))
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(expected)
            and all(_same(value, got[key]) for key, value in expected.items())
        )
    if isinstance(expected, Decimal) and not isinstance(expected, bool):
        return _same_number(expected, got)
    if expected is None or isinstance(expected, bool | str):
        return same(expected, got)
    return type(got) is type(expected) and got == expected


def _order(a: Any, b: Any) -> int | None:
    """A stand-in for ``_feel_temporal.compare`` on the TCK's (zone-free) literals."""
    if type(a) is not type(b):
        return None
    keys = {
        FeelTime: lambda t: (t.hour, t.minute, t.second),
        DayTimeDuration: lambda d: d.seconds,
        YearMonthDuration: lambda d: d.months,
    }
    key = keys.get(type(a), lambda v: v)
    x, y = key(a), key(b)
    return -1 if x < y else (1 if x > y else 0)


@pytest.fixture
def literal_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_feel_temporal, "parse_at_literal", temporal)
    monkeypatch.setattr(_feel_temporal, "compare", _order)
    functions = {
        name: LambdaFunction(name, ("from",), lambda scope: temporal(scope["from"]))
        for name in ("date", "time", "date and time", "duration")
    }
    monkeypatch.setattr(_feel_temporal, "BUILTINS", functions)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_tck_case(case: Case, request: pytest.FixtureRequest) -> None:
    if case.temporal and case.function == "range":
        request.getfixturevalue("literal_reader")
    function = BUILTINS[case.function]
    if case.expected is ERROR:
        with pytest.raises(FeelError):
            function.invoke(case.positional, case.named)
        return
    got = function.invoke(case.positional, case.named)
    assert _same(case.expected, got), f"{case.feel}: expected {case.expected!r}, got {got!r}"


def test_the_table_covers_every_folder() -> None:
    """Every folder the generator reads gives cases (a generator regression would silently drop some)."""
    folders = {case.id[:4] for case in CASES}
    assert {"0050", "0103", "1109", "1111", "1130", "1146", "1155", "1156"} <= folders
    assert len(CASES) > 800
    assert date(1970, 1, 1) == temporal("1970-01-01")
