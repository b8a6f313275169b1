"""FEEL expressions (DMN 1.5 chapter 10), parsed with lark and compiled once into a tree of closures.

Supported: number, string, boolean and null literals; names (names with spaces when the model declares them:
input data, decisions, business knowledge models, parameters); paths ``a.b`` into contexts; arithmetic
``+ - * / **`` and negation; comparisons ``= != < <= > >=``; ``and``, ``or``, ``not(...)``;
``if … then … else``; calls of the model's business knowledge models and of the built-ins in ``BUILTINS``.

Anything else (``for``, ``some``/``every``, filters, list and context literals, ranges, ``instance of``,
``between``, ``in``, date and time literals, named arguments, …) raises :class:`FeelSyntaxError` when the
model is loaded, so the loader refuses it with the cell named: never a guess.

Numbers are ``Decimal`` in the decimal128 context of FEEL (34 digits, half-even). FEEL's errors (``10 / 0``,
``1 + "a"``) give null, as DMN 1.5 says; compiled with ``strict=True`` they raise :class:`FeelError` instead.
An expression never reaches Python: names are looked up in the scope mapping, calls go only to
``FeelFunction`` objects and the built-ins listed here.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from efficacy_flow.policy._feel import FeelSyntaxError, _unquote
from efficacy_flow.policy._feel_values import FeelError, LambdaFunction

__all__ = ["BUILTINS", "Compiled", "FeelError", "FeelFunction", "compile_expression", "to_feel"]

#: A compiled expression: scope → value.
Evaluator = Callable[[Mapping[str, Any]], Any]

#: FEEL numbers: IEEE 754 decimal128 (34 digits, round half even); errors are trapped and become null.
CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
_DECIMAL_ERRORS: Final = (ArithmeticError,)

_JOINER: Final = "\ue000"  # joins the words of a multi-word name before lark sees it

_GRAMMAR: Final = r"""
?start: expr
?expr: "if" expr "then" expr "else" expr -> if_
     | disjunction
?disjunction: conjunction | disjunction "or" conjunction -> or_
?conjunction: comparison | conjunction "and" comparison -> and_
?comparison: sum | sum COMPARE sum -> compare
?sum: product | sum "+" product -> add | sum "-" product -> sub
?product: power | product "*" power -> mul | product "/" power -> div
?power: unary | power "**" unary -> pow
?unary: postfix | "-" unary -> neg
?postfix: atom | postfix "." NAME -> path | NAME "(" [expr ("," expr)*] ")" -> call
?atom: NUMBER -> number
     | STRING -> string
     | "true" -> true
     | "false" -> false
     | "null" -> null
     | NAME -> name
     | "(" expr ")"
COMPARE: "!=" | "<=" | ">=" | "=" | "<" | ">"
NAME: /[^\W\d][\w\ue000]*/
NUMBER: /\d+(\.\d+)?|\.\d+/
STRING: /"(?:[^"\\]|\\.)*"/
%ignore /\s+/
%ignore /\/\/[^\n]*/
%ignore /\/\*(.|\n)*?\*\//
"""
_PARSER: Final = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=True)
_RESERVED: Final = frozenset({"true", "false", "null", "if", "then", "else", "and", "or"})


#: A business knowledge model's logic (or any model-defined function), called with positional arguments.
FeelFunction = LambdaFunction


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled expression: ``evaluate(scope)``, and the top-level names it reads from the scope."""

    text: str
    evaluate: Evaluator
    reads: frozenset[str]


