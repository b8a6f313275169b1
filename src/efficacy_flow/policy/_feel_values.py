"""FEEL values (DMN 1.5 chapter 10.3.2): how each FEEL type is held in Python, and the value semantics every
part of the evaluator shares — kind, equality, ordering, function values, errors.

This module is the contract between the FEEL compiler (``_expr``), the temporal types (``_feel_temporal``),
the built-in function library (``_feel_builtins``), FEEL types (``_feel_types``) and the DMN model
(``_dmn``). Python's own ``==`` and ``<`` are never used on FEEL values: ``equal`` and ``compare`` are.

============================  ================================================================================
FEEL type                     Python
============================  ================================================================================
null                          ``None``
number                        ``decimal.Decimal`` (decimal128: 34 digits, half even; see ``CONTEXT``)
string                        ``str``
boolean                       ``bool``
date                          ``datetime.date`` (never a ``datetime``)
date and time                 ``datetime``: naive (local), a fixed ``timezone`` offset or a ``ZoneInfo``
time                          ``_feel_temporal.FeelTime``
days and time duration        ``_feel_temporal.DayTimeDuration``
years and months duration     ``_feel_temporal.YearMonthDuration``
list                          ``list``
context                       ``dict[str, Any]`` (insertion order is the context's order)
range                         ``FeelRange``
function                      a ``FeelFunction``
============================  ================================================================================
"""

from __future__ import annotations

import decimal
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "CONTEXT",
    "ComparisonRange",
    "FeelError",
    "FeelFunction",
    "FeelRange",
    "LambdaFunction",
    "compare",
    "equal",
    "kind",
    "to_feel",
]

#: FEEL numbers: IEEE 754 decimal128 (34 digits, round half even); errors are trapped and become null.
CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


class FeelError(Exception):
    """A FEEL evaluation error: null in DMN's semantics, raised in strict mode; ``problem`` says what.

    Operators and built-ins raise it; the compiler turns it into null unless the model is strict.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class FeelFunction(ABC):
    """A FEEL function value: a built-in, a business knowledge model, a ``function(…)`` literal, a decision
    service. ``invoke`` takes positional or named arguments (one of the two is ``None``)."""

    name: str
    #: The parameter names (of the first signature, for a built-in with several).
    parameters: tuple[str, ...]

    @abstractmethod
    def invoke(self, positional: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        """Call the function. Raises FeelError for an invocation that has no value (wrong arguments)."""

    def __call__(self, arguments: Sequence[Any]) -> Any:
        return self.invoke(arguments, None)


@dataclass(frozen=True, slots=True, eq=False)
class LambdaFunction(FeelFunction):
    """A function defined in the model: ``function(a, b) a + b``, a business knowledge model, a boxed function
    definition. ``body`` evaluates on a scope: ``closure`` (the scope it was defined in) with the parameters
    bound over it. A parameter not given by name is null; the wrong number of positional arguments is an
    invocation with no value."""

    name: str
    parameters: tuple[str, ...]
    body: Callable[[Mapping[str, Any]], Any]
    closure: Mapping[str, Any] = field(default_factory=dict)

    def invoke(self, positional: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        if positional is not None:
            if len(positional) != len(self.parameters):
                raise FeelError(f"{self.name} takes {len(self.parameters)} arguments, not {len(positional)}")
            bound = dict(zip(self.parameters, positional, strict=True))
        else:
            given = dict(named or {})
            unknown = set(given) - set(self.parameters)
            if unknown:
                raise FeelError(f"{self.name} has no parameter {sorted(unknown)[0]!r}")
            bound = {parameter: given.get(parameter) for parameter in self.parameters}
        return self.body({**self.closure, **bound} if self.closure else bound)


@dataclass(frozen=True, slots=True)
class FeelRange:
    """A FEEL range ``[start..end]``; an endpoint ``None`` is unbounded (``< 10`` is ``(None, False, 10,
    False)``)."""

    start: Any
    start_included: bool
    end: Any
    end_included: bool


@dataclass(frozen=True, slots=True)
class ComparisonRange(FeelRange):
    """A range written as a comparison (DMN 1.5 10.3.2.7): ``< 10`` is ``(None, False, 10, False)``,
    ``= 10`` is ``[10..10]``, ``!= 10`` has both endpoints 10, excluded. ``operator`` remembers how it was
    written: FEEL holds ``(< 10)`` and ``(null..10)``, or ``(= 10)`` and ``[10..10]``, as different ranges."""

    operator: str = "<"


def to_feel(value: Any) -> Any:
    """A Python value as FEEL sees it: int and float become Decimal; tuples lists; mappings dicts."""
    kind_ = type(value)
    if kind_ is str or kind_ is bool or value is None or kind_ is Decimal:
        return value
    if kind_ is int:
        return Decimal(value)
    if kind_ is float:
        return Decimal(repr(value))  # the shortest digits that round-trip: what was written
    if isinstance(value, Mapping):
        return {str(key): to_feel(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_feel(item) for item in value]
    return value


def kind(value: Any) -> str:
    """The FEEL type name of a value: ``number``, ``date and time``, ``days and time duration``, …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "date and time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, FeelRange):
        return "range"
    if isinstance(value, FeelFunction):
        return "function"
    name = _feel_temporal.kind(value)
    return name if name is not None else type(value).__name__


def equal(a: Any, b: Any) -> bool | None:
    """FEEL ``a = b`` (DMN 1.5 10.3.2.2 and table 54): null equals only null; values of different kinds are
    not comparable (None); lists element-wise, contexts entry-wise (same keys), ranges by their endpoints;
    numbers by value (``1 = 1.0``)."""
    if a is None or b is None:
        return a is None and b is None
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return None
    if ka in ("number", "string", "boolean"):
        return bool(a == b)
    if ka == "list":
        if len(a) != len(b):
            return False
        result: bool | None = True
        for x, y in zip(a, b, strict=True):
            each = equal(x, y)
            if each is False:
                return False
            if each is None:
                result = None
        return result
    if ka == "context":
        if set(a) != set(b):
            return False
        result = True
        for key in a:
            each = equal(a[key], b[key])
            if each is False:
                return False
            if each is None:
                result = None
        return result
    if ka == "range":
        return bool(
            a.start_included == b.start_included
            and a.end_included == b.end_included
            and equal(a.start, b.start) is True
            and equal(a.end, b.end) is True
        )
    if ka == "function":
        return a is b
    return _feel_temporal.equal(a, b)


def compare(a: Any, b: Any) -> int | None:
    """FEEL ordering: -1, 0 or 1 when ``a`` and ``b`` are ordered (numbers, strings, dates, times, dates
    and times, durations of one kind); None when they are not comparable (null, different kinds, booleans,
    lists)."""
    if a is None or b is None:
        return None
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return None
    if ka in ("number", "string"):
        return -1 if a < b else (1 if a > b else 0)
    if ka in ("boolean", "list", "context", "range", "function", "null"):
        return None
    return _feel_temporal.compare(a, b)


# The temporal types sit on this module (FeelError, FeelFunction, CONTEXT); imported last, so each of the two
# modules finds the other complete whichever is imported first.
from efficacy_flow.policy import _feel_temporal  # noqa: E402
