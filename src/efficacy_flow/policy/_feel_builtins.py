"""FEEL's built-in function library (DMN 1.5 10.3.4): conversion, boolean, string, list, numeric and context
functions here, the range functions from ``_feel_ranges``; the temporal functions are ``_feel_temporal``'s.

``BUILTINS`` maps each function name (with its spaces: ``string length``) to a ``_feel_signatures.Builtin``:
a FeelFunction taking positional or named arguments. Each function is declared with its signatures and the
FEEL types of its parameters (``_feel_signatures`` says how an invocation is bound); an invocation none of
them takes, or arguments outside a function's domain, raise FeelError (null in DMN's semantics). Numbers are
computed in decimal128 (``CONTEXT``); equality and ordering are FEEL's (``equal``/``compare``).
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cmp_to_key
from typing import Any, Final

from efficacy_flow.policy import _feel_temporal
from efficacy_flow.policy._feel_regex import compile_xpath
from efficacy_flow.policy._feel_signatures import MAX_CHARS, MAX_ITEMS, Library, bounded
from efficacy_flow.policy._feel_values import (
    CONTEXT,
    FeelError,
    FeelFunction,
    FeelRange,
    compare,
    equal,
    kind,
)

__all__ = ["BUILTINS", "LIBRARY", "feel_string"]

#: The functions of this module, by name.
LIBRARY: Final = Library()
#: Scales the rounding functions accept (DMN 1.5 10.3.4.5: decimal128's exponent range).
_MIN_SCALE: Final = -6111
_MAX_SCALE: Final = 6176


def _fail(problem: str) -> FeelError:
    return FeelError(problem)


def _integer(value: Decimal, what: str) -> int:
    """A number used as a position or count: its integer part (``2.5`` → 2), bounded."""
    if not value.is_finite() or abs(value) > MAX_ITEMS * 10:
        raise _fail(f"{what} out of range")
    return int(value)


def _number(value: Decimal) -> Decimal:
    """A number result: never ``-0``."""
    return value.copy_abs() if value.is_zero() else value


# --- conversion and boolean functions (DMN 1.5 10.3.4.1, table 60; 10.3.4.2) --------------------------------


def feel_string(value: Any) -> str:
    """``string(from)``: numbers without exponent, ``true``/``false``, temporal values by ``_feel_temporal``,
    lists, contexts and ranges as FEEL text."""
    return _text(value, top=True)


def _text(value: Any, top: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _number_text(value)
    if isinstance(value, str):
        if top:
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_text(item, top=False) for item in value) + "]"
    if isinstance(value, dict):
        entries = ", ".join(f"{_key_text(key)}: {_text(item, top=False)}" for key, item in value.items())
        return "{" + entries + "}"
    if isinstance(value, FeelRange):
        return _range_text(value)
    if isinstance(value, FeelFunction):
        raise _fail("string() of a function")
    text = _feel_temporal.to_string(value)
    return text if top else f'@"{text}"'


def _range_text(value: FeelRange) -> str:
    """``[1..10)``; a range open on one side as its comparison (``< 10``, ``>= 5``, DMN 1.5 10.3.2.7)."""
    if value.start is None and value.end is None:
        raise _fail("string() of a range without endpoints")
    if value.start is None:
        return f"{'<=' if value.end_included else '<'} {_text(value.end, top=False)}"
    if value.end is None:
        return f"{'>=' if value.start_included else '>'} {_text(value.start, top=False)}"
    start, end = _text(value.start, top=False), _text(value.end, top=False)
    return f"{'[' if value.start_included else '('}{start}..{end}{']' if value.end_included else ')'}"


_NAME: Final = re.compile(r"[^\W\d][\w ]*(?<! )")


def _key_text(key: str) -> str:
    return key if _NAME.fullmatch(key) else _text(key, top=False)


def _number_text(value: Decimal) -> str:
    if not value.is_finite():
        raise _fail("not a finite number")
    if abs(value.adjusted()) > 1000:
        raise _fail("a number too large or small to print without an exponent")
    return format(_number(value), "f")


@LIBRARY.builtin("string", "from: any?")
def _string(value: Any) -> str | None:
    return None if value is None else feel_string(value)


_NUMBER_TEXT: Final = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


@LIBRARY.builtin(
    "number",
    "from: string",
    "from: string, grouping separator: string?, decimal separator: string?",
)
def _number_of(text: str, grouping: str | None = None, separator: str | None = None) -> Decimal:
    """``number(from, grouping separator, decimal separator)``: grouping one of space, comma, period; decimal
    one of comma, period; the two differ."""
    if grouping is not None and grouping not in (" ", ",", "."):
        raise _fail(f"grouping separator {grouping!r}")
    if separator is not None and separator not in (",", "."):
        raise _fail(f"decimal separator {separator!r}")
    if grouping is not None and grouping == separator:
        raise _fail("the grouping and decimal separators are the same")
    if len(text) > 10_000:
        raise _fail("number text too long")
    if grouping is not None:
        text = text.replace(grouping, "")
    if separator is not None and separator != ".":
        if "." in text:
            raise _fail(f"{text!r} is not a number")
        text = text.replace(separator, ".")
    if not _NUMBER_TEXT.fullmatch(text):
        raise _fail(f"{text!r} is not a number")
    return _number(CONTEXT.create_decimal(text))


@LIBRARY.builtin("not", "negand: boolean?")
def _not(value: bool | None) -> bool | None:
    """``not(negand)``: null stays null; a value that is not a boolean is an error (TCK 0066)."""
    return None if value is None else not value


@LIBRARY.builtin("is", "value1: any?, value2: any?")
def _is(a: Any, b: Any) -> bool:
    """``is(value1, value2)`` (DMN 1.5 10.3.4.1): same kind and equal; a temporal value also with the same
    kind of zone (``_feel_temporal.identical``: ``+00:00`` is ``Z``, not ``@Etc/GMT``)."""
    if kind(a) != kind(b):
        return False
    if isinstance(a, date) or _feel_temporal.kind(a) is not None:
        return _feel_temporal.identical(a, b)
    return equal(a, b) is True


# --- list functions (DMN 1.5 10.3.4.4, table 64) ------------------------------------------------------------


def _booleans(items: list[Any]) -> list[bool | None]:
    if any(item is not None and not isinstance(item, bool) for item in items):
        raise _fail("a list of booleans expected")
    return items


@LIBRARY.builtin("all", "list: list", spread=True)
def _all(items: list[Any]) -> bool | None:
    values = _booleans(items)
    if any(value is False for value in values):
        return False
    return None if any(value is None for value in values) else True


@LIBRARY.builtin("any", "list: list", spread=True)
def _any(items: list[Any]) -> bool | None:
    values = _booleans(items)
    if any(value is True for value in values):
        return True
    return None if any(value is None for value in values) else False


@LIBRARY.builtin("list contains", "list: list, element: any?")
def _list_contains(items: list[Any], element: Any) -> bool:
    return any(equal(item, element) is True for item in items)


@LIBRARY.builtin("count", "list: list")
def _count(items: list[Any]) -> Decimal:
    return Decimal(len(items))


def _ordered(a: Any, b: Any) -> int:
    order = compare(a, b)
    if order is None:
        raise _fail(f"{kind(a)} and {kind(b)} are not ordered")
    return order


def _extreme(items: list[Any], sign: int) -> Any:
    if not items:
        return None
    best = items[0]
    _ordered(best, best)
    for item in items[1:]:
        if _ordered(item, best) == sign:
            best = item
    return best


@LIBRARY.builtin("min", "list: list", spread=True)
def _min(items: list[Any]) -> Any:
    return _extreme(items, -1)


@LIBRARY.builtin("max", "list: list", spread=True)
def _max(items: list[Any]) -> Any:
    return _extreme(items, 1)


def _numbers(items: list[Any]) -> list[Decimal]:
    if not all(isinstance(item, Decimal) for item in items):
        raise _fail("a list of numbers expected")
    return items


def _total(values: list[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = CONTEXT.add(total, value)
    return total


@LIBRARY.builtin("sum", "list: list", spread=True)
def _sum(items: list[Any]) -> Decimal | None:
    values = _numbers(items)
    return _number(_total(values)) if values else None


@LIBRARY.builtin("mean", "list: list", spread=True)
def _mean(items: list[Any]) -> Decimal | None:
    values = _numbers(items)
    return _number(CONTEXT.divide(_total(values), Decimal(len(values)))) if values else None


@LIBRARY.builtin("median", "list: list", spread=True)
def _median(items: list[Any]) -> Decimal | None:
    values = sorted(_numbers(items))
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return _number(CONTEXT.divide(CONTEXT.add(values[middle - 1], values[middle]), Decimal(2)))


@LIBRARY.builtin("stddev", "list: list", spread=True)
def _stddev(items: list[Any]) -> Decimal:
    """The sample standard deviation; fewer than two numbers have none."""
    values = _numbers(items)
    if len(values) < 2:
        raise _fail("stddev needs at least two numbers")
    mean = CONTEXT.divide(_total(values), Decimal(len(values)))
    squares = _total([CONTEXT.power(CONTEXT.subtract(value, mean), 2) for value in values])
    return _number(CONTEXT.sqrt(CONTEXT.divide(squares, Decimal(len(values) - 1))))


@LIBRARY.builtin("mode", "list: list", spread=True)
def _mode(items: list[Any]) -> list[Decimal]:
    """The most frequent numbers, ascending."""
    counts: dict[Decimal, int] = {}
    for value in _numbers(items):
        counts[value] = counts.get(value, 0) + 1
    if not counts:
        return []
    most = max(counts.values())
    return sorted(value for value, count in counts.items() if count == most)


@LIBRARY.builtin("product", "list: list", spread=True)
def _product(items: list[Any]) -> Decimal:
    values = _numbers(items)
    if not values:
        raise _fail("product of an empty list")
    result = Decimal(1)
    for value in values:
        result = CONTEXT.multiply(result, value)
    return _number(result)


def _position(items: list[Any], position: Decimal, extra: int = 0) -> int:
    """A 1-based position (negative: from the end) as a 0-based index; ``extra`` allows one past the end."""
    index = _integer(position, "position")
    size = len(items)
    if 1 <= index <= size + extra:
        return index - 1
    if -size <= index <= -1:
        return size + index
    raise _fail(f"position {index} outside a list of {size}")


@LIBRARY.builtin(
    "sublist", "list: list, start position: number", "list: list, start position: number, length: number"
)
def _sublist(items: list[Any], start: Decimal, length: Decimal | None = None) -> list[Any]:
    first = _position(items, start)
    if length is None:
        return items[first:]
    count = _integer(length, "length")
    if count < 0 or first + count > len(items):
        raise _fail("sublist length outside the list")
    return items[first : first + count]


@LIBRARY.builtin("append", "list: list, *item: any?")
def _append(items: list[Any], more: list[Any]) -> list[Any]:
    return [*items, *more]


@LIBRARY.builtin("concatenate", "*list: list")
def _concatenate(lists: list[list[Any]]) -> list[Any]:
    result: list[Any] = []
    for each in lists:
        result.extend(each)
        bounded(result)
    return result


@LIBRARY.builtin("insert before", "list: list, position: number, newItem: any?")
def _insert_before(items: list[Any], position: Decimal, item: Any) -> list[Any]:
    index = _position(items, position)
    return [*items[:index], item, *items[index:]]


@LIBRARY.builtin("remove", "list: list, position: number")
def _remove(items: list[Any], position: Decimal) -> list[Any]:
    index = _position(items, position)
    return [*items[:index], *items[index + 1 :]]


@LIBRARY.builtin("reverse", "list: list")
def _reverse(items: list[Any]) -> list[Any]:
    return items[::-1]


@LIBRARY.builtin("index of", "list: list, match: any?")
def _index_of(items: list[Any], match: Any) -> list[Decimal]:
    return [Decimal(number) for number, item in enumerate(items, 1) if equal(item, match) is True]


#: The most FEEL equality tests ``distinct values``/``union`` make on items that cannot be hashed (lists,
#: contexts, temporal values): beyond, FeelError rather than quadratic work.
MAX_COMPARISONS: Final = 10_000_000


def _distinct(items: list[Any]) -> list[Any]:
    """The items without the later duplicates (FEEL equality): numbers, strings and booleans by a hash of
    their value (``Decimal`` hashes ``1`` and ``1.0`` alike), the other kinds by ``equal``."""
    result: list[Any] = []
    hashed: set[tuple[str, Any]] = set()
    others: list[Any] = []
    budget = MAX_COMPARISONS
    for item in items:
        if item is None or isinstance(item, bool | Decimal | str):
            key = (kind(item), item)
            if key not in hashed:
                hashed.add(key)
                result.append(item)
            continue
        budget -= len(others)
        if budget < 0:
            raise _fail("distinct values: too many items to compare")
        if not any(equal(item, seen) is True for seen in others):
            others.append(item)
            result.append(item)
    return result


@LIBRARY.builtin("union", "*list: list")
def _union(lists: list[list[Any]]) -> list[Any]:
    return _distinct(_concatenate(lists))


@LIBRARY.builtin("distinct values", "list: list")
def _distinct_values(items: list[Any]) -> list[Any]:
    return _distinct(items)


@LIBRARY.builtin("flatten", "list: list")
def _flatten(items: list[Any]) -> list[Any]:
    result: list[Any] = []

    def walk(values: list[Any], depth: int) -> None:
        if depth > 100:
            raise _fail("lists nested too deep")
        for value in values:
            if isinstance(value, list):
                walk(value, depth + 1)
            else:
                result.append(value)
                if len(result) > MAX_ITEMS:
                    raise _fail(f"a list of more than {MAX_ITEMS} items")

    walk(items, 0)
    return result


def _precedes(function: FeelFunction, a: Any, b: Any) -> bool:
    result = function.invoke([a, b], None)
    if not isinstance(result, bool):
        raise _fail("the sort function must return a boolean")
    return result


@LIBRARY.builtin("sort", "list: list", "list: list, precedes: function")
def _sort(items: list[Any], precedes: FeelFunction | None = None) -> list[Any]:
    """``sort(list, precedes)``: by the function (``precedes(a, b)`` true when a comes first), else in FEEL's
    natural order."""
    if precedes is None:
        return sorted(items, key=cmp_to_key(_ordered))
    function = precedes
    return sorted(items, key=cmp_to_key(lambda a, b: -1 if _precedes(function, a, b) else 1))


@LIBRARY.builtin(
    "list replace",
    "list: list, position: number, newItem: any?",
    "list: list, match: function, newItem: any?",
)
def _list_replace(items: list[Any], where: Decimal | FeelFunction, item: Any) -> list[Any]:
    """``list replace(list, position, newItem)`` or ``(list, match, newItem)``: ``match(item, newItem)`` says
    which items to replace."""
    if isinstance(where, Decimal):
        index = _position(items, where)
        return [*items[:index], item, *items[index + 1 :]]
    result = []
    for each in items:
        chosen = where.invoke([each, item], None)
        if not isinstance(chosen, bool):
            raise _fail("the match function must return a boolean")
        result.append(item if chosen else each)
    return result


@LIBRARY.builtin("string join", "list: list", "list: list, delimiter: string?")
def _string_join(items: list[Any], delimiter: str | None = None) -> str:
    if any(item is not None and not isinstance(item, str) for item in items):
        raise _fail("string join of a list that is not of strings")
    strings = [item for item in items if item is not None]
    if sum(len(item) for item in strings) + len(delimiter or "") * len(strings) > MAX_CHARS:
        raise _fail(f"a string of more than {MAX_CHARS} characters")
    return (delimiter or "").join(strings)


# --- numeric functions (DMN 1.5 10.3.4.5, table 65) ---------------------------------------------------------


def _scale(scale: Decimal) -> int:
    if not scale.is_finite() or not _MIN_SCALE <= int(scale) <= _MAX_SCALE:
        raise _fail(f"scale {scale} outside [{_MIN_SCALE}..{_MAX_SCALE}]")
    return int(scale)


def _round(n: Decimal, scale: Decimal, rounding: str) -> Decimal:
    """``n`` rounded to ``scale`` decimal places with the given rounding (a number already that precise is
    n itself)."""
    places = _scale(scale)
    if not n.is_finite():
        raise _fail("not a finite number")
    if n.as_tuple().exponent >= -places:  # type: ignore[operator]
        return _number(n)
    return _number(n.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=CONTEXT))


@LIBRARY.builtin("decimal", "n: number, scale: number")
def _decimal(n: Decimal, scale: Decimal) -> Decimal:
    return _round(n, scale, decimal.ROUND_HALF_EVEN)


_ZERO: Final = Decimal(0)


@LIBRARY.builtin("floor", "n: number", "n: number, scale: number")
def _floor(n: Decimal, scale: Decimal = _ZERO) -> Decimal:
    return _round(n, scale, decimal.ROUND_FLOOR)


@LIBRARY.builtin("ceiling", "n: number", "n: number, scale: number")
def _ceiling(n: Decimal, scale: Decimal = _ZERO) -> Decimal:
    return _round(n, scale, decimal.ROUND_CEILING)


@LIBRARY.builtin("round up", "n: number, scale: number")
def _round_up(n: Decimal, scale: Decimal) -> Decimal:
    return _round(n, scale, decimal.ROUND_UP)


@LIBRARY.builtin("round down", "n: number, scale: number")
def _round_down(n: Decimal, scale: Decimal) -> Decimal:
    return _round(n, scale, decimal.ROUND_DOWN)


@LIBRARY.builtin("round half up", "n: number, scale: number")
def _round_half_up(n: Decimal, scale: Decimal) -> Decimal:
    return _round(n, scale, decimal.ROUND_HALF_UP)


@LIBRARY.builtin("round half down", "n: number, scale: number")
def _round_half_down(n: Decimal, scale: Decimal) -> Decimal:
    return _round(n, scale, decimal.ROUND_HALF_DOWN)


@LIBRARY.builtin("abs", "n: number|days and time duration|years and months duration")
def _abs(n: Any) -> Any:
    if isinstance(n, _feel_temporal.DayTimeDuration):
        return _feel_temporal.DayTimeDuration(abs(n.seconds))
    if isinstance(n, _feel_temporal.YearMonthDuration):
        return _feel_temporal.YearMonthDuration(abs(n.months))
    return _number(CONTEXT.abs(n))


@LIBRARY.builtin("modulo", "dividend: number, divisor: number")
def _modulo(dividend: Decimal, divisor: Decimal) -> Decimal:
    """The remainder with the divisor's sign (DMN 1.5: ``dividend - divisor * floor(dividend / divisor)``),
    computed exactly with fractions (decimal128 exponents keep them bounded), then rounded to 34 digits."""
    if divisor.is_zero() or not dividend.is_finite() or not divisor.is_finite():
        raise _fail("modulo by zero or of a number that is not finite")
    a, b = Fraction(dividend), Fraction(divisor)
    remainder = a - b * math.floor(a / b)
    return _number(CONTEXT.divide(Decimal(remainder.numerator), Decimal(remainder.denominator)))


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise _fail("no finite result")
    return _number(value)


@LIBRARY.builtin("sqrt", "number: number")
def _sqrt(number: Decimal) -> Decimal:
    return _finite(CONTEXT.sqrt(number))


@LIBRARY.builtin("log", "number: number")
def _log(number: Decimal) -> Decimal:
    if number <= 0:
        raise _fail("log of a number that is not positive")
    return _finite(CONTEXT.ln(number))


@LIBRARY.builtin("exp", "number: number")
def _exp(number: Decimal) -> Decimal:
    return _finite(CONTEXT.exp(number))


def _parity(number: Decimal) -> int:
    if not number.is_finite() or number != number.to_integral_value():
        raise _fail("odd/even of a number that is not an integer")
    if number.as_tuple().exponent > 0:  # type: ignore[operator]
        return 0  # a multiple of ten
    return int(number) % 2


@LIBRARY.builtin("odd", "number: number")
def _odd(number: Decimal) -> bool:
    return _parity(number) == 1


@LIBRARY.builtin("even", "number: number")
def _even(number: Decimal) -> bool:
    return _parity(number) == 0


# --- string functions (DMN 1.5 10.3.4.3, table 61) ----------------------------------------------------------


@LIBRARY.builtin(
    "substring",
    "string: string, start position: number",
    "string: string, start position: number, length: number",
)
def _substring(string: str, start: Decimal, length: Decimal | None = None) -> str:
    """1-based code points; a negative start counts from the end (one before the start is an error, as is
    0); a fractional position or length is truncated (the TCK's ``substring("foobar", 3, 3.8)`` is
    ``"oba"``)."""
    first = _integer(start, "start position")
    size = len(string)
    if first > 0:
        index = first - 1
    elif -size <= first < 0:
        index = size + first
    else:
        raise _fail(f"substring start position {first} of a string of {size}")
    if length is None:
        return string[index:]
    count = _integer(length, "length")
    if count < 0:
        raise _fail("negative substring length")
    return string[index : index + count]


@LIBRARY.builtin("string length", "string: string")
def _string_length(string: str) -> Decimal:
    return Decimal(len(string))


@LIBRARY.builtin("upper case", "string: string")
def _upper_case(string: str) -> str:
    return string.upper()


@LIBRARY.builtin("lower case", "string: string")
def _lower_case(string: str) -> str:
    return string.lower()


@LIBRARY.builtin("substring before", "string: string, match: string")
def _substring_before(string: str, match: str) -> str:
    index = string.find(match)
    return string[:index] if index >= 0 and match else ""


@LIBRARY.builtin("substring after", "string: string, match: string")
def _substring_after(string: str, match: str) -> str:
    index = string.find(match)
    return string[index + len(match) :] if index >= 0 else ""


@LIBRARY.builtin("contains", "string: string, match: string")
def _contains(string: str, match: str) -> bool:
    return match in string


@LIBRARY.builtin("starts with", "string: string, match: string")
def _starts_with(string: str, match: str) -> bool:
    return string.startswith(match)


@LIBRARY.builtin("ends with", "string: string, match: string")
def _ends_with(string: str, match: str) -> bool:
    return string.endswith(match)


@LIBRARY.builtin(
    "matches", "input: string, pattern: string", "input: string, pattern: string, flags: string?"
)
def _matches(text: str, pattern: str, flags: str | None = None) -> bool:
    regex = compile_xpath(pattern, flags)
    regex.check_input(text)
    return regex.compiled.search(text) is not None


def _replacement(template: str, groups: int) -> Callable[[re.Match[str]], str]:
    """An XPath replacement string (``$N`` group references, ``\\$`` and ``\\\\``) as a function of a
    match."""
    parts: list[str | int] = []
    index = 0
    while index < len(template):
        char = template[index]
        if char == "\\":
            if index + 1 < len(template) and template[index + 1] in "\\$":
                parts.append(template[index + 1])
                index += 2
                continue
            raise _fail("invalid '\\' in a replacement string")
        if char == "$":
            match = re.compile(r"\d+").match(template, index + 1)
            if match is None:
                raise _fail("invalid '$' in a replacement string")
            digits = match.group(0)
            number = int(digits[0])
            used = 1
            while used < len(digits) and int(digits[: used + 1]) <= groups:
                used += 1
                number = int(digits[:used])
            parts.append(number)
            index += 1 + used
            continue
        parts.append(char)
        index += 1

    produced = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal produced
        out = []
        for part in parts:
            if isinstance(part, int):
                out.append((match.group(part) or "") if part <= groups else "")
            else:
                out.append(part)
        text = "".join(out)
        produced += len(text)
        if produced > MAX_CHARS:
            raise _fail(f"replace: a string of more than {MAX_CHARS} characters")
        return text

    return replace


@LIBRARY.builtin(
    "replace",
    "input: string, pattern: string, replacement: string",
    "input: string, pattern: string, replacement: string, flags: string?",
)
def _replace(text: str, pattern: str, replacement: str, flags: str | None = None) -> str:
    """XPath ``fn:replace``: a pattern that matches the empty string is an error; ``$N`` refers to group N."""
    regex = compile_xpath(pattern, flags)
    regex.check_input(text)
    if regex.compiled.search("") is not None:
        raise _fail("the pattern matches the empty string")
    function = _replacement(replacement if "q" not in (flags or "") else _quoted(replacement), regex.groups)
    return regex.compiled.sub(function, text)


def _quoted(replacement: str) -> str:
    return replacement.replace("\\", "\\\\").replace("$", "\\$")


@LIBRARY.builtin("split", "string: string, delimiter: string")
def _split(string: str, delimiter: str) -> list[str]:
    """XPath ``fn:tokenize``: the delimiter is a pattern (one that matches the empty string is an error)."""
    regex = compile_xpath(delimiter, None)
    regex.check_input(string)
    if regex.compiled.search("") is not None:
        raise _fail("the delimiter matches the empty string")
    if not string:
        return []
    parts = []
    start = 0
    for match in regex.compiled.finditer(string):
        parts.append(string[start : match.start()])
        start = match.end()
    parts.append(string[start:])
    return parts


# --- context functions (DMN 1.5 10.3.4.8, table 72) ---------------------------------------------------------


@LIBRARY.builtin("get value", "m: context, key: string")
def _get_value(context: dict[str, Any], key: str) -> Any:
    return context.get(key)


@LIBRARY.builtin("get entries", "m: context")
def _get_entries(context: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in context.items()]


@LIBRARY.builtin("context", "entries: list")
def _context(entries: list[Any]) -> dict[str, Any]:
    """A context from ``{key, value}`` entries; a missing or non-string key, a missing value or a repeated key
    is an error."""
    result: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or "value" not in entry:
            raise _fail("a context entry is a context with a string key and a value")
        if entry["key"] in result:
            raise _fail(f"duplicate context key {entry['key']!r}")
        result[entry["key"]] = entry["value"]
    return result


@LIBRARY.builtin(
    "context put",
    "context: context, key: string, value: any?",
    "context: context, keys: list, value: any?",
)
def _context_put(context: dict[str, Any], key: str | list[Any], value: Any) -> dict[str, Any]:
    """A copy of the context with the entry set; with a list of keys, set in nested contexts (each but the
    last key must name a context)."""
    if isinstance(key, str):
        return {**context, key: value}
    if not key or not all(isinstance(each, str) for each in key):
        raise _fail("context put keys must be a non-empty list of strings")
    if len(key) == 1:
        return {**context, key[0]: value}
    inner = context.get(key[0])
    if not isinstance(inner, dict):
        raise _fail(f"context put: {key[0]!r} is not a context")
    return {**context, key[0]: _context_put(inner, key[1:], value)}


@LIBRARY.builtin("context merge", "contexts: list")
def _context_merge(contexts: list[Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for each in contexts:
        if not isinstance(each, dict):
            raise _fail("context merge of something that is not a context")
        result.update(each)
    return result


def _all_builtins() -> dict[str, FeelFunction]:
    from efficacy_flow.policy import _feel_ranges

    return {**LIBRARY.functions, **_feel_ranges.LIBRARY.functions}


BUILTINS: Final[Mapping[str, FeelFunction]] = _all_builtins()
