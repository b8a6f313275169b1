"""The part of FEEL that decision-table cells use, compiled once into predicates.

Supported (what dmn-js and Camunda Modeler write in a cell):

- input entries (FEEL *unary tests*): ``-`` or an empty cell (any value); literals ``5``, ``-1.5``,
  ``"text"``, ``true``, ``null``, ``date("2025-01-01")`` (equality); comparisons ``< 5``, ``<= 5``, ``> 5``,
  ``>= 5``; ranges ``[1..5]``, ``(1..5]``, ``]1..5[``, ``[1..5)``; comma-separated lists of those (any may
  hold); ``not(...)`` around a list.
- output entries: one literal (number, string, boolean, ``null``, ``date("...")``) or an empty cell (null).

Anything else raises :class:`FeelSyntaxError`, which the loader turns into a ``DecisionTableError`` naming
the cell: a cell the evaluator cannot read is refused, never silently treated as "no match".

Evaluation is three-valued like FEEL: a test answers True, False or None (null, e.g. ``< 5`` against a null
input). A value of the wrong kind (a string against ``< 5``) raises :class:`InputTypeMismatch` instead of
FEEL's silent null, because in a policy table it is always a mistake in the caller's data.

A compiled cell is a :class:`CellTest`: the predicate above, plus what it means as a set of values (a union of
:class:`Span` intervals of one kind, possibly negated), so that a table can index its columns at load and
find the matching rules of a well-typed input without calling each cell (see ``_table``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "CellTest",
    "FeelSyntaxError",
    "InputTypeMismatch",
    "Span",
    "Test",
    "UnaryTests",
    "compile_unary_tests",
    "kind_of",
    "parse_literal",
    "parse_literal_list",
]

#: A compiled cell: True (match), False (no match) or None (FEEL null, which is no match).
Test = Callable[[Any], bool | None]

NUMBER: Final = "number"
STRING: Final = "string"
BOOLEAN: Final = "boolean"
DATE: Final = "date"
NULL: Final = "null"


class FeelSyntaxError(Exception):
    """A cell that is not in the supported FEEL subset (``problem`` says why)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class InputTypeMismatch(Exception):
    """An input value whose kind does not fit the cell's literal (``value``, ``expected`` kind)."""

    def __init__(self, value: Any, expected: str) -> None:
        super().__init__(f"expected a {expected}, got {type(value).__name__} {value!r}")
        self.value = value
        self.expected = expected


