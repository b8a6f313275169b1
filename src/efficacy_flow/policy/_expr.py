"""FEEL expressions and unary tests (DMN 1.5 10.3.1 grammar, 10.3.2 semantics), parsed with lark and compiled
once into a tree of closures (scope → value).

The whole expression language: number (decimal128), string, boolean, null and ``@"…"`` literals; list,
context and range literals (``[1..10]``, ``(1..10)``, ``]1..10[``, ``< 10``); names with spaces and the
additional name symbols; arithmetic, comparisons, three-valued ``and``/``or``, ``between``, ``in``,
``instance of``; ``if``, ``for`` (with ``partial``), ``some``/``every``; filters, paths, function literals
(closures) and invocations with positional or named arguments. ``compile_unary_tests`` reads the full unary
tests of a decision-table input entry (grammar rule 17).

FEEL never reaches Python: names are looked up in the scope mapping, the model's functions and the built-in
libraries (``_feel_builtins.BUILTINS``, ``_feel_temporal.BUILTINS``); calls go only to ``FeelFunction``
objects. A FEEL error (``10 / 0``, ``1 + "a"``, a wrong call) is null, or a :class:`FeelError` when compiled
with ``strict=True``. Syntax outside FEEL, an ``external`` function and a DMN built-in that no library
provides yet raise :class:`FeelSyntaxError` when the model is loaded: a typed refusal, never a guess.
Evaluation is bounded: loops, strings, nesting and exponents have limits (``MAX_*``, decimal128's range).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from efficacy_flow.policy import _feel_builtins, _feel_temporal, _feel_types
from efficacy_flow.policy._feel import FeelSyntaxError, decode_string
from efficacy_flow.policy._feel_temporal import DayTimeDuration, FeelTime, YearMonthDuration
from efficacy_flow.policy._feel_values import (
    CONTEXT,
    ComparisonRange,
    FeelError,
    FeelFunction,
    FeelRange,
    LambdaFunction,
    compare,
    equal,
    kind,
    to_feel,
)

__all__ = [
    "Compiled",
    "CompiledTests",
    "FeelError",
    "FeelFunction",
    "compile_expression",
    "compile_unary_tests",
    "to_feel",
]

#: A compiled expression: scope → value.
Evaluator = Callable[[Mapping[str, Any]], Any]
#: A compiled positive unary test: (input value, scope) → True, False or None (null).
Test = Callable[[Any, Mapping[str, Any]], bool | None]

#: The most items a ``for`` (or ``some``/``every``) may iterate over, all its iteration contexts together.
MAX_ITERATIONS: Final = 1_000_000
#: The deepest expression tree compiled (operators and constructs within each other; parentheses add none).
MAX_DEPTH: Final = 200
#: The longest string an expression may build (characters).
MAX_STRING: Final = 10_000_000

#: The most items all the loops and filters of one evaluation may visit together (nested loops included).
MAX_WORK: Final = 10_000_000

_MISSING: Final = object()


class _Budget(threading.local):
    """What the evaluation running in this thread may still visit; ``depth`` counts nested evaluations (a
    knowledge model called from an expression), only the outermost one sets ``left``."""

    depth = 0
    left = 0


_BUDGET: Final = _Budget()


def _spend(items: int) -> None:
    """Count ``items`` against the evaluation's budget (outside an evaluation, only each loop's own limit)."""
    budget = _BUDGET
    if budget.depth:
        budget.left -= items
        if budget.left < 0:
            raise FeelError(f"the evaluation visits more than {MAX_WORK:,} items")


def _guarded(root: Evaluator, fail: Callable[[str], None]) -> Evaluator:
    """The top-level evaluator: a FEEL error escaping it, or a recursion too deep, is null (or raises); the
    outermost evaluation of a thread starts a fresh budget."""

    def evaluate(scope: Mapping[str, Any]) -> Any:
        budget = _BUDGET
        if not budget.depth:
            budget.left = MAX_WORK
        budget.depth += 1
        try:
            return root(scope)
        except FeelError as exc:
            return fail(exc.problem)
        except RecursionError:
            return fail("the expression recurses too deeply")
        finally:
            budget.depth -= 1

    return evaluate


# --- names: the pre-pass before lark ------------------------------------------------------------------------
#
# FEEL names may hold spaces, keywords (``date and time``) and the additional name symbols ``. / - ' + *``
# (DMN 1.5 10.3.1.2), which no context-free lexer can tell from operators. A scanner runs first: it keeps
# strings and numbers, drops comments, and replaces each name by a placeholder ``\ue000N\ue001`` (and each
# type after ``instance of`` or a parameter's ``:`` by ``\ue002N\ue003``). A name is a known name (the
# model's, the built-ins', the FEEL types') matched greedily with any whitespace between its words, a context
# key written before ``:``, or a run of words that are not keywords.

_KEYWORDS: Final = frozenset(
    {
        "true", "false", "null", "if", "then", "else", "for", "in", "return", "some", "every",
        "satisfies", "and", "or", "between", "instance", "of", "function", "external",
    }
)  # fmt: skip
_TYPE_NAMES: Final = ("date and time", "days and time duration", "years and months duration")
#: DMN 1.5 10.3.4's built-in functions: a name among them that no library provides yet is refused.
STANDARD_FUNCTIONS: Final = frozenset(
    {
        "date", "time", "date and time", "duration", "years and months duration", "number", "string",
        "context", "substring", "string length", "upper case", "lower case", "substring before",
        "substring after", "replace", "contains", "starts with", "ends with", "matches", "split",
        "string join", "list contains", "count", "min", "max", "sum", "mean", "all", "any", "sublist",
        "append", "concatenate", "insert before", "remove", "reverse", "index of", "union",
        "distinct values", "flatten", "product", "median", "stddev", "mode", "decimal", "floor", "ceiling",
        "abs", "modulo", "sqrt", "log", "exp", "odd", "even", "round up", "round down", "round half up",
        "round half down", "not", "is", "get value", "get entries", "context put", "context merge",
        "day of year", "day of week", "month of year", "week of year", "now", "today", "before", "after",
        "meets", "met by", "overlaps", "overlaps before", "overlaps after", "finishes", "finished by",
        "includes", "during", "starts", "started by", "coincides", "list replace", "range", "sort",
    }
)  # fmt: skip

_NAME_START: Final = r"[^\W\d]|[\U00010000-\U000EFFFF]"
_NAME_PART: Final = r"[\w']|[\U00010000-\U000EFFFF]"
_SCAN: Final = re.compile(
    rf"""
      (?P<space>\s+)
    | (?P<comment>//[^\n]*|/\*.*?\*/)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<word>(?:{_NAME_START})(?:{_NAME_PART})*|\?)
    | (?P<symbol>\.\.|\*\*|<=|>=|!=|->|[-+*/<>=()\[\]{{}},.:@])
    """,
    re.VERBOSE | re.DOTALL,
)
_WORD: Final = re.compile(rf"\s*((?:{_NAME_START})(?:{_NAME_PART})*)")
_SPACE: Final = re.compile(r"\s*")
_OPEN_END: Final = re.compile(
    r"\s*(?:$|[,)\]}.=<>!]|(?:and|or|then|else|return|satisfies|in|between|instance)\b)"
)
_KEY: Final = re.compile(rf"((?:{_NAME_START})[^:\"{{}}\[\](),]*?)\s*:")


@lru_cache(maxsize=256)
def _known_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern matching any name that a run of plain words would not read (it holds a keyword, a
    digit word or an additional name symbol), longest first, with any whitespace between its words."""
    special = []
    for name in names:
        words = name.split()
        if not words:
            continue
        plain = all(
            re.fullmatch(rf"(?:{_NAME_START})(?:{_NAME_PART})*", w) and w not in _KEYWORDS for w in words
        )
        if not plain:
            special.append(words)
    if not special:
        return None
    special.sort(key=lambda words: len(" ".join(words)), reverse=True)
    alternatives = [r"\s+".join(re.escape(word) for word in words) for words in special]
    return re.compile(rf"(?:{'|'.join(alternatives)})(?!{_NAME_PART})")


@dataclass(slots=True)
class _Scanned:
    text: str
    names: list[str]
    types: list[str]


class _Scanner:
    """The pre-pass: FEEL source → lark input with names and types as placeholders."""

    def __init__(self, source: str, known: frozenset[str]) -> None:
        self.source = source
        self.known = _known_pattern(known)
        self.pos = 0
        self.out: list[str] = []
        self.names: list[str] = []
        self.types: list[str] = []
        self.brackets: list[str] = []
        self.dots: list[bool] = []  # per open bracket: whether a ``..`` was seen in it
        self.previous = ""  # the last significant token

    def scan(self) -> _Scanned:
        source = self.source
        while self.pos < len(source):
            if self.at_key():
                continue
            name = self.read_name()
            if name is not None:
                if name in _KEYWORDS:
                    self.emit(name)
                    if name == "of" and self.previous_keyword("instance"):
                        self.emit(self.type_placeholder(self.read_type()))
                    elif name == "function":
                        self.function_parameters()
                else:
                    self.emit(self.name_placeholder(name))
                continue
            match = _SCAN.match(source, self.pos)
            if match is None:
                raise FeelSyntaxError(f"unexpected {source[self.pos : self.pos + 20]!r}")
            self.pos = match.end()
            group = match.lastgroup
            if group in ("space", "comment"):
                continue
            token = match.group()
            if group == "symbol":
                token = self.track(token)
            self.emit(token)
        return _Scanned(" ".join(self.out), self.names, self.types)

    def emit(self, token: str) -> None:
        self.out.append(token)
        self.previous = token

    def previous_keyword(self, word: str) -> bool:
        return len(self.out) >= 2 and self.out[-2] == word

    def track(self, symbol: str) -> str:
        """Keep the bracket stack; returns the symbol as lark should see it. ``]`` opens an interval where no
        value ends before it; ``[`` closes one (``]1..10[``) after its ``..`` when no expression follows it,
        and is then emitted as U+E004 (an opening ``]`` as U+E005)."""
        if symbol == "..":
            if self.brackets:
                self.dots[-1] = True
            return symbol
        if symbol == "[" and self.brackets and self.dots[-1] and _OPEN_END.match(self.source, self.pos):
            self.pop()
            return "\ue004"
        if symbol == "]" and self.previous != "[" and not self.value_ended():
            self.brackets.append(symbol)
            self.dots.append(False)
            return "\ue005"
        if symbol in "([{":
            self.brackets.append(symbol)
            self.dots.append(False)
        elif symbol in ")]}":
            self.pop()
        return symbol

    def pop(self) -> None:
        if self.brackets:
            self.brackets.pop()
            self.dots.pop()

    def value_ended(self) -> bool:
        """Whether the previous token ends a value (so a ``]`` after it closes something)."""
        last = self.previous
        return bool(last) and (
            last[0] in '\ue000\ue002"0123456789'
            or last in (")", "]", "}", "\ue004", "true", "false", "null")
            or (last[0] == "." and last != "..")
        )

    def name_placeholder(self, name: str) -> str:
        self.names.append(" ".join(name.split()))
        return f"\ue000{len(self.names) - 1}\ue001"

    def type_placeholder(self, text: str) -> str:
        self.types.append(text)
        return f"\ue002{len(self.types) - 1}\ue003"

    def at_key(self) -> bool:
        """A context entry's key (``{foo+bar: 1}``): any name text up to ``:`` right after ``{`` or ``,``."""
        if not (self.brackets and self.brackets[-1] == "{" and self.previous in ("{", ",")):
            return False
        start = _SPACE.match(self.source, self.pos)
        position = start.end() if start else self.pos
        match = _KEY.match(self.source, position)
        if match is None:
            return False
        self.emit(self.name_placeholder(match.group(1)))
        self.pos = match.end(1)
        return True

    def read_name(self) -> str | None:
        """A known name, or a run of words separated by whitespace that are not keywords; None if there is no
        name here. A keyword alone is returned as itself."""
        source = self.source
        start = _SPACE.match(source, self.pos)
        position = start.end() if start else self.pos
        if self.known is not None:
            match = self.known.match(source, position)
            if match is not None:
                self.pos = match.end()
                return match.group()
        match = _WORD.match(source, position)
        if match is None:
            if source.startswith("?", position):
                self.pos = position + 1
                return "?"
            return None
        word = match.group(1)
        self.pos = match.end()
        if word in _KEYWORDS:
            return word
        words = [word]
        while True:
            if self.known is not None:
                space = _SPACE.match(source, self.pos)
                if space is not None and space.end() > self.pos and self.known.match(source, space.end()):
                    break
            following = _WORD.match(source, self.pos)
            if following is None or following.start(1) == self.pos or following.group(1) in _KEYWORDS:
                break
            words.append(following.group(1))
            self.pos = following.end()
        return " ".join(words)

    def expect(self, symbol: str) -> None:
        match = _SPACE.match(self.source, self.pos)
        position = match.end() if match else self.pos
        if not self.source.startswith(symbol, position):
            raise FeelSyntaxError(f"expected {symbol!r} at {self.source[position : position + 20]!r}")
        self.pos = position + len(symbol)

    def peek(self, symbol: str) -> bool:
        match = _SPACE.match(self.source, self.pos)
        position = match.end() if match else self.pos
        return self.source.startswith(symbol, position)

    def read_type(self) -> str:
        """A FEEL type (DMN 1.5 10.3.1.2 rule 54): a name, ``list<T>``, ``range<T>``, ``context<k: T, …>``,
        ``function<T, …>->T``; its canonical text."""
        name = self.read_name()
        if name is None:
            raise FeelSyntaxError(f"expected a type at {self.source[self.pos : self.pos + 20]!r}")
        if name in ("list", "range") and self.peek("<"):
            self.expect("<")
            inner = self.read_type()
            self.expect(">")
            return f"{name}<{inner}>"
        if name == "context" and self.peek("<"):
            self.expect("<")
            entries: list[str] = []
            while not self.peek(">"):  # context<> is any context
                if entries:
                    self.expect(",")
                key = self.read_name()
                if key is None:
                    raise FeelSyntaxError("expected a context type entry name")
                self.expect(":")
                entries.append(f"{key}: {self.read_type()}")
            self.expect(">")
            return f"context<{', '.join(entries)}>"
        if name == "function" and self.peek("<"):
            self.expect("<")
            parameters = []
            if not self.peek(">"):
                parameters.append(self.read_type())
                while self.peek(","):
                    self.expect(",")
                    parameters.append(self.read_type())
            self.expect(">")
            self.expect("->")
            return f"function<{', '.join(parameters)}>->{self.read_type()}"
        return name

    def function_parameters(self) -> None:
        """``function(a, b: number)``: the parameter names and their optional types."""
        if not self.peek("("):
            return
        self.expect("(")
        self.emit("(")
        if self.peek(")"):
            self.expect(")")
            self.emit(")")
            return
        while True:
            name = self.read_name()
            if name is None or name in _KEYWORDS:
                raise FeelSyntaxError("a function parameter must be a name")
            self.emit(self.name_placeholder(name))
            if self.peek(":"):
                self.expect(":")
                self.emit(":")
                self.emit(self.type_placeholder(self.read_type()))
            if self.peek(","):
                self.expect(",")
                self.emit(",")
                continue
            self.expect(")")
            self.emit(")")
            return


# --- grammar ------------------------------------------------------------------------------------------------

_GRAMMAR: Final = r"""
?start: expr
tests: expr ("," expr)*

?expr: "if" expr "then" expr "else" expr                          -> if_
     | "for" iteration ("," iteration)* "return" expr             -> for_
     | "some" binding ("," binding)* "satisfies" expr             -> some
     | "every" binding ("," binding)* "satisfies" expr            -> every
     | "function" "(" [parameter ("," parameter)*] ")" expr       -> function_
     | "function" "(" [parameter ("," parameter)*] ")" "external" expr -> external
     | disjunction
iteration: NAME "in" expr [".." expr]
binding: NAME "in" expr
parameter: NAME [":" TYPE]

?disjunction: conjunction | disjunction "or" conjunction          -> or_
?conjunction: comparison | conjunction "and" comparison           -> and_
?comparison: instance
     | comparison COMPARE instance                                -> compare
     | comparison "between" instance "and" instance               -> between
     | comparison "in" instance                                   -> in_
?instance: sum | instance "instance" "of" TYPE                    -> instance_of
?sum: product | sum "+" product -> add | sum "-" product -> sub
?product: power | product "*" power -> mul | product "/" power -> div
?power: unary | power "**" unary -> pow
?unary: postfix | "-" unary -> neg
?postfix: atom
     | postfix "." NAME                                           -> path
     | postfix "[" expr "]"                                       -> filter
     | postfix "(" [arguments] ")"                                -> call
arguments: expr ("," expr)*                                       -> positional
     | NAME ":" expr ("," NAME ":" expr)*                         -> named
?atom: NUMBER                                                     -> number
     | STRING                                                     -> string
     | "@" STRING                                                 -> at_literal
     | "true"                                                     -> true
     | "false"                                                    -> false
     | "null"                                                     -> null
     | NAME                                                       -> name
     | "(" expr ")"
     | "(" expr ("," expr)+ ")"                                   -> tuple
     | "[" [expr ("," expr)*] "]"                                 -> list_
     | "{" [entry ("," entry)*] "}"                               -> context
     | "[" expr ".." expr end                                     -> closed_interval
     | "(" expr ".." expr end                                     -> open_interval
     | "\ue005" expr ".." expr end                                -> open_interval
     | COMPARE sum                                                -> unary_test
!end: "]" | ")" | "[" | "\ue004"
entry: (NAME | STRING) ":" expr

COMPARE: "!=" | "<=" | ">=" | "=" | "<" | ">"
NAME: /\ue000\d+\ue001/
TYPE: /\ue002\d+\ue003/
NUMBER: /(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?/
STRING: /"(?:[^"\\]|\\.)*"/s
%ignore /\s+/
"""


@functools.cache
def _parser() -> Lark:
    """The FEEL parser, built on first use (building the LALR tables takes about 0.1 s: an engine or a CLI
    command that compiles no FEEL does not pay it)."""
    return Lark(_GRAMMAR, parser="lalr", start=["start", "tests"], maybe_placeholders=True)


# --- strings ------------------------------------------------------------------------------------------------


# --- value semantics shared by the operators ----------------------------------------------------------------


def _soft(problem: str) -> None:
    """FEEL's error semantics: null."""
    return


def _hard(problem: str) -> None:
    """Strict mode: a FEEL error raises."""
    raise FeelError(problem)


def _is_temporal(value: Any) -> bool:
    return isinstance(value, date | FeelTime | DayTimeDuration | YearMonthDuration)


def feel_equal(a: Any, b: Any) -> bool | None:
    """FEEL ``a = b``: ``_feel_values.equal``, with ranges also compared by how they were written (``(< 10)``
    is not ``(null..10)``, ``(= 10)`` is not ``[10..10]``, as the TCK 0068 has it)."""
    if isinstance(a, FeelRange) and isinstance(b, FeelRange):
        operator_a = a.operator if isinstance(a, ComparisonRange) else None
        operator_b = b.operator if isinstance(b, ComparisonRange) else None
        if operator_a != operator_b:
            return False
    return equal(a, b)


def _and3(a: Any, b: Any) -> bool | None:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def range_includes(value: Any, range_: FeelRange) -> bool | None:
    """Whether ``value`` lies in the range (DMN 1.5 10.3.2.7); None when it cannot be compared. An endpoint
    None is unbounded."""
    if value is None:
        return None
    if isinstance(range_, ComparisonRange) and range_.operator in ("=", "!="):
        same = feel_equal(value, range_.start)
        if same is None:
            return None
        return same if range_.operator == "=" else not same
    return _between_endpoints(value, range_.start, range_.start_included, range_.end, range_.end_included)


def _between_endpoints(
    value: Any, start: Any, start_included: bool, end: Any, end_included: bool
) -> bool | None:
    low: bool | None = True
    if start is not None:
        order = compare(start, value)
        low = None if order is None else (order < 0 or (order == 0 and start_included))
    high: bool | None = True
    if end is not None:
        order = compare(value, end)
        high = None if order is None else (order < 0 or (order == 0 and end_included))
    return _and3(low, high)


def _in_list(value: Any, items: Sequence[Any]) -> bool:
    """``value in [items]``: an item that is a range holds the value, any other item equals it."""
    for item in items:
        found = range_includes(value, item) if isinstance(item, FeelRange) else feel_equal(value, item)
        if found is True:
            return True
    return False


def match_value(value: Any, test: Any, list_equality: bool) -> bool | None:
    """A positive unary test whose expression gave ``test`` (DMN 1.5 10.3.2.11 and table 55): a list holds
    the value (or, with ``list_equality``, equals a list value), a range includes it, anything else equals it
    (null matches null)."""
    if isinstance(test, list):
        if _in_list(value, test):
            return True
        return bool(list_equality and isinstance(value, list) and feel_equal(value, test) is True)
    if isinstance(test, FeelRange):
        return range_includes(value, test)
    return feel_equal(value, test)


def _match_entry(value: Any, test: Any, list_equality: bool) -> bool | None:
    """An input entry's expression that is true holds; any other value is matched (``match_value``)."""
    return True if test is True else match_value(value, test, list_equality)


def _check_string(text: str) -> str:
    if len(text) > MAX_STRING:
        raise FeelError(f"a string of more than {MAX_STRING:,} characters")
    return text


def _add(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return CONTEXT.add(a, b)
    if type(a) is str and type(b) is str:
        return _check_string(a + b)
    if _is_temporal(a) or _is_temporal(b):
        return _feel_temporal.add(a, b)
    raise FeelError(f"{kind(a)} + {kind(b)} is not defined")


def _subtract(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return CONTEXT.subtract(a, b)
    if _is_temporal(a) or _is_temporal(b):
        return _feel_temporal.subtract(a, b)
    raise FeelError(f"{kind(a)} - {kind(b)} is not defined")


def _multiply(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return CONTEXT.multiply(a, b)
    if _is_temporal(a) or _is_temporal(b):
        return _feel_temporal.multiply(a, b)
    raise FeelError(f"{kind(a)} * {kind(b)} is not defined")


def _divide(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return CONTEXT.divide(a, b)
    if _is_temporal(a) or _is_temporal(b):
        return _feel_temporal.divide(a, b)
    raise FeelError(f"{kind(a)} / {kind(b)} is not defined")


def _power(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return CONTEXT.power(a, b)
    raise FeelError(f"{kind(a)} ** {kind(b)} is not defined")


def _negate(a: Any) -> Any:
    if type(a) is Decimal:
        return CONTEXT.minus(a)
    if isinstance(a, DayTimeDuration | YearMonthDuration):
        return _feel_temporal.negate(a)
    raise FeelError(f"-{kind(a)} is not defined")


def _integer(value: Any) -> int | None:
    if type(value) is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return None


def _domain(start: Any, end: Any) -> Sequence[Any]:
    """A ``for`` iteration domain ``start..end``: integers or dates, ascending or descending, both ends
    included."""
    low, high = _integer(start), _integer(end)
    if low is not None and high is not None:
        step = 1 if high >= low else -1
        if abs(high - low) + 1 > MAX_ITERATIONS:
            raise FeelError(f"a range of more than {MAX_ITERATIONS:,} items")
        return [Decimal(number) for number in range(low, high + step, step)]
    if type(start) is date and type(end) is date:
        days = (end - start).days
        if abs(days) + 1 > MAX_ITERATIONS:
            raise FeelError(f"a range of more than {MAX_ITERATIONS:,} days")
        step = 1 if days >= 0 else -1
        return [start + timedelta(days=day) for day in range(0, days + step, step)]
    raise FeelError(f"cannot iterate from {kind(start)} to {kind(end)}")


def _iteration(value: Any) -> Sequence[Any]:
    """What ``for x in value`` iterates over: a list (a range value is no iteration domain: TCK 0084)."""
    if isinstance(value, list):
        return value
    raise FeelError(f"cannot iterate over {kind(value)}")


def _property(value: Any, name: str) -> Any:
    """``value.name`` on a context, a range or a temporal value (raises FeelError if there is none)."""
    if isinstance(value, dict):
        if name in value:
            return value[name]
        raise FeelError(f"the context has no entry {name!r}")
    if isinstance(value, FeelRange):
        if name == "start":
            return value.start
        if name == "end":
            return value.end
        if name == "start included":
            return value.start_included
        if name == "end included":
            return value.end_included
        raise FeelError(f"a range has no property {name!r}")
    if _is_temporal(value):
        return _feel_temporal.property_of(value, name)
    raise FeelError(f"{kind(value)} has no property {name!r}")


def _builtin(name: str) -> FeelFunction | None:
    """The built-in function of that name (DMN 1.5 10.3.4: ``_feel_builtins`` and ``_feel_temporal``)."""
    for library in (_feel_builtins.BUILTINS, _feel_temporal.BUILTINS):
        function = library.get(name)
        if function is not None:
            return function
    return None


# --- compiling ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled expression: ``evaluate(scope)``, and the top-level names it reads from the scope."""

    text: str
    evaluate: Evaluator
    reads: frozenset[str]


@dataclass(frozen=True, slots=True)
class CompiledTests:
    """Compiled FEEL unary tests (a decision table's input entry, DMN 1.5 grammar rule 17):
    ``test(value, scope)`` → True, False or None (null: no match); ``reads`` the names it reads."""

    text: str
    test: Callable[[Any, Mapping[str, Any]], bool | None]
    reads: frozenset[str]


def _known_names(names: Iterable[str], functions: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(
        {
            *(" ".join(name.split()) for name in names),
            *functions,
            *_feel_builtins.BUILTINS,
            *_feel_temporal.BUILTINS,
            *STANDARD_FUNCTIONS,
            *_TYPE_NAMES,
        }
    )


def _parse(
    text: str, start: str, names: Iterable[str], functions: Mapping[str, Any]
) -> tuple[Tree[Token], _Scanned]:
    declared = frozenset(" ".join(name.split()) for name in names)
    scanned = _Scanner(text, _known_names(declared, functions)).scan()
    try:
        tree = _parser().parse(scanned.text, start=start)
    except LarkError as exc:
        raise FeelSyntaxError(f"not in the supported FEEL: {_lark_problem(exc)}") from None
    _check_depth(tree)
    return tree, scanned


def _check_depth(tree: Tree[Token]) -> None:
    stack: list[tuple[Tree[Token] | Token, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FeelSyntaxError(f"the expression nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, Tree):
            stack.extend((child, depth + 1) for child in node.children if child is not None)


def _lark_problem(exc: LarkError) -> str:
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        return "it ends too early"
    if token is not None:
        return f"unexpected {_readable(str(token))!r}"
    return type(exc).__name__


def _readable_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _readable(text: str) -> str:
    return re.sub(r"[\ue000\ue002](\d+)[\ue001\ue003]", "<name>", text)


def compile_expression(
    text: str,
    *,
    names: Iterable[str] = (),
    functions: Mapping[str, FeelFunction] | None = None,
    strict: bool = False,
    types: Mapping[str, _feel_types.FeelType] | None = None,
) -> Compiled:
    """Compile a FEEL expression once.

    Args:
        text: the expression.
        names: the names the model declares (input data, decisions, knowledge models, parameters): names
            with spaces, keywords or symbols among them are read as one name; a call may name any of them.
        functions: the business knowledge models the expression may call, by name.
        strict: raise :class:`FeelError` where FEEL gives null for an error.
        types: the model's item definitions by name, for ``instance of`` and typed parameters.

    Raises:
        FeelSyntaxError: the text is not FEEL, or uses what is refused (``external``, a missing built-in).
    """
    source = text.strip()
    if not source:
        raise FeelSyntaxError("the expression is empty")
    names = tuple(names)
    functions = dict(functions or {})
    types = dict(types or {})
    tree, scanned = _parse(source, "start", [*names, *types], functions)
    compiler = _Compiler(scanned, names, functions, strict, types)
    root = compiler.build(tree)
    return Compiled(source, compiler.guard(root), frozenset(compiler.reads))


def compile_unary_tests(
    text: str,
    *,
    names: Iterable[str] = (),
    functions: Mapping[str, FeelFunction] | None = None,
    strict: bool = False,
    types: Mapping[str, _feel_types.FeelType] | None = None,
) -> CompiledTests:
    """Compile the unary tests of an input entry once (DMN 1.5 grammar rule 17, semantics 10.3.2.11): ``-``
    (or an empty cell) matches anything; a comma list of positive unary tests matches when any does;
    ``not(…)`` negates such a list. A positive test is ``< e``, ``<= e``, ``> e``, ``>= e``, ``= e``, ``!=e``,
    an interval, or an expression: one that uses ``?`` matches when it is true with ``?`` bound to the input;
    any other matches by its value (a list holds the input, a range includes it, another value equals it)."""
    source = text.strip()
    if source in ("", "-"):
        return CompiledTests(source, lambda value, scope: True, frozenset())
    names = tuple(names)
    functions = dict(functions or {})
    types = dict(types or {})
    tree, scanned = _parse(source, "tests", [*names, *types], functions)
    compiler = _Compiler(scanned, names, functions, strict, types)
    compiler.bound = frozenset({"?"})
    items = list(tree.children)
    negated = False
    if len(items) == 1 and compiler.is_not_call(items[0]):
        call = items[0]
        assert isinstance(call, Tree)
        arguments = call.children[1]
        if not isinstance(arguments, Tree) or arguments.data != "positional":
            raise FeelSyntaxError("not(…) takes the unary tests to negate")
        items = list(arguments.children)
        negated = True
    tests = [compiler.positive_test(item, list_equality=True, unary=True) for item in items]
    disjunction = _any_test(tests)

    def negation(value: Any, scope: Mapping[str, Any]) -> bool | None:
        result = disjunction(value, scope)
        return None if result is None else not result

    test: Test = negation if negated else disjunction
    fail = compiler.fail

    def guarded(value: Any, scope: Mapping[str, Any]) -> bool | None:
        budget = _BUDGET
        if not budget.depth:
            budget.left = MAX_WORK
        budget.depth += 1
        try:
            return test(to_feel(value), scope)
        except FeelError as exc:
            fail(exc.problem)
            return None
        except RecursionError:
            fail("the tests recurse too deeply")
            return None
        finally:
            budget.depth -= 1

    return CompiledTests(source, guarded, frozenset(compiler.reads))


def _any_test(tests: Sequence[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def any_of(value: Any, scope: Mapping[str, Any]) -> bool | None:
        unknown = False
        for test in tests:
            result = test(value, scope)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False

    return any_of


Node = Tree[Token] | Token


class _Compiler:
    """Builds the closures of one parsed expression. ``bound`` holds the local names in scope at the node
    being built (iteration variables, parameters, context entries, ``item``, ``?``); ``filters`` counts the
    filters around it (whose elements' entries are names no one declares)."""

    def __init__(
        self,
        scanned: _Scanned,
        names: Sequence[str],
        functions: Mapping[str, FeelFunction],
        strict: bool,
        types: Mapping[str, _feel_types.FeelType],
    ) -> None:
        self.types = types
        self.scanned = scanned
        self.declared = frozenset(" ".join(name.split()) for name in names)
        self.functions = functions
        self.strict = strict
        self.fail: Callable[[str], None] = _hard if strict else _soft
        self.reads: set[str] = set()
        self.bound: frozenset[str] = frozenset()
        self.filters = 0

    def guard(self, root: Evaluator) -> Evaluator:
        return _guarded(root, self.fail)

    def build(self, node: Node) -> Evaluator:
        if isinstance(node, Token):
            raise FeelSyntaxError(f"unexpected {_readable(str(node))!r}")
        method = getattr(self, f"build_{node.data}", None)
        if method is None:
            raise FeelSyntaxError(f"{node.data} is not supported here")
        result: Evaluator = method(*node.children)
        return result

    def with_bound(self, names: Iterable[str]) -> frozenset[str]:
        """Bind local names; returns the previous set (restore it with ``self.bound = previous``)."""
        previous = self.bound
        self.bound = previous | frozenset(names)
        return previous

    def name_of(self, token: Token) -> str:
        return self.scanned.names[int(str(token)[1:-1])]

    def type_of(self, token: Token) -> _feel_types.FeelType:
        text = self.scanned.types[int(str(token)[1:-1])]
        try:
            return _feel_types.parse_type(text, self.types or None)
        except FeelError as exc:
            raise FeelSyntaxError(f"the type {text!r}: {exc.problem}") from None

    # literals

    def build_number(self, token: Token) -> Evaluator:
        try:
            value = CONTEXT.plus(Decimal(str(token)))
        except ArithmeticError:
            raise FeelSyntaxError(f"{str(token)[:40]} is outside FEEL's numbers (decimal128)") from None
        return lambda scope: value

    def build_string(self, token: Token) -> Evaluator:
        value = decode_string(str(token))
        return lambda scope: value

    def build_at_literal(self, token: Token) -> Evaluator:
        text = decode_string(str(token))
        try:
            value = _feel_temporal.parse_at_literal(text)
        except FeelError as exc:
            problem, fail = exc.problem, self.fail  # not a date, time or duration: null (TCK 0093)
            return lambda scope: fail(f'@"{text}": {problem}')
        except _feel_temporal.UnsupportedTemporalValue as exc:
            # A value FEEL has but this engine cannot hold (a year before 1): refused when evaluated, so one
            # cell does not refuse every decision of its model.
            refusal = exc

            def refuse(scope: Mapping[str, Any]) -> Any:
                raise refusal

            return refuse
        return lambda scope: value

    def build_true(self) -> Evaluator:
        return lambda scope: True

    def build_false(self) -> Evaluator:
        return lambda scope: False

    def build_null(self) -> Evaluator:
        return lambda scope: None

    def build_list_(self, *items: Node | None) -> Evaluator:
        evaluators = [self.build(item) for item in items if item is not None]
        return lambda scope: [each(scope) for each in evaluators]

    def build_context(self, *entries: Node | None) -> Evaluator:
        """``{a: 1, "b c": 2, d: a + 1}``: each entry sees the entries before it (and, for recursion, a
        function defined in an entry sees the whole context)."""
        keys: list[str] = []
        evaluators: list[Evaluator] = []
        previous = self.bound
        try:
            for entry in entries:
                if entry is None:
                    continue
                assert isinstance(entry, Tree)
                key_token, value = entry.children
                assert isinstance(key_token, Token)
                key = self.name_of(key_token) if key_token.type == "NAME" else decode_string(str(key_token))
                keys.append(key)
                recursive = isinstance(value, Tree) and value.data == "function_"
                if recursive:  # a function may call itself by its entry's name
                    self.bound = self.bound | {key}
                evaluators.append(self.build(value))
                self.bound = self.bound | {key}
        finally:
            self.bound = previous
        duplicate = next((key for key in keys if keys.count(key) > 1), None)
        fail = self.fail
        if duplicate is not None:
            return lambda scope: fail(f"the context has the key {duplicate!r} twice")
        pairs = tuple(zip(keys, evaluators, strict=True))

        def context(scope: Mapping[str, Any]) -> Any:
            inner = {**scope}
            result: dict[str, Any] = {}
            for key, evaluate in pairs:
                value = evaluate(inner)
                inner[key] = value
                result[key] = value
            return result

        return context

    def _interval(
        self, start: Node, end: Node, closing: Node, start_included: bool
    ) -> tuple[Evaluator, Evaluator, bool, bool]:
        assert isinstance(closing, Tree)
        end_included = str(closing.children[0]) == "]"  # ")", "[" (or "\ue004", the scanner's "[") exclude
        return self.build(start), self.build(end), start_included, end_included

    def build_closed_interval(self, start: Node, end: Node, closing: Node) -> Evaluator:
        return self._range_value(*self._interval(start, end, closing, True))

    def build_open_interval(self, start: Node, end: Node, closing: Node) -> Evaluator:
        return self._range_value(*self._interval(start, end, closing, False))

    def _range_value(self, low: Evaluator, high: Evaluator, low_in: bool, high_in: bool) -> Evaluator:
        fail = self.fail

        def interval(scope: Mapping[str, Any]) -> Any:
            start, end = low(scope), high(scope)
            if start is None or end is None:
                return fail("a range endpoint is null")
            if compare(start, end) is None:
                return fail(f"a range from {kind(start)} to {kind(end)}")
            return FeelRange(start, low_in, end, high_in)

        return interval

    def build_unary_test(self, operator: Token, operand: Node) -> Evaluator:
        """``< 10`` as a value: a range (DMN 1.5 10.3.2.7)."""
        op = str(operator)
        inner = self.build(operand)

        fail = self.fail

        def comparison_range(scope: Mapping[str, Any]) -> Any:
            value = inner(scope)
            if value is None:
                return fail(f"{op} null is no range")
            if op == "<":
                return ComparisonRange(None, False, value, False, "<")
            if op == "<=":
                return ComparisonRange(None, False, value, True, "<=")
            if op == ">":
                return ComparisonRange(value, False, None, False, ">")
            if op == ">=":
                return ComparisonRange(value, True, None, False, ">=")
            if op == "=":
                return ComparisonRange(value, True, value, True, "=")
            return ComparisonRange(value, False, value, False, "!=")

        return comparison_range

    def build_tuple(self, *items: Node) -> Evaluator:
        raise FeelSyntaxError("a parenthesised list (a, b) is only unary tests after 'in'")

    # names

    def build_name(self, token: Token, missing: Any = _MISSING) -> Evaluator:
        """A name's value: a local, the scope's, else a function of the model or a built-in of that name.
        A name in no scope is an error, or ``missing`` when one is given."""
        name = self.name_of(token)
        if name in self.bound:
            fail = self.fail

            def local(scope: Mapping[str, Any]) -> Any:
                value = scope.get(name, _MISSING)
                return fail(f"no value named {name!r}") if value is _MISSING else value

            return local
        fallback: Any = self.functions.get(name) or _builtin(name)
        if fallback is None and name in STANDARD_FUNCTIONS and name not in self.declared:
            raise FeelSyntaxError(f"the built-in function {name!r} is not available yet")
        # A read is a value the caller provides: not a knowledge model, nor a built-in (unless the model
        # declares an input of that name); inside a filter, only declared names (others are entries).
        function = name in self.functions or (fallback is not None and name not in self.declared)
        if not function and (self.filters == 0 or name in self.declared):
            self.reads.add(name)
        fail = self.fail
        problem = f"no value named {name!r}"

        def lookup(scope: Mapping[str, Any]) -> Any:
            value = scope.get(name, _MISSING)
            if value is not _MISSING:
                return to_feel(value)
            if fallback is not None:
                return fallback
            if missing is not _MISSING:
                return missing
            return fail(problem)

        return lookup

    # logic

    def build_if_(self, condition: Node, then: Node, otherwise: Node) -> Evaluator:
        test, yes, no = self.build(condition), self.build(then), self.build(otherwise)
        return lambda scope: yes(scope) if test(scope) is True else no(scope)

    def build_and_(self, left: Node, right: Node) -> Evaluator:
        first, second = self.build(left), self.build(right)

        def conjunction(scope: Mapping[str, Any]) -> Any:
            a = first(scope)
            if a is False:
                return False
            b = second(scope)
            if b is False:
                return False
            if a is True and b is True:
                return True
            return None

        return conjunction

    def build_or_(self, left: Node, right: Node) -> Evaluator:
        first, second = self.build(left), self.build(right)

        def disjunction(scope: Mapping[str, Any]) -> Any:
            a = first(scope)
            if a is True:
                return True
            b = second(scope)
            if b is True:
                return True
            if a is False and b is False:
                return False
            return None

        return disjunction

    def build_compare(self, left: Node, operator: Token, right: Node) -> Evaluator:
        first, second = self.build(left), self.build(right)
        op = str(operator)
        fail = self.fail
        if op in ("=", "!="):
            negate = op == "!="

            def equality(scope: Mapping[str, Any]) -> Any:
                a, b = first(scope), second(scope)
                try:
                    result = feel_equal(a, b)
                except FeelError as exc:
                    return fail(exc.problem)
                if result is None:
                    return fail(f"{kind(a)} {op} {kind(b)} cannot be compared")
                return (not result) if negate else result

            return equality
        accept = {"<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (1, 0)}[op]

        def ordering(scope: Mapping[str, Any]) -> Any:
            a, b = first(scope), second(scope)
            if a is None or b is None:
                return None
            try:
                order = compare(a, b)
            except FeelError as exc:
                return fail(exc.problem)
            if order is None:
                return fail(f"{kind(a)} {op} {kind(b)} cannot be compared")
            return order in accept

        return ordering

    def build_between(self, value: Node, low: Node, high: Node) -> Evaluator:
        subject, start, end = self.build(value), self.build(low), self.build(high)

        def between(scope: Mapping[str, Any]) -> Any:
            x, a, b = subject(scope), start(scope), end(scope)
            if x is None or a is None or b is None:
                return None
            return _between_endpoints(x, a, True, b, True)

        return between

    def build_in_(self, value: Node, target: Node) -> Evaluator:
        subject = self.build(value)
        if isinstance(target, Tree) and target.data == "tuple":
            test = _any_test([self.positive_test(item, list_equality=True) for item in target.children])
        else:
            test = self.positive_test(target, list_equality=False)
        return lambda scope: test(subject(scope), scope)

    def build_instance_of(self, value: Node, type_token: Token) -> Evaluator:
        subject = self.build(value)
        wanted = self.type_of(type_token)
        return lambda scope: _feel_types.conforms(subject(scope), wanted)

    # unary tests

    def is_not_call(self, node: Node | None) -> bool:
        if not (isinstance(node, Tree) and node.data == "call"):
            return False
        callee = node.children[0]
        return (
            isinstance(callee, Tree)
            and callee.data == "name"
            and self.name_of(callee.children[0]) == "not"  # type: ignore[arg-type]
            and "not" not in self.bound
        )

    def uses_question_mark(self, node: Node) -> bool:
        if isinstance(node, Token):
            return node.type == "NAME" and self.name_of(node) == "?"
        return any(self.uses_question_mark(child) for child in node.children if child is not None)

    def positive_test(self, node: Node, list_equality: bool, unary: bool = False) -> Test:
        """One positive unary test (DMN 1.5 grammar rule 15): a comparison, an interval, or an expression.
        In strict mode, a test that is null for a value that is not (a string against ``< 5``) raises."""
        test = self._positive_test(node, list_equality, unary)
        if not self.strict:
            return test
        fail = self.fail

        def strict(value: Any, scope: Mapping[str, Any]) -> bool | None:
            result = test(value, scope)
            if result is None and value is not None:
                fail(f"the test cannot be applied to {kind(value)} {_readable_value(value)}")
            return result

        return strict

    def _positive_test(self, node: Node, list_equality: bool, unary: bool) -> Test:
        if isinstance(node, Tree) and node.data == "unary_test":
            operator, operand = node.children
            return self._comparison_test(str(operator), self.build(operand))
        if isinstance(node, Tree) and node.data in ("closed_interval", "open_interval"):
            start, end, closing = node.children
            closed = node.data == "closed_interval"
            low, high, low_in, high_in = self._interval(start, end, closing, closed)

            def interval(value: Any, scope: Mapping[str, Any]) -> bool | None:
                start, end = low(scope), high(scope)
                if value is None or start is None or end is None:  # a null endpoint is not "unbounded"
                    return None
                return _between_endpoints(value, start, low_in, end, high_in)

            return interval
        if unary and self.uses_question_mark(node):
            predicate = self.build(node)

            def question(value: Any, scope: Mapping[str, Any]) -> bool | None:
                result = predicate({**scope, "?": value})
                return result if isinstance(result, bool) else None

            return question
        evaluate = self.build(node)
        if unary and not _simple_value(node):
            # An input entry whose expression (not a simple value: a literal, a name, a path) is true holds
            # whatever the input (DMN 1.5 10.3.2.11, as feel-scala and Camunda read it); else its value is
            # matched.
            return lambda value, scope: _match_entry(value, evaluate(scope), list_equality)
        return lambda value, scope: match_value(value, evaluate(scope), list_equality)

    def _comparison_test(self, op: str, operand: Evaluator) -> Test:
        if op in ("=", "!="):
            negate = op == "!="

            def equality(value: Any, scope: Mapping[str, Any]) -> bool | None:
                result = feel_equal(value, operand(scope))
                if result is None:
                    return None
                return (not result) if negate else result

            return equality
        accept = {"<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (1, 0)}[op]

        def ordering(value: Any, scope: Mapping[str, Any]) -> bool | None:
            order = compare(value, operand(scope))
            return None if order is None else order in accept

        return ordering

    # arithmetic

    def _arithmetic(
        self,
        left: Node,
        right: Node,
        symbol: str,
        operation: Callable[[Any, Any], Any],
        numbers: Callable[[Decimal, Decimal], Decimal],
    ) -> Evaluator:
        first, second = self.build(left), self.build(right)
        fail = self.fail

        def arithmetic(scope: Mapping[str, Any]) -> Any:
            a, b = first(scope), second(scope)
            if a is None or b is None:
                return None
            try:
                if type(a) is Decimal and type(b) is Decimal:  # the common case, without a call more
                    return numbers(a, b)
                return operation(a, b)
            except FeelError as exc:
                return fail(exc.problem)
            except ArithmeticError:
                return fail(f"{kind(a)} {symbol} {kind(b)} has no value here")

        return arithmetic

    def build_add(self, left: Node, right: Node) -> Evaluator:
        return self._arithmetic(left, right, "+", _add, CONTEXT.add)

    def build_sub(self, left: Node, right: Node) -> Evaluator:
        return self._arithmetic(left, right, "-", _subtract, CONTEXT.subtract)

    def build_mul(self, left: Node, right: Node) -> Evaluator:
        return self._arithmetic(left, right, "*", _multiply, CONTEXT.multiply)

    def build_div(self, left: Node, right: Node) -> Evaluator:
        return self._arithmetic(left, right, "/", _divide, CONTEXT.divide)

    def build_pow(self, left: Node, right: Node) -> Evaluator:
        # -a ** b is (-a) ** b and a ** b ** c is (a ** b) ** c: the TCK 0075-feel-exponent's reading.
        return self._arithmetic(left, right, "**", _power, CONTEXT.power)

    def build_neg(self, operand: Node) -> Evaluator:
        inner = self.build(operand)
        fail = self.fail

        def negate(scope: Mapping[str, Any]) -> Any:
            value = inner(scope)
            if value is None:
                return None
            try:
                return _negate(value)
            except FeelError as exc:
                return fail(exc.problem)

        return negate

    # iteration

    def _bindings(
        self, nodes: Sequence[Node], with_end: bool
    ) -> list[tuple[str, Evaluator, Evaluator | None]]:
        """The iteration contexts of ``for``/``some``/``every``; each sees the variables before it."""
        bindings: list[tuple[str, Evaluator, Evaluator | None]] = []
        for node in nodes:
            assert isinstance(node, Tree)
            name = self.name_of(node.children[0])  # type: ignore[arg-type]
            domain = self.build(node.children[1])
            end = node.children[2] if with_end else None
            bindings.append((name, domain, self.build(end) if end is not None else None))
            self.bound = self.bound | {name}
        return bindings

    def _combinations(
        self, bindings: Sequence[tuple[str, Evaluator, Evaluator | None]], scope: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every combination of the iteration contexts' items as a scope (the last context varies fastest)."""
        count = 0

        def walk(index: int, current: dict[str, Any]) -> Iterator[dict[str, Any]]:
            nonlocal count
            if index == len(bindings):
                count += 1
                if count > MAX_ITERATIONS:
                    raise FeelError(f"more than {MAX_ITERATIONS:,} iterations")
                yield current
                return
            name, domain, end = bindings[index]
            start = domain(current)
            items = _domain(start, end(current)) if end is not None else _iteration(start)
            _spend(len(items))
            for item in items:
                yield from walk(index + 1, {**current, name: item})

        yield from walk(0, {**scope})

    def build_for_(self, *children: Node) -> Evaluator:
        """``for x in L, y in 1..3 return e`` (DMN 1.5 10.3.2.14): the list of the e; ``partial`` is the
        results so far."""
        *iterations, body_node = children
        previous = self.bound
        try:
            bindings = self._bindings(iterations, with_end=True)
            self.bound = self.bound | {"partial"}
            body = self.build(body_node)
        finally:
            self.bound = previous
        combinations = self._combinations
        if len(bindings) == 1 and not _makes_closures(body_node):
            # One iteration context and no function literal to capture the scope: one scope for all items.
            name, domain, end = bindings[0]

            def for_one(scope: Mapping[str, Any]) -> Any:
                start = domain(scope)
                items = _domain(start, end(scope)) if end is not None else _iteration(start)
                if len(items) > MAX_ITERATIONS:
                    raise FeelError(f"more than {MAX_ITERATIONS:,} iterations")
                _spend(len(items))
                results: list[Any] = []
                inner = {**scope, "partial": results}
                for item in items:
                    inner[name] = item
                    results.append(body(inner))
                return results

            return for_one

        def for_(scope: Mapping[str, Any]) -> Any:
            results: list[Any] = []
            for inner in combinations(bindings, scope):
                inner["partial"] = results
                results.append(body(inner))
            return results

        return for_

    def _quantified(self, children: Sequence[Node], every: bool) -> Evaluator:
        *nodes, condition = children
        previous = self.bound
        try:
            bindings = self._bindings(nodes, with_end=False)
            test = self.build(condition)
        finally:
            self.bound = previous
        combinations = self._combinations
        decisive = not every  # some: one true decides; every: one false decides

        def quantified(scope: Mapping[str, Any]) -> Any:
            unknown = False
            for inner in combinations(bindings, scope):
                result = test(inner)
                if result is decisive:
                    return decisive
                if result is not (not decisive):
                    unknown = True
            return None if unknown else not decisive

        return quantified

    def build_some(self, *children: Node) -> Evaluator:
        return self._quantified(children, every=False)

    def build_every(self, *children: Node) -> Evaluator:
        return self._quantified(children, every=True)

    # filters and paths

    def build_filter(self, target: Node, condition: Node) -> Evaluator:
        """``L[cond]`` (DMN 1.5 10.3.2.5): a number picks an item (1-based, negative from the end); a boolean
        keeps the items for which it is true, with ``item`` and each item's context entries as names."""
        source = self.build(target)
        previous = self.bound
        self.filters += 1
        try:
            self.bound = self.bound | {"item"}
            test = self.build(condition)
        finally:
            self.bound = previous
            self.filters -= 1
        fail = self.fail
        closures = _makes_closures(condition)

        def filter_(scope: Mapping[str, Any]) -> Any:
            value = source(scope)
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]
            if not items:
                return _empty_filter(test, scope)
            _spend(len(items))
            kept: list[Any] = []
            shared = None if closures else {**scope}
            for position, item in enumerate(items):
                if isinstance(item, dict):
                    inner = {**scope, "item": item, **item}
                elif shared is not None:
                    inner = shared
                    inner["item"] = item
                else:
                    inner = {**scope, "item": item}
                result = test(inner)
                if position == 0 and type(result) is Decimal:
                    return _pick(items, result, fail)
                if result is True:
                    kept.append(item)
            return kept

        return filter_

    def build_path(self, target: Node, token: Token) -> Evaluator:
        inner = self.build(target)
        key = self.name_of(token)
        fail = self.fail

        def path(scope: Mapping[str, Any]) -> Any:
            value = inner(scope)
            if value is None:
                return None
            if isinstance(value, list):
                return [item.get(key) if isinstance(item, dict) else None for item in value]
            try:
                return _property(value, key)
            except FeelError as exc:
                return fail(exc.problem)

        return path

    # functions

    def build_function_(self, *children: Node | None) -> Evaluator:
        """``function(a, b: number) body`` (DMN 1.5 10.3.2.13): a closure over the scope it is made in."""
        *parameter_nodes, body_node = children
        parameters: list[str] = []
        types: list[tuple[str, _feel_types.FeelType]] = []
        for node in parameter_nodes:
            if node is None:
                continue
            assert isinstance(node, Tree)
            name_token, type_token = node.children
            name = self.name_of(name_token)  # type: ignore[arg-type]
            if name in parameters:
                raise FeelSyntaxError(f"the parameter {name!r} is declared twice")
            parameters.append(name)
            if type_token is not None:
                types.append((name, self.type_of(type_token)))  # type: ignore[arg-type]
        assert body_node is not None
        previous = self.with_bound(parameters)
        try:
            body = self.build(body_node)
        finally:
            self.bound = previous
        if types:
            untyped = body

            def typed(scope: Mapping[str, Any]) -> Any:
                for name, wanted in types:
                    if scope[name] is not None and not _feel_types.conforms(scope[name], wanted):
                        raise FeelError(f"the argument {name!r} is not a {wanted.name}")
                return untyped(scope)

            body = typed
        signature = tuple(parameters)

        def function(scope: Mapping[str, Any]) -> Any:
            return LambdaFunction("anonymous function", signature, body, closure=scope)

        return function

    def build_external(self, *children: Node | None) -> Evaluator:
        raise FeelSyntaxError("external functions (Java, PMML) are not supported")

    def build_call(self, callee: Node, arguments: Node | None) -> Evaluator:
        """``f(1, 2)`` or ``f(a: 1, b: 2)`` of anything that is a function (DMN 1.5 10.3.2.13)."""
        what = "the callee"
        if isinstance(callee, Tree) and callee.data == "name":
            token = callee.children[0]
            assert isinstance(token, Token)
            what = repr(self.name_of(token))
            function_of = self.build_name(token, missing=None)  # a missing function: null below
        else:
            function_of = self.build(callee)
        positional: list[Evaluator] | None = None
        named: list[tuple[str, Evaluator]] | None = None
        if arguments is None:
            positional = []
        else:
            assert isinstance(arguments, Tree)
            if arguments.data == "positional":
                positional = [self.build(argument) for argument in arguments.children]
            else:
                pairs = arguments.children
                named = [
                    (self.name_of(pairs[i]), self.build(pairs[i + 1]))  # type: ignore[arg-type]
                    for i in range(0, len(pairs), 2)
                ]
                keys = [key for key, _ in named]
                if len(set(keys)) != len(keys):
                    raise FeelSyntaxError("a named argument is given twice")
        fail = self.fail

        def call(scope: Mapping[str, Any]) -> Any:
            function = function_of(scope)
            if not isinstance(function, FeelFunction):
                return fail(f"{what} is {kind(function)}, not a function")
            try:
                if positional is not None:
                    return function.invoke([each(scope) for each in positional], None)
                assert named is not None
                return function.invoke(None, {key: each(scope) for key, each in named})
            except FeelError as exc:
                return fail(exc.problem)
            except ArithmeticError:
                return fail(f"{function.name} has no value here")

        return call


def _makes_closures(node: Node) -> bool:
    """Whether a function literal (which captures its scope) is in the subtree."""
    if isinstance(node, Token):
        return False
    return node.data == "function_" or any(
        _makes_closures(child) for child in node.children if child is not None
    )


def _simple_value(node: Node) -> bool:
    """A simple value of DMN 1.5 grammar rule 19: a literal or a (qualified) name."""
    if isinstance(node, Token):
        return False
    if node.data in ("number", "string", "true", "false", "null", "at_literal", "name"):
        return True
    if node.data == "neg":
        return isinstance(node.children[0], Tree) and node.children[0].data == "number"
    return node.data == "path" and _simple_value(node.children[0])


def _empty_filter(test: Evaluator, scope: Mapping[str, Any]) -> Any:
    """``[][cond]``: null if the condition is an index, else the empty list."""
    try:
        probe = test({**scope, "item": None})
    except FeelError:
        return []
    return None if type(probe) is Decimal else []


def _pick(items: Sequence[Any], index: Decimal, fail: Callable[[str], None]) -> Any:
    """``L[i]``: 1-based, negative from the end; out of range is null."""
    position = _integer(index)
    if position is None or position == 0 or abs(position) > len(items):
        return fail(f"no item {index} in a list of {len(items)}")
    return items[position - 1] if position > 0 else items[position]
