"""FEEL's range functions (DMN 1.5 10.3.4.7, table 71: ``before``, ``after``, ``meets``, ``met by``,
``overlaps``, ``overlaps before``, ``overlaps after``, ``finishes``, ``finished by``, ``includes``,
``during``, ``starts``, ``started by``, ``coincides``) over points and ``FeelRange`` values, and
``range(from)`` (DMN 1.5 10.3.4.2), which reads a range from its FEEL text.

Each function follows the table's definition term by term. An unbounded endpoint (``None``: the ``< 10``
range) is below or above every point; points that FEEL does not order (a number and a string, say) raise
FeelError.
"""

from __future__ import annotations

import re
from typing import Any, Final

from efficacy_flow.policy import _feel_temporal
from efficacy_flow.policy._feel_signatures import POINT_KINDS, Library
from efficacy_flow.policy._feel_values import CONTEXT, FeelError, FeelRange, compare, kind

__all__ = ["LIBRARY", "parse_range"]

#: The range functions, by name.
LIBRARY: Final = Library()

_LOW: Final = -1  # an unbounded start
_HIGH: Final = 1  # an unbounded end


def _cmp(a: Any, b: Any, a_side: int = 0, b_side: int = 0) -> int:
    """-1/0/1 for two points; ``None`` with a side (``_LOW``/``_HIGH``) is an unbounded endpoint."""
    if a is None or b is None:
        if a is None and b is None and a_side == b_side:
            return 0
        if a is None:
            return a_side if a_side else _missing()
        return -b_side if b_side else _missing()
    order = compare(a, b)
    if order is None:
        raise FeelError(f"{kind(a)} and {kind(b)} are not ordered")
    return order


def _missing() -> int:
    raise FeelError("null is not a point")


def _start(r: FeelRange) -> tuple[Any, int]:
    return r.start, _LOW


def _end(r: FeelRange) -> tuple[Any, int]:
    return r.end, _HIGH


def _c(x: tuple[Any, int], y: tuple[Any, int]) -> int:
    return _cmp(x[0], y[0], x[1], y[1])


def _p(point: Any) -> tuple[Any, int]:
    if point is None:
        raise FeelError("null is not a point")
    return point, 0


_PP: Final = "point1: point, point2: point"
_PR: Final = "point: point, range: range"
_RP: Final = "range: range, point: point"
_RR: Final = "range1: range, range2: range"


@LIBRARY.builtin("before", _PP, _PR, _RP, _RR)
def _before(a: Any, b: Any) -> bool:
    if not isinstance(a, FeelRange) and not isinstance(b, FeelRange):
        return _c(_p(a), _p(b)) < 0
    if not isinstance(a, FeelRange):
        order = _c(_p(a), _start(b))
        return order < 0 or (order == 0 and not b.start_included)
    if not isinstance(b, FeelRange):
        order = _c(_end(a), _p(b))
        return order < 0 or (order == 0 and not a.end_included)
    order = _c(_end(a), _start(b))
    return order < 0 or (order == 0 and (not a.end_included or not b.start_included))


@LIBRARY.builtin("after", _PP, _PR, _RP, _RR)
def _after(a: Any, b: Any) -> bool:
    if not isinstance(a, FeelRange) and not isinstance(b, FeelRange):
        return _c(_p(a), _p(b)) > 0
    if not isinstance(a, FeelRange):
        order = _c(_p(a), _end(b))
        return order > 0 or (order == 0 and not b.end_included)
    if not isinstance(b, FeelRange):
        order = _c(_start(a), _p(b))
        return order > 0 or (order == 0 and not a.start_included)
    order = _c(_start(a), _end(b))
    return order > 0 or (order == 0 and (not a.start_included or not b.end_included))


@LIBRARY.builtin("meets", _RR)
def _meets(a: FeelRange, b: FeelRange) -> bool:
    return a.end_included and b.start_included and _c(_end(a), _start(b)) == 0


@LIBRARY.builtin("met by", _RR)
def _met_by(a: FeelRange, b: FeelRange) -> bool:
    return a.start_included and b.end_included and _c(_start(a), _end(b)) == 0


def _ends_after_start(a: FeelRange, b: FeelRange) -> bool:
    """``a.end > b.start or (a.end = b.start and a.end included and b.start included)``."""
    order = _c(_end(a), _start(b))
    return order > 0 or (order == 0 and a.end_included and b.start_included)


@LIBRARY.builtin("overlaps", _RR)
def _overlaps(a: FeelRange, b: FeelRange) -> bool:
    return _ends_after_start(a, b) and _ends_after_start(b, a)


def _overlaps_before(a: FeelRange, b: FeelRange) -> bool:
    starts = _c(_start(a), _start(b))
    ends = _c(_end(a), _end(b))
    return (
        (starts < 0 or (starts == 0 and a.start_included and not b.start_included))
        and _ends_after_start(a, b)
        and (ends < 0 or (ends == 0 and (not a.end_included or b.end_included)))
    )


@LIBRARY.builtin("overlaps before", _RR)
def _overlaps_before_function(a: FeelRange, b: FeelRange) -> bool:
    return _overlaps_before(a, b)


@LIBRARY.builtin("overlaps after", _RR)
def _overlaps_after(a: FeelRange, b: FeelRange) -> bool:
    return _overlaps_before(b, a)


@LIBRARY.builtin("finishes", "point: point, range: range", _RR)
def _finishes(a: Any, b: FeelRange) -> bool:
    if not isinstance(a, FeelRange):
        return b.end_included and _c(_end(b), _p(a)) == 0
    starts = _c(_start(a), _start(b))
    return (
        a.end_included == b.end_included
        and _c(_end(a), _end(b)) == 0
        and (starts > 0 or (starts == 0 and (not a.start_included or b.start_included)))
    )