def kind_of(value: Any) -> str:
    """Name the FEEL kind of a Python value: number, string, boolean, date, null, or its type name."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float | Decimal):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, date) and not isinstance(value, datetime):
        return DATE
    return type(value).__name__


def _is_number(value: Any) -> bool:
    kind = type(value)
    if kind is int or kind is float:
        return True
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_boolean(value: Any) -> bool:
    return type(value) is bool


def _is_date(value: Any) -> bool:
    # datetime subclasses date; a datetime is not a date for FEEL (and comparing them raises TypeError).
    return isinstance(value, date) and not isinstance(value, datetime)


_CHECK: Final[dict[str, Callable[[Any], bool]]] = {
    NUMBER: _is_number,
    STRING: _is_string,
    BOOLEAN: _is_boolean,
    DATE: _is_date,
}


@dataclass(frozen=True, slots=True)
class Span:
    """The values between two bounds of one kind (``None``: unbounded on that side); a literal is the span
    from itself to itself, both ends closed. DMN 1.5 section 10.3.2.7 (ranges) and 10.3.1.2 (unary tests)."""

    low: Any
    low_closed: bool
    high: Any
    high_closed: bool


@dataclass(frozen=True, slots=True)
class CellTest:
    """A compiled input entry: callable as its three-valued predicate (a :data:`Test`), and described as a
    set of values so that a table can index it.

    For a non-null value of the cell's kind the predicate answers ``negated`` XOR (some span holds the
    value); for null it answers ``check(None)``; for any other value it raises :class:`InputTypeMismatch`
    (or answers as a ``null``-only cell does).

    Attributes:
        check: the predicate itself (what calling the cell runs).
        kind: the kind of the cell's literals other than ``null`` (None: only ``null`` literals).
        spans: the positive tests as spans (a ``null`` literal adds none), or None when the cell mixes kinds.
        negated: the cell is ``not(...)``.
    """

    check: Test
    kind: str | None
    spans: tuple[Span, ...] | None
    negated: bool = False

    def __call__(self, value: Any) -> bool | None:
        return self.check(value)


#: A positive unary test as parsed: its predicate, its literal's kind, and its spans.
_Positive = tuple[Test, str, tuple[Span, ...]]


# --- tokens -------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?|\.\d+)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<name>[^\W\d]\w*)
      | (?P<op>\.\.|<=|>=|!=|[<>=\[\]\(\),\-])
    )""",
    re.VERBOSE,
)
_CELL_ESCAPES: Final = {'"': '"', "\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t"}
_ESCAPES: Final = {**_CELL_ESCAPES, "b": "\b", "f": "\f"}
_HEX4: Final = re.compile(r"[0-9a-fA-F]{4}")
_HEX6: Final = re.compile(r"[0-9a-fA-F]{6}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, name, op, end
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:].strip()
            if not rest:
                break
            if rest.startswith('"'):
                raise FeelSyntaxError(f"unterminated string at {rest[:20]!r}")
            raise FeelSyntaxError(f"unexpected {rest[:20]!r}")
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def decode_string(literal: str, *, cell: bool = False) -> str:
    """The value of a FEEL string literal (with its quotes): ``\\" \\\\ \\' \\n \\r \\t \\b \\f``,
    ``\\uXXXX`` (a surrogate pair is one character, as in JSON and Java: TCK 0083) and ``\\UXXXXXX``; any
    other escape (``\\s`` of a regular expression) is kept as written.

    ``cell``: the decision-table cell grammar's narrower reading — no ``\\b``, ``\\f`` or ``\\UXXXXXX``, and
    any other escape refused, so that a cell is never read differently from what its author meant.
    """
    body = literal[1:-1]
    if "\\" not in body:
        return body
    escapes = _CELL_ESCAPES if cell else _ESCAPES
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 >= len(body):
            out.append(char)
            index += 1
            continue
        escape = body[index + 1]
        if escape in escapes:
            out.append(escapes[escape])
            index += 2
        elif escape == "u" and _HEX4.fullmatch(body, index + 2, index + 6):
            code = int(body[index + 2 : index + 6], 16)
            index += 6
            if (
                0xD800 <= code <= 0xDBFF
                and body.startswith("\\u", index)
                and _HEX4.fullmatch(body, index + 2, index + 6)
            ):
                low = int(body[index + 2 : index + 6], 16)
                if 0xDC00 <= low <= 0xDFFF:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
            if 0xD800 <= code <= 0xDFFF:
                raise FeelSyntaxError(f"a lone surrogate \\u{code:04x} in string {literal[:40]}")
            out.append(chr(code))
        elif escape == "U" and not cell and _HEX6.fullmatch(body, index + 2, index + 8):
            code = int(body[index + 2 : index + 8], 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise FeelSyntaxError(f"\\U{code:06x} is not a character")
            out.append(chr(code))
            index += 8
        elif cell:
            raise FeelSyntaxError(f"unknown escape \\{escape} in string {literal}")
        else:
            out.append(char + escape)
            index += 2
    return "".join(out)


# --- parser -------------------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list; each method consumes what it recognises."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.current
        if token.kind in ("op", "name") and token.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise FeelSyntaxError(f"expected {text!r} {self._where()}")

    def expect_end(self) -> None:
        if self.current.kind != "end":
            raise FeelSyntaxError(f"unexpected {self.current.text!r} {self._where()}")

    def _where(self) -> str:
        token = self.current
        return "at the end" if token.kind == "end" else f"at {token.text!r} (position {token.position + 1})"

    def literal(self) -> tuple[str, Any]:
        """Read one literal and return (kind, value); dates are ``datetime.date``."""
        token = self.advance()
        if token.kind == "number":
            return NUMBER, _number(token.text)
        if token.kind == "op" and token.text == "-" and self.current.kind == "number":
            return NUMBER, -_number(self.advance().text)
        if token.kind == "string":
            return STRING, decode_string(token.text, cell=True)
        if token.kind == "name":
            if token.text == "true":
                return BOOLEAN, True
            if token.text == "false":
                return BOOLEAN, False
            if token.text == "null":
                return NULL, None
            if token.text == "date" and self.accept("("):
                argument = self.advance()
                if argument.kind != "string":
                    raise FeelSyntaxError('date(...) takes one string, like date("2025-01-01")')
                self.expect(")")
                return DATE, _iso_date(decode_string(argument.text, cell=True))
            raise FeelSyntaxError(
                f"{token.text!r} is a name; variables and functions are not supported in cells "
                '(text must be quoted: "…")'
            )
        if token.kind == "end":
            raise FeelSyntaxError("a value is missing at the end")
        raise FeelSyntaxError(f"expected a value, found {token.text!r} (position {token.position + 1})")

    def positive_test(self) -> _Positive:
        token = self.current
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            kind, bound = self.literal()
            if kind not in (NUMBER, STRING, DATE):
                raise FeelSyntaxError(f"{token.text} needs a number, string or date, not {kind}")
            return (
                _comparison(_COMPARISONS[token.text], bound, kind),
                kind,
                _comparison_span(token.text, bound),
            )
        if token.kind == "op" and token.text in ("[", "(", "]"):
            return self.interval()
        if token.kind == "op" and token.text in ("=", "!="):
            raise FeelSyntaxError(
                f"{token.text!r} is not a unary test; write the value itself, or not(value)"
            )
        kind, value = self.literal()
        spans = () if kind == NULL else (Span(value, True, value, True),)
        return _equality(kind, value), kind, spans

    def interval(self) -> _Positive:
        opening = self.advance().text
        low_kind, low = self.literal()
        self.expect("..")
        high_kind, high = self.literal()
        closing = self.current
        if not (closing.kind == "op" and closing.text in ("]", ")", "[")):
            raise FeelSyntaxError(f"a range must end with ], ) or [ {self._where()}")
        self.advance()
        if low_kind != high_kind or low_kind not in (NUMBER, STRING, DATE):
            raise FeelSyntaxError(
                f"range ends must both be numbers, strings or dates, not {low_kind}..{high_kind}"
            )
        if low > high or (low == high and (opening != "[" or closing.text != "]")):
            raise FeelSyntaxError(f"empty range: nothing lies between {low!r} and {high!r}")
        low_op = operator.le if opening == "[" else operator.lt
        high_op = operator.le if closing.text == "]" else operator.lt
        spans = (Span(low, opening == "[", high, closing.text == "]"),)
        return _interval(low, low_op, high, high_op, low_kind), low_kind, spans

    def positive_tests(self) -> tuple[Test, frozenset[str], tuple[Span, ...]]:
        tests: list[_Positive] = [self.positive_test()]
        while self.accept(","):
            tests.append(self.positive_test())
        spans = tuple(span for _, _, each in tests for span in each)
        return _disjunction(tests), frozenset(kind for _, kind, _ in tests), spans


_COMPARISONS: Final = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _comparison_span(symbol: str, bound: Any) -> tuple[Span, ...]:
    if symbol in ("<", "<="):
        return (Span(None, False, bound, symbol == "<="),)
    return (Span(bound, symbol == ">=", None, False),)


def _number(text: str) -> int | float:
    # JSON-friendly numbers: integers stay int, decimals become float (what process data holds).
    return float(text) if "." in text else int(text)


def _iso_date(text: str) -> date:
    if not _ISO_DATE.fullmatch(text):
        raise FeelSyntaxError(f"date({text!r}) must be written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise FeelSyntaxError(f"date({text!r}) is not a calendar date") from exc


# --- predicate builders -------------------------------------------------------------------------------------


def _comparison(op: Callable[[Any, Any], bool], bound: Any, kind: str) -> Test:
    check = _CHECK[kind]

    def test(value: Any) -> bool | None:
        if value is None:
            return None
        if not check(value):
            raise InputTypeMismatch(value, kind)
        return op(value, bound)

    return test


def _interval(
    low: Any, low_op: Callable[[Any, Any], bool], high: Any, high_op: Callable[[Any, Any], bool], kind: str
) -> Test:
    check = _CHECK[kind]

    def test(value: Any) -> bool | None:
        if value is None:
            return None
        if not check(value):
            raise InputTypeMismatch(value, kind)
        return low_op(low, value) and high_op(value, high)

    return test


def _equality(kind: str, expected: Any) -> Test:
    if kind == NULL:
        return _is_null
    return _membership(kind, frozenset([expected]))


def _is_null(value: Any) -> bool:
    return value is None


def _membership(kind: str, allowed: frozenset[Any]) -> Test:
    check = _CHECK[kind]

    def test(value: Any) -> bool:
        if value is None:
            return False  # FEEL: null = 5 is false (not null)
        if not check(value):
            raise InputTypeMismatch(value, kind)
        return value in allowed

    return test


def _disjunction(tests: Sequence[_Positive]) -> Test:
    if len(tests) == 1:
        return tests[0][0]
    each_test: tuple[Test, ...] = tuple(test for test, _, _ in tests)

    def test(value: Any) -> bool | None:
        result: bool | None = False
        for each in each_test:
            answer = each(value)
            if answer:
                return True
            if answer is None:
                result = None  # FEEL: a list is null when nothing matched and one test was null
        return result

    return test


def _negation(inner: Test) -> Test:
    def test(value: Any) -> bool | None:
        answer = inner(value)
        return None if answer is None else not answer

    return test


# --- public entry points ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnaryTests:
    """A compiled input entry.

    Attributes:
        text: the cell as written.
        test: the predicate (a :class:`CellTest`), or None when the cell matches anything (``-`` or empty).
        kinds: the kinds of the literals in the cell (number, string, boolean, date, null).
    """

    text: str
    test: Test | None
    kinds: frozenset[str]


def compile_unary_tests(text: str | None) -> UnaryTests:
    """Compile an input entry (FEEL unary tests) into a predicate.

    Raises:
        FeelSyntaxError: the cell is outside the supported subset.
    """
    source = (text or "").strip()
    if source in ("", "-"):
        return UnaryTests(source, None, frozenset())
    parser = _Parser(source)
    negated = parser.current.kind == "name" and parser.current.text == "not"
    if negated:
        parser.advance()
        parser.expect("(")
        inner, kinds, spans = parser.positive_tests()
        parser.expect(")")
        parser.expect_end()
        check = _negation(inner)
    else:
        test, kinds, spans = parser.positive_tests()
        parser.expect_end()
        check = _fast_membership(source, test, kinds)
    literal_kinds = kinds - {NULL}
    kind = next(iter(literal_kinds)) if len(literal_kinds) == 1 else None
    cell = CellTest(check, kind, spans if len(literal_kinds) <= 1 else None, negated)
    return UnaryTests(source, cell, kinds)


def _fast_membership(source: str, test: Test, kinds: frozenset[str]) -> Test:
    # A list of plain literals of one kind ("a","b","c" or 1,7,9) is the commonest cell: test it as one set.
    if len(kinds) != 1 or NULL in kinds:
        return test
    try:
        values = parse_literal_list(source)
    except FeelSyntaxError:
        return test  # not a plain list (it has comparisons or ranges)
    if len(values) < 2:
        return test
    (kind,) = kinds
    return _membership(kind, frozenset(values))


def parse_literal(text: str | None) -> tuple[str, Any]:
    """Read an output entry: one literal, or an empty cell (null). Returns (kind, value).

    Raises:
        FeelSyntaxError: the cell is not a single literal.
    """
    source = (text or "").strip()
    if not source:
        return NULL, None
    parser = _Parser(source)
    kind, value = parser.literal()
    parser.expect_end()
    return kind, value


def parse_literal_list(text: str) -> list[Any]:
    """Read a comma-separated list of literals (an ``outputValues`` cell, or a plain list of input values).

    Raises:
        FeelSyntaxError: an item is not a literal.
    """
    parser = _Parser(text.strip())
    values = [parser.literal()[1]]
    while parser.accept(","):
        values.append(parser.literal()[1])
    parser.expect_end()
    return values
