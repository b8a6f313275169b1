"""What process code calls while it runs: attribute and item guards, and size checks made *before* a value is
built.

The compiled code reaches these through names that begin with an underscore (``_mul_``, ``_getattr_``,
...), which process code cannot spell. They live in the builtins of the evaluation, beside the whitelisted
builtins, so the per-call scope holds only the process variables. Only what can build a value much larger
than its inputs is checked: the operators ``+ * ** << %`` (the compiler leaves alone the cases that cannot
explode, such as ``n + 1``), the str, bytes, list and int methods that pad, repeat, replace, join or convert,
f-strings, ``str()`` and ``int()``, ``round``, ``range`` and ``sum``. Everything else in reach grows at most
by a constant per operation, and the time budget bounds the number of operations.
"""

from __future__ import annotations

import builtins
import math
import operator
import re
import sys
from collections.abc import Callable, Iterable
from types import MethodDescriptorType
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from efficacy_flow.engine._sandbox_budget import LimitReached

__all__ = ["FORBIDDEN_ATTRIBUTES", "SAFE_BUILTIN_NAMES", "Guards", "guarded_getattr", "text_size"]

#: The builtins scripts may call (conventions §7).
SAFE_BUILTIN_NAMES = (
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "float",
    "int",
    "isinstance",
    "len",
    "list",
    "max",
    "min",
    "range",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
)

#: Attributes refused at deployment and at run time: str.format/format_map reach attributes through the
#: format mini-language; the others reach frames.
FORBIDDEN_ATTRIBUTES = frozenset(
    {"format", "format_map", "mro", "gi_frame", "f_globals", "f_back", "tb_frame"}
)

_SEQUENCES = (str, bytes, list, tuple)
_MEASURED = (str, bytes, list, tuple, dict, set, frozenset, range)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?")
_DIGITS = re.compile(r"\d+")


def guarded_getattr(obj: Any, name: str) -> Any:
    """``obj.name`` unless the name is refused (the second line of defence: deployment refuses them first)."""
    if name.startswith("_") or name in FORBIDDEN_ATTRIBUTES:
        raise AttributeError(f"attribute {name!r} is not allowed in process expressions")
    return getattr(obj, name)


def guarded_write(obj: Any) -> Any:
    """The target of an item write or delete (``x[k] = v``, ``del x[k]``): only dicts and lists, the
    containers of JSON process data, may be written."""
    if isinstance(obj, dict | list):
        return obj
    raise TypeError(f"process code may write items of dicts and lists only, not of {type(obj).__name__}")


def text_size(value: Any, limit: int) -> int:
    """An estimate of ``len(str(value))`` that stops counting once it passes ``limit``.

    Strings count their length plus quotes, integers their decimal digits, containers their items plus
    separators; other objects a typical repr. Escapes in reprs can make the real text longer, by a bounded
    factor. The walk is iterative (no recursion on deep data) and visits at most about ``limit / 4`` objects,
    so it also ends on a list that contains itself. Shared items count each time they appear, as in the text.
    """
    total = 0
    pending = [value]
    pop, extend = pending.pop, pending.extend
    while pending and total <= limit:
        item = pop()
        kind = type(item)
        if kind is str or kind is bytes:
            total += len(item) + 3
        elif kind is list or kind is tuple:
            total += 2 + 2 * len(item)
            if total <= limit:
                extend(item)
        elif kind is dict:
            total += 2 + 4 * len(item)
            if total <= limit:
                extend(item.keys())
                extend(item.values())
        elif kind is int:
            total += item.bit_length() * 31 // 100 + 2
        else:
            total += _other_size(item, pending)
    return total


def _other_size(item: Any, pending: list[Any]) -> int:
    # The rarer kinds, and subclasses of the common ones.
    if isinstance(item, str | bytes):
        return len(item) + 3
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        return item.bit_length() * 31 // 100 + 2
    if isinstance(item, float):
        return 24
    if isinstance(item, dict):
        pending.extend(item.keys())
        pending.extend(item.values())
        return 2 + 4 * len(item)
    if isinstance(item, list | tuple | set | frozenset):
        pending.extend(item)
        return 2 + 2 * len(item)
    return 64


def _format_widths(spec: str) -> int:
    # Every number in a format spec is a width or a precision (or a digit used as fill): their sum bounds the
    # padding. A number too long to be reasonable counts as unbounded without converting it.
    return sum(int(n) if len(n) <= 18 else sys.maxsize for n in _DIGITS.findall(spec))


