"""The declarative form of FEEL's built-in functions (DMN 1.5 10.3.4, 10.3.2.13.2): signatures with typed
parameters, positional and named invocation, the singleton-list conversions, the bounds on results.

A built-in is declared once on a :class:`Library` with its name, its signatures (parameter names with the FEEL
types they accept) and the Python implementation::

    @LIBRARY.builtin("substring", "string: string, start position: number", "… , length: number")
    def _substring(string: str, start: Decimal, length: Decimal | None = None) -> str: …

Positional arguments pick the first signature of that arity whose types accept them; named arguments pick the
first signature that has every given name (a missing parameter is null). A parameter type is one or more FEEL
kinds (``number``, ``list``, ``context``, …), ``any`` (any non-null value) or ``point`` (a value a range may
hold), with ``?`` when null is accepted; the conversions of DMN 1.5 10.3.2.9.4 apply: a singleton list where a
non-list is expected is its item, a non-list where a list is expected is a singleton list. An invocation no
signature accepts raises FeelError (the compiler turns it into null).

Limits: a list result over ``MAX_ITEMS`` items or a string result over ``MAX_CHARS`` characters raises
FeelError, so no built-in builds an unbounded value.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from efficacy_flow.policy._feel_values import FeelError, FeelFunction, kind

__all__ = ["MAX_CHARS", "MAX_ITEMS", "POINT_KINDS", "Builtin", "Library", "Parameter", "Signature", "bounded"]

#: The most items a list result may have.
MAX_ITEMS: Final = 1_000_000
#: The most characters a string result may have.
MAX_CHARS: Final = 10_000_000

#: The kinds a range endpoint (a "point") may have.
POINT_KINDS: Final = frozenset(
    {
        "number",
        "string",
        "date",
        "date and time",
        "time",
        "days and time duration",
        "years and months duration",
    }
)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter: its FEEL name, the kinds it accepts (``any``/``point`` are wider), whether null
    is one of them, and whether it collects the remaining positional arguments (``*items``)."""

    name: str
    kinds: frozenset[str]
    nullable: bool = False
    variadic: bool = False

    @classmethod
    def parse(cls, text: str) -> Parameter:
        """``"start position: number"``, ``"delimiter: string?"``, ``"*item: any?"``, ``"n: number|range"``
        → a Parameter."""
        name, _, type_text = (part.strip() for part in text.partition(":"))
        variadic = name.startswith("*")
        nullable = type_text.endswith("?")
        kinds = frozenset(part.strip() for part in type_text.rstrip("?").split("|"))
        return cls(name.lstrip("*"), kinds, nullable, variadic)

    def accepts(self, value: Any) -> bool:
        """Whether the value is of one of the kinds (null only when nullable)."""
        if value is None:
            return self.nullable
        if "any" in self.kinds:
            return True
        name = kind(value)
        return name in self.kinds or ("point" in self.kinds and name in POINT_KINDS)

    def convert(self, value: Any) -> Any:
        """The argument as the parameter takes it (DMN 1.5 10.3.2.9.4), or FeelError."""
        if self.accepts(value):
            return value
        if isinstance(value, list) and len(value) == 1 and self.accepts(value[0]):
            return value[0]
        if value is not None and "list" in self.kinds and not isinstance(value, list):
            return [value]
        raise FeelError(f"parameter {self.name!r} does not take {kind(value)}")


@dataclass(frozen=True, slots=True)
class Signature:
    """One way to call a built-in: its parameters in order."""

    parameters: tuple[Parameter, ...]

    @classmethod
    def parse(cls, text: str) -> Signature:
        return cls(tuple(Parameter.parse(part) for part in text.split(",") if part.strip()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(parameter.name for parameter in self.parameters)

    def bind_positional(self, arguments: Sequence[Any]) -> list[Any] | None:
        """The converted arguments, or None when this signature does not take them."""
        fixed = [p for p in self.parameters if not p.variadic]
        variadic = self.parameters[-1] if self.parameters and self.parameters[-1].variadic else None
        if len(arguments) < len(fixed) or (variadic is None and len(arguments) != len(fixed)):
            return None
        try:
            bound = [p.convert(a) for p, a in zip(fixed, arguments, strict=False)]
            if variadic is not None:
                bound.append([variadic.convert(a) for a in arguments[len(fixed) :]])
        except FeelError:
            return None
        return bound

    def bind_named(self, arguments: Mapping[str, Any]) -> list[Any] | None:
        """The converted arguments by name (a missing one is null), or None."""
        if not set(arguments) <= set(self.names):
            return None
        try:
            bound = []
            for p in self.parameters:
                value = arguments.get(p.name)
                if p.variadic:
                    value = value if isinstance(value, list) else [value]
                    bound.append([p.convert(item) for item in value])
                else:
                    bound.append(p.convert(value))
        except FeelError:
            return None
        return bound


@dataclass(frozen=True, slots=True, eq=False)
class Builtin(FeelFunction):
    """A built-in function: its name, its signatures and the implementation each signature calls
    (positionally, in the signature's order). ``spread``: the function takes a list or its items as separate
    arguments (``sum([1, 2])`` or ``sum(1, 2)``; DMN 1.5 table 64)."""

    name: str
    signatures: tuple[Signature, ...]
    implementation: Callable[..., Any]
    spread: bool = False

    @property
    def parameters(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.signatures[0].names

    def invoke(self, positional: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        if positional is not None:
            arguments = list(positional)
            if self.spread and len(arguments) > 1:
                arguments = [arguments]
            bindings = (signature.bind_positional(arguments) for signature in self.signatures)
        else:
            given = dict(named or {})
            bindings = (signature.bind_named(given) for signature in self.signatures)
        bound = next((binding for binding in bindings if binding is not None), None)
        if bound is None:
            raise FeelError(f"{self.name}: no signature takes these arguments")
        try:
            result = self.implementation(*bound)
        except (decimal.DecimalException, ArithmeticError, RecursionError) as error:
            raise FeelError(f"{self.name}: {type(error).__name__}") from None
        return bounded(result)


def bounded(result: Any) -> Any:
    """The result, or FeelError when it is over the limits."""
    if isinstance(result, list) and len(result) > MAX_ITEMS:
        raise FeelError(f"a list of more than {MAX_ITEMS} items")
    if isinstance(result, str) and len(result) > MAX_CHARS:
        raise FeelError(f"a string of more than {MAX_CHARS} characters")
    return result


@dataclass(slots=True)
class Library:
    """A set of built-ins, filled by the :meth:`builtin` decorator."""

    functions: dict[str, Builtin] = field(default_factory=dict)

    def builtin(
        self, name: str, *signatures: str, spread: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a built-in: ``@library.builtin("name", "a: number, b: string?", …)`` over its
        implementation."""

        def register(implementation: Callable[..., Any]) -> Callable[..., Any]:
            if name in self.functions:
                raise ValueError(f"built-in {name!r} declared twice")
            parsed = tuple(Signature.parse(text) for text in signatures)
            self.functions[name] = Builtin(name, parsed, implementation, spread)
            return implementation

        return register