@LIBRARY.builtin("finished by", "range: range, point: point", _RR)
def _finished_by(a: FeelRange, b: Any) -> bool:
    if not isinstance(b, FeelRange):
        return a.end_included and _c(_end(a), _p(b)) == 0
    return bool(_finishes(b, a))


def _includes(a: FeelRange, b: Any) -> bool:
    if not isinstance(b, FeelRange):
        low, high = _c(_start(a), _p(b)), _c(_end(a), _p(b))
        return (low < 0 and high > 0) or (low == 0 and a.start_included) or (high == 0 and a.end_included)
    starts, ends = _c(_start(a), _start(b)), _c(_end(a), _end(b))
    return (starts < 0 or (starts == 0 and (a.start_included or not b.start_included))) and (
        ends > 0 or (ends == 0 and (a.end_included or not b.end_included))
    )


@LIBRARY.builtin("includes", "range: range, point: point", _RR)
def _includes_function(a: FeelRange, b: Any) -> bool:
    return _includes(a, b)


@LIBRARY.builtin("during", "point: point, range: range", _RR)
def _during(a: Any, b: FeelRange) -> bool:
    return _includes(b, a)


@LIBRARY.builtin("starts", "point: point, range: range", _RR)
def _starts(a: Any, b: FeelRange) -> bool:
    if not isinstance(a, FeelRange):
        return b.start_included and _c(_start(b), _p(a)) == 0
    ends = _c(_end(a), _end(b))
    return (
        _c(_start(a), _start(b)) == 0
        and a.start_included == b.start_included
        and (ends < 0 or (ends == 0 and (not a.end_included or b.end_included)))
    )


@LIBRARY.builtin("started by", "range: range, point: point", _RR)
def _started_by(a: FeelRange, b: Any) -> bool:
    if not isinstance(b, FeelRange):
        return a.start_included and _c(_start(a), _p(b)) == 0
    return bool(_starts(b, a))


@LIBRARY.builtin("coincides", _PP, _RR)
def _coincides(a: Any, b: Any) -> bool:
    if not isinstance(a, FeelRange) and not isinstance(b, FeelRange):
        return _c(_p(a), _p(b)) == 0
    if not isinstance(a, FeelRange) or not isinstance(b, FeelRange):
        raise FeelError("coincides of a point and a range")
    return (
        _c(_start(a), _start(b)) == 0
        and a.start_included == b.start_included
        and _c(_end(a), _end(b)) == 0
        and a.end_included == b.end_included
    )


# --- range(from) --------------------------------------------------------------------------------------------

_ENDPOINT: Final = (
    r"""\s*(?:(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"""
    r"""|"(?P<string>(?:[^"\\]|\\.)*)\""""
    r"""|@"(?P<at>(?:[^"\\]|\\.)*)\""""
    r"""|(?P<function>date and time|date|time|duration)\s*\(\s*"(?P<argument>(?:[^"\\]|\\.)*)"\s*\))\s*"""
)
_RANGE: Final = re.compile(
    r"\s*(?P<open>[\[(\]])"
    + _ENDPOINT.replace("?P<", "?P<s_")
    + r"\.\."
    + _ENDPOINT.replace("?P<", "?P<e_")
    + r"(?P<close>[\])\[])\s*",
    re.DOTALL,
)
_ESCAPES: Final = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(text: str) -> str:
    """A FEEL string literal's content: ``\\"``, ``\\\\``, ``\\n``, ``\\r``, ``\\t``, ``\\uXXXX``."""

    def one(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape[0] == "u":
            return chr(int(escape[1:], 16))
        return _ESCAPES.get(escape, "\\" + escape)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, text)


def _endpoint(match: re.Match[str], prefix: str) -> Any:
    group = match.groupdict()
    if group[prefix + "number"] is not None:
        return CONTEXT.create_decimal(group[prefix + "number"])
    if group[prefix + "string"] is not None:
        return _unescape(group[prefix + "string"])
    if group[prefix + "at"] is not None:
        return _feel_temporal.parse_at_literal(_unescape(group[prefix + "at"]))
    name = group[prefix + "function"]
    function = _feel_temporal.BUILTINS.get(name)
    if function is None:
        raise FeelError(f"{name}() is not available")
    return function.invoke([_unescape(group[prefix + "argument"])], None)


def parse_range(text: str) -> FeelRange:
    """The range a string spells (``"[1..10]"``, ``"(\\"a\\"..\\"c\\"]"``,
    ``"[@\\"2018-01-01\\"..@\\"2018-12-31\\"]"``,
    ``"[date(\\"…\\")..date(\\"…\\")]"``): two endpoints of one kind, literals only, the start not after the
    end; anything else raises FeelError."""
    if len(text) > 1_000:
        raise FeelError("range text too long")
    match = _RANGE.fullmatch(text)
    if match is None:
        raise FeelError(f"{text!r} is not a range literal")
    start, end = _endpoint(match, "s_"), _endpoint(match, "e_")
    if kind(start) not in POINT_KINDS or kind(start) != kind(end):
        raise FeelError(f"range endpoints {kind(start)} and {kind(end)}")
    order = compare(start, end)
    if order is None or order > 0:
        raise FeelError("the range's start is after its end")
    return FeelRange(start, match.group("open") == "[", end, match.group("close") == "]")


@LIBRARY.builtin("range", "from: string")
def _range(text: str) -> FeelRange:
    return parse_range(text)