class _Constructor:
    """A guarded builtin type (``str``, ``int``): calls are checked, ``isinstance`` and attributes reach the
    type."""

    __slots__ = ("make", "type")

    def __init__(self, type_: type, make: Callable[..., Any]) -> None:
        self.type = type_
        self.make = make

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.make(*args, **kwargs)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self.type)

    # ``str | int`` is a union of the types, as in Python (for isinstance).
    def __or__(self, other: Any) -> Any:
        return self.type | (other.type if type(other) is _Constructor else other)

    def __ror__(self, other: Any) -> Any:
        return other | self.type

    def __repr__(self) -> str:
        return repr(self.type)


class Guards:
    """The run-time guards of one `Sandbox`, checking against its limits (stateless, so shared by threads).

    Args:
        max_size: the most elements, characters or bytes a value built by process code may have.
        max_int_bits: the most bits an integer built by process code may have.
    """

    def __init__(self, max_size: int, max_int_bits: int) -> None:
        self.max_size = max_size
        self.max_int_bits = max_int_bits
        #: Decimal digits of the largest admitted integer: longer texts are refused before int() reads them.
        self.max_int_digits = math.floor(max_int_bits * math.log10(2)) + 1
        self._methods: dict[str, tuple[tuple[type, ...], _MethodCheck]] = {
            "center": ((str, bytes), _padded),
            "ljust": ((str, bytes), _padded),
            "rjust": ((str, bytes), _padded),
            "zfill": ((str, bytes), _padded),
            "expandtabs": ((str, bytes), _expandtabs),
            "replace": ((str, bytes), _replace),
            "join": ((str, bytes), _join),
            "translate": ((str,), _translate),
            "encode": ((str,), _measured_after),
            "hex": ((bytes,), _measured_after),
            "extend": ((list,), _extend),
            "to_bytes": ((int,), _to_bytes),
            "from_bytes": ((int,), _from_bytes),
        }

    def builtins(self) -> dict[str, Any]:
        """The builtins of an evaluation: the whitelist (``range``, ``round``, ``str``, ``int`` and ``sum``
        guarded) and the guards the compiled code calls."""
        names: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
        names.update(
            {
                "range": self.make_range,
                "round": self.rounded,
                "str": _Constructor(str, self.make_str),
                "int": _Constructor(int, self.make_int),
                "sum": _sum,
                "True": True,
                "False": False,
                "None": None,
                "_getattr_": self.attribute,
                "_getitem_": operator.getitem,
                "_getiter_": iter,
                "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
                "_unpack_sequence_": guarded_unpack_sequence,
                "_write_": guarded_write,
                "_add_": self.concat,
                "_mul_": self.repeat,
                "_pow_": self.power,
                "_lshift_": self.shift,
                "_mod_": self.percent,
                "_format_": self.format_part,
                # What a bare ``except:`` catches (see LimitReached).
                "_catchable_": Exception,
            }
        )
        return names

    # -- refusing --------------------------------------------------------------------------------------------

    def check_length(self, like: Any, size: Any) -> None:
        """Refuse a value like ``like`` (a str, bytes or list) of ``size`` elements if that is over
        ``max_size``."""
        if isinstance(size, int) and size > self.max_size:
            if isinstance(like, str):
                what = f"a string of {size:,} characters"
            elif isinstance(like, bytes):
                what = f"bytes of length {size:,}"
            else:
                what = f"a {type(like).__name__} of {size:,} elements"
            raise self.too_large(what, self.max_size)

    def check_bits(self, bits: int) -> None:
        """Refuse an integer of ``bits`` bits if that is over ``max_int_bits``."""
        if bits > self.max_int_bits:
            raise self.too_large(f"an integer of {bits:,} bits", self.max_int_bits, " bits")

    def check_text(self, size: int) -> None:
        """Refuse a text of about ``size`` characters if that is over ``max_size``."""
        if size > self.max_size:
            raise self.too_large(f"a text of over {size:,} characters", self.max_size)

    @staticmethod
    def too_large(what: str, limit: int, unit: str = "") -> LimitReached:
        """The signal for a value that would be larger than ``limit``."""
        return LimitReached("size", limit, f"would build {what} (limit {limit:,}{unit})")

    # -- operators -------------------------------------------------------------------------------------------

    def concat(self, a: Any, b: Any) -> Any:
        """``a + b``, refused when it concatenates sequences beyond ``max_size``."""
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self.check_length(a, len(a) + len(b))
        return a + b

    def repeat(self, a: Any, b: Any) -> Any:
        """``a * b``, refused when it repeats a sequence beyond ``max_size`` or multiplies integers beyond
        ``max_int_bits``."""
        if isinstance(a, int):
            if isinstance(b, int):
                # The product has the sum of the bit lengths, or one fewer: check that before, the exact
                # length after.
                self.check_bits(a.bit_length() + b.bit_length() - 1)
                product = a * b
                self.check_bits(product.bit_length())
                return product
            if isinstance(b, _SEQUENCES):
                self.check_length(b, len(b) * a)
        elif isinstance(a, _SEQUENCES) and isinstance(b, int):
            self.check_length(a, len(a) * b)
        return a * b

    def power(self, a: Any, b: Any) -> Any:
        """``a ** b``, refused when an integer power would pass ``max_int_bits``."""
        if isinstance(a, int) and isinstance(b, int) and b > 1 and not -1 <= a <= 1:
            # |a| ** b has floor(b * log2|a|) + 1 bits; an exponent past 2**62 is too large for any |a| >= 2
            # (and for a float).
            self.check_bits(math.floor(b * math.log2(abs(a))) + 1 if b.bit_length() <= 62 else b)
        return a**b

    def shift(self, a: Any, b: Any) -> Any:
        """``a << b``, refused when the result would pass ``max_int_bits``."""
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self.check_bits(a.bit_length() + b)
        return a << b

    def percent(self, a: Any, b: Any) -> Any:
        """``a % b``; for %-formatting of str or bytes, refused when the text would pass ``max_size``."""
        if isinstance(a, str | bytes):
            spec = a if isinstance(a, str) else a.decode("latin-1")
            size = len(a) + text_size(b, self.max_size)
            starred = False
            for width, precision in _PERCENT_SPEC.findall(spec):
                starred = starred or "*" in (width, precision)
                size += _format_widths(f"{width}.{precision}")
            if starred:
                # A star takes its width or precision from the arguments.
                values = b if isinstance(b, tuple) else (b,)
                size += sum(abs(v) for v in values if isinstance(v, int))
            self.check_text(size)
        return a % b

    def format_part(self, value: Any, conversion: int, spec: str) -> str:
        """One ``{value!conversion:spec}`` part of an f-string, refused when it would pass ``max_size``."""
        size = len(value) if type(value) is str else text_size(value, self.max_size)
        self.check_text(size + _format_widths(spec))
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        elif conversion == ord("s"):
            value = str(value)
        return builtins.format(value, spec)

    # -- builtins --------------------------------------------------------------------------------------------

    def make_str(self, *args: Any, **kwargs: Any) -> str:
        """``str(...)``, refused when the text of a container would pass ``max_size``."""
        if len(args) == 1 and not kwargs and not isinstance(args[0], str | int | float):
            self.check_text(text_size(args[0], self.max_size))
        return str(*args, **kwargs)

    def make_int(self, *args: Any, **kwargs: Any) -> int:
        """``int(...)``, refused when the integer would pass ``max_int_bits``.

        A text longer than the decimal digits of the largest admitted integer is refused before it is read
        (reading decimal text is quadratic, and Python itself refuses more than 4,300 digits).
        """
        text = args[0] if args else None
        if isinstance(text, str | bytes) and len(text) > self.max_int_digits + 1:
            size = len(text.strip())
            if size > self.max_int_digits + 1:
                raise LimitReached(
                    "size",
                    self.max_int_bits,
                    f"would read an integer from a text of {size:,} characters "
                    f"(limit {self.max_int_bits:,} bits, {self.max_int_digits:,} digits)",
                )
        value = int(*args, **kwargs)
        self.check_bits(value.bit_length())
        return value

    def rounded(self, number: Any, ndigits: Any = None) -> Any:
        """``round(...)``, refused for more digits than the largest admitted integer has (``round(5, -10**9)``
        would compute ``10**10**9``)."""
        if isinstance(ndigits, int) and abs(ndigits) > self.max_int_digits:
            raise LimitReached(
                "size",
                self.max_int_bits,
                f"would round to {ndigits:,} digits (limit {self.max_int_digits:,} digits)",
            )
        return round(number, ndigits)

    def make_range(self, *args: Any) -> range:
        """``range(...)``, refused beyond ``max_size`` elements (C code such as ``sum`` iterates it without
        checking the clock)."""
        numbers = range(*args)
        try:
            size = len(numbers)
        except OverflowError:
            size = sys.maxsize
        if size > self.max_size:
            raise self.too_large(f"a range of {size:,} numbers", self.max_size)
        return numbers

    # -- methods ---------------------------------------------------------------------------------------------

    def attribute(self, obj: Any, name: str) -> Any:
        """``obj.name`` through `guarded_getattr`; methods that can build a large value come back checked."""
        if type(obj) is _Constructor:
            obj = obj.type
        value = guarded_getattr(obj, name)
        entry = self._methods.get(name)
        if entry is None:
            return value
        kinds, check = entry
        if isinstance(obj, type):
            if not issubclass(obj, kinds):
                return value
            if type(value) is MethodDescriptorType:
                # Reached through the type (``str.ljust(s, n)``): the receiver is the first argument.
                def unbound(receiver: Any, *args: Any, **kwargs: Any) -> Any:
                    return check(self, value.__get__(receiver), receiver, *args, **kwargs)

                return unbound
        elif not isinstance(obj, kinds):
            return value

        def bound(*args: Any, **kwargs: Any) -> Any:
            return check(self, value, obj, *args, **kwargs)

        return bound


