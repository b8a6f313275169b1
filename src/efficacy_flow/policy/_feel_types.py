"""FEEL types (DMN 1.5 10.3.2.9 and 7.3.2): the type grammar ``instance of`` reads (``number``,
``list<string>``, ``context<a: number, b: date>``, ``function<number>->string``, ``range<date>``, ``Any``),
item definitions, conformance and the conversions of DMN 1.5 10.3.2.9.4 (singleton lists, ``null`` for a
value that does not conform).

A type is a :class:`FeelType`. Built-in types are named by their FEEL name; ``list``, ``context``,
``function`` and ``range`` carry their parameters (``list<T>`` and ``range<T>`` one, a function type its
parameter types then its result type, a context type its entries in ``fields``). A bare ``list`` or
``context`` has no parameters and accepts any list or context. An item definition is the structural type
it describes; ``extra`` carries what conformance leaves aside: ``item`` (the definition's name) and
``allowed`` (its ``allowedValues`` or ``typeConstraint`` as a predicate, which :func:`coerce` checks and
:func:`conforms` does not: DMN 1.5 10.3.2.9.1, TCK 0070).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from efficacy_flow.policy._feel_values import FeelError, FeelFunction, FeelRange, kind

__all__ = ["ANY", "BUILTIN_TYPES", "FeelType", "coerce", "conforms", "parse_type", "type_ref_type"]


@dataclass(frozen=True, slots=True)
class FeelType:
    """A FEEL type. ``name`` is a built-in type name (``number``, ``date and time``, ``Any``, ``Null``) or
    ``list``/``context``/``function``/``range`` with ``parameters`` (element type; context entries; parameter
    types then the result type)."""

    name: str
    parameters: tuple[FeelType, ...] = ()
    fields: tuple[tuple[str, FeelType], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.extra.get("item"):
            return str(self.extra["item"])
        if self.name in ("list", "range") and self.parameters:
            return f"{self.name}<{self.parameters[0]}>"
        if self.name == "context" and self.fields:
            return "context<" + ", ".join(f"{key}: {value}" for key, value in self.fields) + ">"
        if self.name == "function" and self.parameters:
            *arguments, result = self.parameters
            return f"function<{', '.join(map(str, arguments))}>->{result}"
        return self.name


ANY: Final = FeelType("Any")

#: The FEEL names of the built-in types (DMN 1.5 10.3.2.9), and the other spellings typeRefs use: DMN 1.1's
#: XML Schema names, Camunda 7's Java-flavoured ones.
BUILTIN_TYPES: Final[Mapping[str, str]] = {
    "Any": "Any",
    "Null": "Null",
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "date and time": "date and time",
    "days and time duration": "days and time duration",
    "years and months duration": "years and months duration",
    "list": "list",
    "context": "context",
    "function": "function",
    "range": "range",
    # other spellings
    "integer": "number",
    "long": "number",
    "double": "number",
    "decimal": "number",
    "int": "number",
    "dateTime": "date and time",
    "dayTimeDuration": "days and time duration",
    "yearMonthDuration": "years and months duration",
}

_TOKEN: Final = re.compile(r"\s*(->|[<>,:()]|\"(?:[^\"\\]|\\.)*\"|[^\s<>,:()\"]+)")
_MAX_DEPTH: Final = 32


def type_ref_type(type_ref: str | None, named: Mapping[str, FeelType] | None = None) -> FeelType | None:
    """The type a DMN ``typeRef`` attribute names (``named``: the model's item definitions); None when it
    names none (absent or blank). Raises FeelError."""
    if not type_ref or not type_ref.strip():
        return None
    return parse_type(type_ref, named)


def parse_type(text: str, named: Mapping[str, FeelType] | None = None) -> FeelType:
    """Read a FEEL type (``named`` holds the model's item definitions by name). Raises FeelError."""
    named = {} if named is None else named
    source = text.strip()
    if source.startswith("feel:"):  # DMN 1.1 writes the FEEL types with a prefix
        source = source[5:]
    if source in named:
        return named[source]
    tokens = [token for token in _TOKEN.findall(source) if token]
    if "".join(tokens) != re.sub(r"\s+", "", source):
        raise FeelError(f"type {text!r}: cannot be read")
    parser = _TypeParser(tokens, named, text)
    result = parser.type_(0)
    if parser.position != len(tokens):
        raise FeelError(f"type {text!r}: unexpected {tokens[parser.position]!r}")
    return result


class _TypeParser:
    """Recursive descent over the tokens of a type (DMN 1.5 grammar rule 54 and its ``type`` forms)."""

    def __init__(self, tokens: list[str], named: Mapping[str, FeelType], text: str) -> None:
        self.tokens = tokens
        self.named = named
        self.text = text
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise FeelError(f"type {self.text!r}: expected {expected or 'more'}, found {token or 'the end'}")
        self.position += 1
        return token

    def type_(self, depth: int) -> FeelType:
        if depth > _MAX_DEPTH:
            raise FeelError(f"type {self.text!r}: nested too deeply")
        words = []
        while (token := self.peek()) is not None and token not in ("<", ">", ",", ":", "(", ")", "->"):
            words.append(self.take())
        name = " ".join(words)
        if not name:
            raise FeelError(f"type {self.text!r}: a type name is missing")
        if self.peek() == "<" and name in ("list", "range", "context", "function"):
            self.take("<")
            if name in ("list", "range"):
                element = self.type_(depth + 1)
                self.take(">")
                return FeelType(name, (element,))
            if name == "context":
                entries = []
                while True:
                    key = []
                    while (token := self.peek()) is not None and token not in (":", ",", ">", "<"):
                        key.append(self.take())
                    self.take(":")
                    entries.append((" ".join(key), self.type_(depth + 1)))
                    if self.peek() != ",":
                        break
                    self.take(",")
                self.take(">")
                return FeelType("context", fields=tuple(entries))
            arguments = []
            if self.peek() != ">":
                arguments.append(self.type_(depth + 1))
                while self.peek() == ",":
                    self.take(",")
                    arguments.append(self.type_(depth + 1))
            self.take(">")
            self.take("->")
            return FeelType("function", (*arguments, self.type_(depth + 1)))
        if name in self.named:
            return self.named[name]
        if name in BUILTIN_TYPES:
            return FeelType(BUILTIN_TYPES[name])
        raise FeelError(f"type {name!r} is neither a FEEL type nor an item definition of the model")


def conforms(value: Any, type_: FeelType) -> bool:
    """Whether ``value`` is an instance of ``type_`` (DMN 1.5 10.3.2.9.1): ``Any`` holds every value but
    null, ``Null`` only null; a list conforms to ``list<T>`` when each element conforms to T (or is null), a
    context to ``context<a: T>`` when it has at least those entries and each conforms (or is null); a function
    to any function type; allowedValues are not looked at."""
    name = type_.name
    if name == "Null":
        return value is None
    if value is None:
        return False
    if name == "Any":
        return True
    value_kind = kind(value)
    if name == "list":
        if value_kind != "list":
            return False
        if not type_.parameters:
            return True
        element = type_.parameters[0]
        return all(item is None or conforms(item, element) for item in value)
    if name == "context":
        if value_kind != "context":
            return False
        return all(
            key in value and (value[key] is None or conforms(value[key], entry))
            for key, entry in type_.fields
        )
    if name == "range":
        if not isinstance(value, FeelRange):
            return False
        if not type_.parameters:
            return True
        element = type_.parameters[0]
        return all(bound is None or conforms(bound, element) for bound in (value.start, value.end))
    if name == "function":
        return isinstance(value, FeelFunction)
    return value_kind == name


def satisfies(value: Any, type_: FeelType) -> bool:
    """Whether ``value`` conforms to ``type_`` and meets the constraints (allowedValues, typeConstraint) of
    the item definitions in it."""
    if not conforms(value, type_):
        return False
    return _meets_constraints(value, type_)


def _meets_constraints(value: Any, type_: FeelType) -> bool:
    allowed: Callable[[Any], bool | None] | None = type_.extra.get("allowed")
    if allowed is not None and value is not None and allowed(value) is not True:
        return False
    if value is None:
        return True
    if type_.name == "list" and type_.parameters:
        return all(_meets_constraints(item, type_.parameters[0]) for item in value)
    if type_.name == "context" and type_.fields:
        return all(_meets_constraints(value.get(key), entry) for key, entry in type_.fields)
    return True


def coerce(value: Any, type_: FeelType) -> Any:
    """The value a typed element holds (DMN 1.5 10.3.2.9.4): null stays null; a conforming value is kept; a
    singleton list becomes its element and an element a singleton list where the type asks; anything else
    raises FeelError (null, or in strict mode the error)."""
    if value is None or (type_.name == "Any" and not type_.extra):
        return value
    if satisfies(value, type_):
        return value
    if type_.name == "list" and type_.parameters and satisfies([value], type_):
        return [value]
    if isinstance(value, list) and len(value) == 1 and satisfies(value[0], type_):
        return value[0]
    raise FeelError(f"{kind(value)} {_short(value)} does not conform to type {type_}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def item_definition(
    name: str,
    base: FeelType,
    *,
    collection: bool = False,
    allowed: Callable[[Any], bool | None] | None = None,
    constraint: Callable[[Any], bool | None] | None = None,
) -> FeelType:
    """The type an ``itemDefinition`` describes (DMN 1.5 7.3.2): ``base`` (its typeRef or its components as a
    context type), a list of it when ``isCollection``; ``allowed`` (allowedValues) constrains the base value
    (each element of a collection), ``constraint`` (typeConstraint) the whole value."""
    if allowed is not None:
        base = FeelType(base.name, base.parameters, base.fields, {**base.extra, "allowed": allowed})
    if collection:
        extra: dict[str, Any] = {"item": name}
        if constraint is not None:
            extra["allowed"] = constraint
        return FeelType("list", (base,), extra=extra)
    extra = {**base.extra, "item": name}
    if constraint is not None:
        previous = extra.get("allowed")
        extra["allowed"] = (
            constraint if previous is None else lambda value: previous(value) is True and constraint(value)
        )
    return FeelType(base.name, base.parameters, base.fields, extra)