def to_feel(value: Any) -> Any:
    """A Python value as FEEL sees it: int and float become Decimal; tuples lists; mappings dicts."""
    kind = type(value)
    if kind is str or kind is bool or value is None or kind is Decimal:
        return value
    if kind is int:
        return Decimal(value)
    if kind is float:
        return Decimal(repr(value))  # the shortest digits that round-trip: what was written
    if isinstance(value, Mapping):
        return {str(key): to_feel(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_feel(item) for item in value]
    return value


def kind(value: Any) -> str:
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
    if isinstance(value, FeelFunction):
        return "function"
    return type(value).__name__


# --- built-in functions -------------------------------------------------------------------------------------


def _number(value: Any, function: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise FeelError(f"{function} needs a number, not {kind(value)}")
    return value


def _string(value: Any, function: str) -> str:
    if not isinstance(value, str):
        raise FeelError(f"{function} needs a string, not {kind(value)}")
    return value


def _not(value: Any) -> Any:
    return (not value) if isinstance(value, bool) else None


def _abs(value: Any) -> Any:
    return abs(_number(value, "abs"))


def _string_length(value: Any) -> Any:
    return Decimal(len(_string(value, "string length")))


def _upper_case(value: Any) -> Any:
    return _string(value, "upper case").upper()


def _lower_case(value: Any) -> Any:
    return _string(value, "lower case").lower()


def _contains(value: Any, match: Any) -> Any:
    return _string(match, "contains") in _string(value, "contains")


def _starts_with(value: Any, match: Any) -> Any:
    return _string(value, "starts with").startswith(_string(match, "starts with"))


def _ends_with(value: Any, match: Any) -> Any:
    return _string(value, "ends with").endswith(_string(match, "ends with"))


#: name → (function, number of arguments). ``not`` propagates null itself; the others give null on a null
#: argument (FEEL: a built-in given null where it needs a value is null).
BUILTINS: Final[Mapping[str, tuple[Callable[..., Any], int]]] = {
    "not": (_not, 1),
    "abs": (_abs, 1),
    "string length": (_string_length, 1),
    "upper case": (_upper_case, 1),
    "lower case": (_lower_case, 1),
    "contains": (_contains, 2),
    "starts with": (_starts_with, 2),
    "ends with": (_ends_with, 2),
}
_NULL_PASSING: Final = frozenset({"not"})


# --- compiling ----------------------------------------------------------------------------------------------


def _join_names(text: str, names: Iterable[str]) -> str:
    """Join the words of each known multi-word name with ``_JOINER``, outside string literals and comments."""
    multi = sorted({name for name in names if " " in name.strip()}, key=len, reverse=True)
    patterns = [
        r"\s+".join(re.escape(word) for word in name.split())
        for name in multi
        if all(re.fullmatch(r"\w+", word) for word in name.split())
    ]
    if not patterns:
        return text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)")
    pieces = re.split(r'("(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/)', text, flags=re.DOTALL)
    for index in range(0, len(pieces), 2):  # even pieces are outside strings and comments
        pieces[index] = pattern.sub(lambda m: _JOINER.join(m.group(0).split()), pieces[index])
    return "".join(pieces)


def compile_expression(
    text: str,
    *,
    names: Iterable[str] = (),
    functions: Mapping[str, FeelFunction] | None = None,
    strict: bool = False,
) -> Compiled:
    """Compile a FEEL expression once.

    Args:
        text: the expression.
        names: the names the model declares (input data, decisions, knowledge models, parameters), so that
            names with spaces are read as one name.
        functions: the business knowledge models the expression may call, by name.
        strict: raise :class:`FeelError` where FEEL gives null for an error.

    Raises:
        FeelSyntaxError: the expression is outside the supported FEEL.
    """
    source = text.strip()
    if not source:
        raise FeelSyntaxError("the expression is empty")
    functions = dict(functions or {})
    try:
        tree = _PARSER.parse(_join_names(source, [*names, *functions, *BUILTINS]))
    except LarkError as exc:
        raise FeelSyntaxError(f"not in the supported FEEL: {_lark_problem(exc)}") from None
    compiler = _Compiler(functions, strict)
    evaluate = compiler.build(tree)
    return Compiled(source, evaluate, frozenset(compiler.reads))


def _lark_problem(exc: LarkError) -> str:
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        return "it ends too early"
    column = getattr(exc, "column", None)
    where = f" at column {column}" if isinstance(column, int) and column > 0 else ""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{first[:80]}{where}"


def _name_text(token: Token) -> str:
    return str(token).replace(_JOINER, " ")


class _Compiler:
    def __init__(self, functions: Mapping[str, FeelFunction], strict: bool) -> None:
        self.functions = functions
        self.strict = strict
        self.reads: set[str] = set()

    def fail(self, problem: str) -> Any:
        """FEEL's error: null, or in strict mode a FeelError."""
        if self.strict:
            raise FeelError(problem)
        return None

    def build(self, node: Tree[Token] | Token) -> Evaluator:
        if isinstance(node, Token):
            raise FeelSyntaxError(f"unexpected {node!s}")
        method = getattr(self, f"build_{node.data}", None)
        if method is None:
            raise FeelSyntaxError(f"{node.data} is not supported")
        result: Evaluator = method(*node.children)
        return result

    # literals and names

    def build_number(self, token: Token) -> Evaluator:
        value = Decimal(str(token))
        return lambda scope: value

    def build_string(self, token: Token) -> Evaluator:
        value = _unquote(str(token))
        return lambda scope: value

    def build_true(self) -> Evaluator:
        return lambda scope: True

    def build_false(self) -> Evaluator:
        return lambda scope: False

    def build_null(self) -> Evaluator:
        return lambda scope: None

    def build_name(self, token: Token) -> Evaluator:
        name = _name_text(token)
        if name in _RESERVED:
            raise FeelSyntaxError(f"{name!r} is a keyword")
        if name in self.functions or name in BUILTINS:
            raise FeelSyntaxError(f"function {name!r} used as a value is not supported")
        self.reads.add(name)
        fail = self.fail

        def lookup(scope: Mapping[str, Any]) -> Any:
            try:
                return to_feel(scope[name])
            except KeyError:
                return fail(f"no value named {name!r}")

        return lookup

    def build_path(self, target: Tree[Token], token: Token) -> Evaluator:
        inner = self.build(target)
        key = _name_text(token)
        fail = self.fail

        def path(scope: Mapping[str, Any]) -> Any:
            value = inner(scope)
            if value is None:
                return None
            if isinstance(value, dict):
                if key in value:
                    return value[key]
                return fail(f"the context has no {key!r}")
            return fail(f"{kind(value)} has no property {key!r}")

        return path

    # logic

    def build_if_(self, condition: Any, then: Any, otherwise: Any) -> Evaluator:
        test, yes, no = self.build(condition), self.build(then), self.build(otherwise)
        return lambda scope: yes(scope) if test(scope) is True else no(scope)

    def build_and_(self, left: Any, right: Any) -> Evaluator:
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

    def build_or_(self, left: Any, right: Any) -> Evaluator:
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

    def build_compare(self, left: Any, operator: Token, right: Any) -> Evaluator:
        first, second = self.build(left), self.build(right)
        op = str(operator)
        fail = self.fail
        ordering = op not in ("=", "!=")

        def compare(scope: Mapping[str, Any]) -> Any:
            a, b = first(scope), second(scope)
            if not ordering:
                if a is None or b is None:
                    equal = a is None and b is None
                else:
                    ka, kb = kind(a), kind(b)
                    if ka != kb or ka not in ("number", "string", "boolean", "date"):
                        raise FeelError(f"comparing {ka} with {kb} by {op} is not supported")
                    equal = a == b
                return equal if op == "=" else not equal
            if a is None or b is None:
                return None
            ka, kb = kind(a), kind(b)
            if ka != kb or ka not in ("number", "string", "date"):
                return fail(f"{ka} {op} {kb} cannot be compared")
            if op == "<":
                return a < b
            if op == "<=":
                return a <= b
            if op == ">":
                return a > b
            return a >= b

        return compare

    # arithmetic

    def _arithmetic(
        self, left: Any, right: Any, symbol: str, numbers: Callable[[Decimal, Decimal], Decimal]
    ) -> Evaluator:
        first, second = self.build(left), self.build(right)
        fail = self.fail
        concatenate = symbol == "+"

        def arithmetic(scope: Mapping[str, Any]) -> Any:
            a, b = first(scope), second(scope)
            if a is None or b is None:
                return None
            if isinstance(a, Decimal) and isinstance(b, Decimal):
                try:
                    return numbers(a, b)
                except _DECIMAL_ERRORS:
                    return fail(f"{a} {symbol} {b} has no value")
            if concatenate and isinstance(a, str) and isinstance(b, str):
                return a + b
            return fail(f"{kind(a)} {symbol} {kind(b)} is not defined")

        return arithmetic

    def build_add(self, left: Any, right: Any) -> Evaluator:
        return self._arithmetic(left, right, "+", CONTEXT.add)

    def build_sub(self, left: Any, right: Any) -> Evaluator:
        return self._arithmetic(left, right, "-", CONTEXT.subtract)

    def build_mul(self, left: Any, right: Any) -> Evaluator:
        return self._arithmetic(left, right, "*", CONTEXT.multiply)

    def build_div(self, left: Any, right: Any) -> Evaluator:
        return self._arithmetic(left, right, "/", CONTEXT.divide)

    def build_pow(self, left: Any, right: Any) -> Evaluator:
        if isinstance(left, Tree) and left.data == "neg":
            # Whether -2 ** 2 is 4 or -4 is read differently by implementations: refuse rather than guess.
            raise FeelSyntaxError("-x ** y is ambiguous: write (-x) ** y or -(x ** y)")
        return self._arithmetic(left, right, "**", CONTEXT.power)

    def build_neg(self, operand: Any) -> Evaluator:
        inner = self.build(operand)
        fail = self.fail

        def negate(scope: Mapping[str, Any]) -> Any:
            value = inner(scope)
            if value is None:
                return None
            if isinstance(value, Decimal):
                return CONTEXT.minus(value)
            return fail(f"-{kind(value)} is not defined")

        return negate

    # calls

    def build_call(self, callee: Token, *arguments: Any) -> Evaluator:
        name = _name_text(callee)
        given = [argument for argument in arguments if argument is not None]
        if len(given) != len(arguments) and arguments != (None,):
            raise FeelSyntaxError(f"a missing argument in the call of {name!r}")
        evaluators = tuple(self.build(argument) for argument in given)
        fail = self.fail
        if name in self.functions:
            function = self.functions[name]
            if len(evaluators) != len(function.parameters):
                raise FeelSyntaxError(
                    f"{name} takes {len(function.parameters)} arguments, not {len(evaluators)}"
                )

            def call_model(scope: Mapping[str, Any]) -> Any:
                return function([each(scope) for each in evaluators])

            return call_model
        if name not in BUILTINS:
            raise FeelSyntaxError(f"no function named {name!r} (supported: {', '.join(sorted(BUILTINS))})")
        builtin, arity = BUILTINS[name]
        if len(evaluators) != arity:
            raise FeelSyntaxError(f"{name} takes {arity} arguments, not {len(evaluators)}")
        passes_null = name in _NULL_PASSING

        def call_builtin(scope: Mapping[str, Any]) -> Any:
            values = [each(scope) for each in evaluators]
            if not passes_null and any(value is None for value in values):
                return None
            try:
                return builtin(*values)
            except FeelError as exc:
                return fail(exc.problem)
            except _DECIMAL_ERRORS:
                return fail(f"{name} has no value here")

        return call_builtin


@dataclass(frozen=True, slots=True)
class CompiledTests:
    """Compiled FEEL unary tests (a decision table's input entry, DMN 1.5 grammar rule 17):
    ``test(value, scope)`` → True, False or None (null: no match); ``reads`` the names it reads."""

    text: str
    test: Callable[[Any, Mapping[str, Any]], bool | None]
    reads: frozenset[str]


def compile_unary_tests(
    text: str,
    *,
    names: Iterable[str] = (),
    functions: Mapping[str, FeelFunction] | None = None,
    strict: bool = False,
) -> CompiledTests:
    """Compile the full FEEL unary tests of an input entry once (``-``, lists, ``not(…)``, ``?``, any
    expression: a value is compared by equality, a list by membership, a range by inclusion, a boolean is the
    answer).

    CONTRACT STUB: raises FeelSyntaxError until the full FEEL compiler lands.
    """
    raise FeelSyntaxError(f"unary tests {text!r}: not supported yet")
