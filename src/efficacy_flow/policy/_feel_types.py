"""FEEL types (DMN 1.5 10.3.2.9 and 7.3.2): the type grammar ``instance of`` reads (``number``,
``list<string>``, ``context<a: number, b: date>``, ``function<number>->string``, ``range<date>``, ``Any``),
item definitions, conformance and the conversions of DMN 1.5 10.3.2.9.4 (singleton lists, ``null`` for a
value that does not conform).

CONTRACT STUB: the signatures below are what ``_expr`` (``instance of``) and ``_dmn`` (typeRef, item
definitions) call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from efficacy_flow.policy._feel_values import FeelError

__all__ = ["FeelType", "conforms", "parse_type"]


@dataclass(frozen=True, slots=True)
class FeelType:
    """A FEEL type. ``name`` is a built-in type name (``number``, ``date and time``, ``Any``, ``Null``) or
    ``list``/``context``/``function``/``range`` with ``parameters`` (element type; context entries; parameter
    types then the result type)."""

    name: str
    parameters: tuple[FeelType, ...] = ()
    fields: tuple[tuple[str, FeelType], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_type(text: str, named: Mapping[str, FeelType] | None = None) -> FeelType:
    """Read a FEEL type (``named`` holds the model's item definitions by name). Raises FeelError."""
    raise FeelError(f"type {text!r}: not implemented yet")


def conforms(value: Any, type_: FeelType) -> bool:
    """Whether ``value`` is an instance of ``type_`` (DMN 1.5 10.3.2.9.1)."""
    raise FeelError("conformance is not implemented yet")