_MethodCheck = Callable[..., Any]


def _sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    # sum() with a list start concatenates in C, quadratically, where the clock cannot stop it.
    if not isinstance(start, int | float | complex):
        raise TypeError("sum() adds numbers; join lists with + and strings with str.join")
    return sum(iterable, start)


def _padded(guards: Guards, method: Callable[..., Any], receiver: Any, width: Any, *rest: Any) -> Any:
    guards.check_length(receiver, width)
    return method(width, *rest)


def _expandtabs(guards: Guards, method: Callable[..., Any], receiver: Any, tabsize: Any = 8) -> Any:
    if isinstance(tabsize, int):
        tab = "\t" if isinstance(receiver, str) else b"\t"
        guards.check_length(receiver, len(receiver) + receiver.count(tab) * tabsize)
    return method(tabsize)


def _replace(
    guards: Guards, method: Callable[..., Any], receiver: Any, old: Any, new: Any, count: Any = -1
) -> Any:
    if type(old) is type(receiver) and type(new) is type(receiver) and isinstance(count, int):
        found = receiver.count(old)
        if count >= 0:
            found = min(found, count)
        guards.check_length(receiver, len(receiver) + found * (len(new) - len(old)))
    return method(old, new, count)


def _join(guards: Guards, method: Callable[..., Any], receiver: Any, iterable: Any) -> Any:
    items = list(iterable)
    size = len(receiver) * max(len(items) - 1, 0)
    size += sum(len(item) for item in items if isinstance(item, str | bytes))
    guards.check_length(receiver, size)
    return method(items)


