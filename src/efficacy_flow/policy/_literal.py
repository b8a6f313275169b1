"""A decision whose logic is an expression: a FEEL literal expression or any boxed expression (DMN 1.5
chapters 7 and 10), compiled once into a closure scope → value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy import _feel_temporal
from efficacy_flow.policy._feel_values import FeelError

__all__ = ["ExpressionDecision", "json_value"]


@dataclass(frozen=True, slots=True)
class ExpressionDecision:
    """A decision whose logic is an expression, compiled once.

    Attributes:
        decision_id, name, path: as for a table.
        evaluate: the compiled expression (scope → value, with the decision's typeRef conversion).
        reads: the top-level names the expression reads.
        text: what the expression is, for error messages (the FEEL text of a literal expression).
        requires: ids of the decisions whose results it reads.
    """

    decision_id: str
    name: str
    path: str
    evaluate: Callable[[Mapping[str, Any]], Any]
    reads: frozenset[str]
    text: str
    requires: tuple[str, ...] = ()

    names: tuple[str, ...] = ()
    returns_list: bool = False

    def run(self, scope: Mapping[str, Any]) -> Any:
        """Evaluate on ``scope``; a FEEL error of a strict model raises ``DecisionError``."""
        try:
            return self.evaluate(scope)
        except FeelError as exc:
            raise DecisionError(
                f"decision {self.decision_id!r}: {self.text}: {exc.problem}",
                decision=self.decision_id,
                problem=exc.problem,
            ) from None

    def standard(self, raw: Any) -> Any:
        """The decision's value as DMN defines it (numbers are ``Decimal``)."""
        return raw

    def shaped(self, raw: Any) -> Any:
        """The value as ``decide`` returns it: JSON types (int or float, ISO date strings)."""
        return json_value(raw)


def json_value(value: Any) -> Any:
    """A FEEL value in JSON types: Decimal → int (integral) or float; dates, dates and times, times and
    durations → their ISO / FEEL strings; recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool) or value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if _feel_temporal.kind(value) is not None:  # a time or a duration: its FEEL string (``P1DT2H``)
        return _feel_temporal.to_string(value)
    return value
