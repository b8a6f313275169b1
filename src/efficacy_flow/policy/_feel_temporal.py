"""FEEL's temporal types (DMN 1.5 10.3.2.3 and 10.3.4.1, 10.3.2.7): time, the two durations, and the
semantics of date, time, date and time and durations — equality, ordering, arithmetic, properties, string
forms, ``@"…"`` literals and the temporal built-in functions.

CONTRACT STUB: the signatures below are what ``_feel_values``, ``_expr`` and ``_feel_builtins`` call; the
temporal work fills them in without changing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Final

from efficacy_flow.policy._feel_values import FeelError, FeelFunction

__all__ = [
    "BUILTINS",
    "DayTimeDuration",
    "FeelTime",
    "YearMonthDuration",
    "add",
    "compare",
    "divide",
    "equal",
    "kind",
    "multiply",
    "negate",
    "parse_at_literal",
    "property_of",
    "subtract",
    "to_string",
]


@dataclass(frozen=True, slots=True)
class FeelTime:
    """A FEEL time: hour, minute, second (with fraction), and an optional zone (a fixed offset or a named
    ``ZoneInfo``)."""

    hour: int
    minute: int
    second: Decimal
    zone: tzinfo | None = None


@dataclass(frozen=True, slots=True)
class DayTimeDuration:
    """``days and time duration``: a signed number of seconds (fraction allowed)."""

    seconds: Decimal


@dataclass(frozen=True, slots=True)
class YearMonthDuration:
    """``years and months duration``: a signed number of months."""

    months: int


def kind(value: Any) -> str | None:
    """The FEEL type name of a FeelTime or duration, else None."""
    if isinstance(value, FeelTime):
        return "time"
    if isinstance(value, DayTimeDuration):
        return "days and time duration"
    if isinstance(value, YearMonthDuration):
        return "years and months duration"
    return None


def equal(a: Any, b: Any) -> bool | None:
    """FEEL ``=`` of two temporal values of one kind (date, date and time, time, a duration); None when the
    two cannot be compared (a zoned and a local date and time, say)."""
    raise FeelError("temporal equality is not implemented yet")


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1 for two temporal values of one kind, None when they are not ordered."""
    raise FeelError("temporal ordering is not implemented yet")


def add(a: Any, b: Any) -> Any:
    """``a + b`` where at least one is temporal; raises FeelError when FEEL defines no value."""
    raise FeelError("temporal arithmetic is not implemented yet")


def subtract(a: Any, b: Any) -> Any:
    """``a - b`` where at least one is temporal; raises FeelError when FEEL defines no value."""
    raise FeelError("temporal arithmetic is not implemented yet")


def multiply(a: Any, b: Any) -> Any:
    """``a * b``: a duration times a number (either order)."""
    raise FeelError("temporal arithmetic is not implemented yet")


def divide(a: Any, b: Any) -> Any:
    """``a / b``: a duration by a number, or a duration by a duration of the same kind (a number)."""
    raise FeelError("temporal arithmetic is not implemented yet")


def negate(a: Any) -> Any:
    """``-a`` of a duration."""
    raise FeelError("temporal arithmetic is not implemented yet")


def property_of(value: Any, name: str) -> Any:
    """``value.name`` (year, month, day, weekday, hour, minute, second, time offset, timezone, days, hours,
    minutes, seconds, years, months, …); raises FeelError for a name the type does not have."""
    raise FeelError(f"no property {name!r}")


def to_string(value: Any) -> str:
    """FEEL ``string(value)`` of a temporal value (``2025-01-01``, ``P1DT2H``, ``10:30:00@Europe/Paris``)."""
    raise FeelError("temporal string forms are not implemented yet")


def parse_at_literal(text: str) -> Any:
    """The value of ``@"text"`` (a date, time, date and time or duration); raises FeelError if it is none."""
    raise FeelError(f"@{text!r} is not implemented yet")


#: name → function: date, time, date and time, duration, years and months duration, day of year, day of week,
#: month of year, week of year, now, today, …
BUILTINS: Final[Mapping[str, FeelFunction]] = {}