def _translate(guards: Guards, method: Callable[..., Any], receiver: Any, table: Any) -> Any:
    values = table.values() if isinstance(table, dict) else table if isinstance(table, list | tuple) else ()
    longest = max((len(v) for v in values if isinstance(v, str)), default=1)
    guards.check_length(receiver, len(receiver) * max(longest, 1))
    return method(table)


def _measured_after(
    guards: Guards, method: Callable[..., Any], receiver: Any, *args: Any, **kwargs: Any
) -> Any:
    # encode() and hex() grow their input by a small factor (at most 10 for unicode_escape): build, then
    # measure, so that chaining them cannot compound.
    result = method(*args, **kwargs)
    guards.check_length(result, len(result))
    return result


def _extend(guards: Guards, method: Callable[..., Any], receiver: Any, iterable: Any) -> Any:
    if isinstance(iterable, _MEASURED):
        guards.check_length(receiver, len(receiver) + len(iterable))
    return method(iterable)


def _to_bytes(guards: Guards, method: Callable[..., Any], receiver: Any, *args: Any, **kwargs: Any) -> Any:
    guards.check_length(b"", args[0] if args else kwargs.get("length", 1))
    return method(*args, **kwargs)


def _from_bytes(guards: Guards, method: Callable[..., Any], receiver: Any, *args: Any, **kwargs: Any) -> Any:
    # Reading bytes is linear: build, then measure.
    value = method(*args, **kwargs)
    guards.check_bits(value.bit_length())
    return value
