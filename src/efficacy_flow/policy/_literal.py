"""A decision whose logic is one FEEL literal expression (DMN ``literalExpression``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy._expr import Compiled, FeelError

__all__ = ["ExpressionDecision", "json_value"]


@dataclass(frozen=True, slots=True)
class ExpressionDecision:
    """A literal-expression decision, compiled once.

    Attributes:
        decision_id, name, path: as for a table.
        expression: the compiled FEEL expression.
        requires: ids of the decisions whose results it reads.
    """

    decision_id: str
    name: str
    path: str
    expression: Compiled
    requires: tuple[str, ...] = ()

    names: tuple[str, ...] = ()
    returns_list: bool = False

    @property
    def reads(self) -> frozenset[str]:
        """The top-level names the expression reads."""
        return self.expression.reads

    def run(self, scope: Mapping[str, Any]) -> Any:
        """Evaluate on ``scope``; a FEEL error of a strict model raises ``DecisionError``."""
        try:
            return self.expression.evaluate(scope)
        except FeelError as exc:
            raise DecisionError(
                f"decision {self.decision_id!r}: {self.expression.text!r}: {exc.problem}",
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
    """A FEEL value in JSON types: Decimal → int (integral) or float; dates → ISO strings; recursively."""
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
    return value
