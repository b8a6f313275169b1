"""A compiled decision table and its hit policies.

Everything here is built once by the loader and never changed afterwards, so one table may be evaluated from
several threads at the same time: ``evaluate`` keeps its state in local variables and returns new objects.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy._feel import DATE, InputTypeMismatch, Test, kind_of
from efficacy_flow.policy._feel_values import FeelError, to_feel

__all__ = [
    "Aggregation",
    "DecisionResult",
    "HitPolicy",
    "InputColumn",
    "OutputColumn",
    "Rule",
    "ScopedTest",
    "ScopedValue",
    "Table",
]

#: What a decision returns: a dict of outputs (single-hit policies and COLLECT with an aggregator) or a list
#: of such dicts (COLLECT without an aggregator, RULE ORDER, OUTPUT ORDER).
DecisionResult = dict[str, Any] | list[dict[str, Any]]

#: A cell that reads the evaluation scope as well as its input (a FEEL expression cell, such as
#: ``_expr.CompiledTests.test``): (input value, scope) → True, False or None (null: no match).
ScopedTest = Callable[[Any, Mapping[str, Any]], bool | None]
#: An output cell computed from the scope when its rule matches (such as ``_expr.Compiled.evaluate``).
ScopedValue = Callable[[Mapping[str, Any]], Any]

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


class HitPolicy(StrEnum):
    """The DMN hit policies, spelled as the ``hitPolicy`` attribute spells them."""

    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    ANY = "ANY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"


class Aggregation(StrEnum):
    """COLLECT aggregators, spelled as dmn-js writes the ``aggregation`` attribute."""

    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


SINGLE_HIT: Final = frozenset({HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY})


@dataclass(frozen=True, slots=True)
class InputColumn:
    """One input column: the dotted path it reads and the kind its cells expect.

    Attributes:
        label: the column heading (falls back to the expression).
        expression: the input expression as written (``case.unit.type``).
        path: the expression split on dots.
        kind: the declared kind (number, string, boolean, date) or None when the table declares none.
        dates: ISO ``YYYY-MM-DD`` strings are read as dates (the column is typed date or has date cells).
        allowed: the column's ``inputValues`` as a predicate (None: any value); a value outside is an error.
        allowed_text: the ``inputValues`` as written, for the error message.
        evaluate: for an input expression that is not a plain path, the compiled expression (scope → value);
            ``path`` is then not read. Its value is converted and checked as a path's value is.
        reads: the top-level names ``evaluate`` reads (what the caller must supply).
    """

    label: str
    expression: str
    path: tuple[str, ...]
    kind: str | None
    dates: bool
    allowed: Test | None = None
    allowed_text: str = ""
    evaluate: ScopedValue | None = None
    reads: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OutputColumn:
    """One output column.

    Attributes:
        name: the key the value gets in the result (and in process data).
        priorities: for PRIORITY and OUTPUT ORDER, each allowed value's rank (0 is first), from outputValues.
        default: the value when no rule matches (``has_default`` says whether the table declared one).
    """

    name: str
    priorities: Mapping[Any, int] | None = None
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: its tests (only the cells that are not ``-``) and its output values.

    Attributes:
        number: the 1-based row number, as the modeler shows it.
        rule_id: the ``rule`` element's id.
        tests: (input column index, predicate) for each cell that constrains its input.
        outputs: one JSON-friendly value per output column.
        rank: the row's position under PRIORITY / OUTPUT ORDER (lower comes first).
        scoped: (input column index, test) for each cell that reads the scope too (a FEEL expression), tested
            in this order once ``tests`` all matched.
        computed: (output column index, expression) for each output computed on a match; its value replaces
            ``outputs[index]`` (which the loader leaves None).
    """

    number: int
    rule_id: str
    tests: tuple[tuple[int, Test], ...]
    outputs: tuple[Any, ...]
    rank: tuple[int, ...] = ()
    scoped: tuple[tuple[int, ScopedTest], ...] = ()
    computed: tuple[tuple[int, ScopedValue], ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    """A decision table compiled for evaluation.

    Attributes:
        decision_id: the ``decision`` element's id (what ``decide()`` is called with).
        name: the decision's name.
        path: the file it came from.
        hit_policy: how matching rows combine.
        aggregation: the COLLECT aggregator, if any.
        inputs, outputs, rules: the columns and rows.
        requires: ids of the decisions whose results this one reads (``requiredDecision``), in file order.
    """

    decision_id: str
    name: str
    path: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    inputs: tuple[InputColumn, ...]
    outputs: tuple[OutputColumn, ...]
    rules: tuple[Rule, ...]
    requires: tuple[str, ...] = ()
    strict: bool = True
    names: tuple[str, ...] = field(init=False)
    has_default: bool = field(init=False)
    reads: frozenset[str] = field(init=False)
    _feel_cells: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(column.name for column in self.outputs))
        object.__setattr__(self, "has_default", any(column.has_default for column in self.outputs))
        reads = {column.path[0] for column in self.inputs if column.evaluate is None and column.path}
        for column in self.inputs:
            reads |= column.reads
        object.__setattr__(self, "reads", frozenset(reads))
        object.__setattr__(self, "_feel_cells", any(rule.scoped or rule.computed for rule in self.rules))

    @property
    def unnamed(self) -> bool:
        """One output column without a name: the decision's value is that output's value itself."""
        return self.names == ("",)

    def run(self, scope: Mapping[str, Any]) -> Any:
        """Evaluate on ``scope``: the matched rows as dicts keyed by output name (see ``evaluate``)."""
        return self.evaluate(scope)

    def standard(self, raw: Any) -> Any:
        """The result as DMN defines it: one output's value (a list of them for multi-hit), or a context per
        row when there are several outputs."""
        if len(self.names) != 1 or raw is None:
            return raw
        (name,) = self.names
        if isinstance(raw, list):
            return [row[name] for row in raw]
        return raw[name]

    def shaped(self, raw: Any) -> Any:
        """The result as ``decide`` returns it: dicts keyed by output name, or the value of an unnamed one."""
        return self.standard(raw) if self.unnamed else raw

    @property
    def returns_list(self) -> bool:
        """True when the result is a list of dicts (multi-hit without an aggregator)."""
        return self.hit_policy not in SINGLE_HIT and self.aggregation is None

    def evaluate(self, data: Mapping[str, Any]) -> DecisionResult:
        """Evaluate the table on ``data`` (read only) and combine the matching rows by the hit policy.

        Raises:
            DecisionError: an input is missing or of the wrong kind, no row matched and there is no default,
                UNIQUE matched several rows, or ANY matched rows that disagree.
        """
        if self._feel_cells:
            return self._evaluate_feel(data)
        values = [self._read(column, data) for column in self.inputs]
        first = self.hit_policy is HitPolicy.FIRST
        matched: list[Rule] = []
        for rule in self.rules:
            for index, test in rule.tests:
                try:
                    if not test(values[index]):
                        break
                except InputTypeMismatch as exc:
                    raise self._type_error(self.inputs[index], exc, rule) from None
            else:
                if first:
                    return dict(zip(self.names, rule.outputs, strict=True))
                matched.append(rule)
        if not matched:
            return self._default()
        return self._combine(matched)

    def _evaluate_feel(self, data: Mapping[str, Any]) -> DecisionResult:
        """``evaluate`` for a table with FEEL-expression cells (DMN 1.5 8.3): a rule's scoped cells are tested
        once its other cells matched, and the computed outputs of the matched rules are evaluated on
        ``data``."""
        values = [self._read(column, data) for column in self.inputs]
        first = self.hit_policy is HitPolicy.FIRST
        matched: list[Rule] = []
        for rule in self.rules:
            for index, test in rule.tests:
                try:
                    if not test(values[index]):
                        break
                except InputTypeMismatch as exc:
                    raise self._type_error(self.inputs[index], exc, rule) from None
            else:
                if rule.scoped and not self._scoped_match(rule, values, data):
                    continue
                matched.append(self._with_outputs(rule, data))
                if first:
                    return dict(zip(self.names, matched[0].outputs, strict=True))
        if not matched:
            return self._default()
        try:
            return self._combine(matched)
        except TypeError:  # an aggregator over computed values of kinds it cannot combine
            raise DecisionError(
                f"decision {self.decision_id!r}: {self.aggregation} cannot combine the outputs of rules "
                + ", ".join(str(rule.number) for rule in matched),
                decision=self.decision_id,
                problem="aggregation",
            ) from None

    def _scoped_match(self, rule: Rule, values: Sequence[Any], data: Mapping[str, Any]) -> bool:
        for index, test in rule.scoped:
            try:
                if not test(to_feel(values[index]), data):
                    return False
            except FeelError as exc:
                column = self.inputs[index]
                raise self._feel_error(exc, rule, f"input {column.label!r} ({column.expression})") from None
        return True

    def _with_outputs(self, rule: Rule, data: Mapping[str, Any]) -> Rule:
        """The rule with its computed outputs evaluated on ``data``."""
        if not rule.computed:
            return rule
        outputs = list(rule.outputs)
        for index, evaluate in rule.computed:
            try:
                outputs[index] = evaluate(data)
            except FeelError as exc:
                raise self._feel_error(exc, rule, f"output {self.names[index]!r}") from None
        return Rule(rule.number, rule.rule_id, rule.tests, tuple(outputs), rule.rank)

    def _feel_error(self, exc: FeelError, rule: Rule | None, where: str) -> DecisionError:
        """A FEEL error in a strict model's expression cell, as the ``DecisionError`` that names it."""
        at = f", rule {rule.number} ({rule.rule_id})" if rule is not None else ""
        return DecisionError(
            f"decision {self.decision_id!r}{at}: {where}: {exc.problem}",
            decision=self.decision_id,
            rule=rule.rule_id if rule is not None else None,
            problem=exc.problem,
        )

    # --- reading inputs -------------------------------------------------------------------------------------

    def _read(self, column: InputColumn, data: Mapping[str, Any]) -> Any:
        value: Any = data
        if column.evaluate is not None:
            try:
                value = column.evaluate(data)
            except FeelError as exc:
                raise self._feel_error(exc, None, f"input {column.label!r} ({column.expression})") from None
        else:
            for depth, key in enumerate(column.path):
                if value is None:
                    return None  # FEEL: a path through null is null
                if not isinstance(value, Mapping) or key not in value:
                    where = ".".join(column.path[:depth]) or "the data"
                    raise DecisionError(
                        f"decision {self.decision_id!r}: input {column.label!r} reads {column.expression!r}, "
                        f"but {where} has no {key!r}",
                        decision=self.decision_id,
                        input=column.expression,
                        problem="missing",
                    )
                value = value[key]
        if type(value) is Decimal:
            value = float(value)  # cells hold JSON numbers; 0.1 must match Decimal("0.1") as the author meant
        elif column.dates and isinstance(value, str) and _ISO_DATE.fullmatch(value):
            # A malformed date (2025-02-30) stays a string: the kind check below names it.
            with contextlib.suppress(ValueError):
                value = date.fromisoformat(value)
        if column.kind is not None and value is not None and kind_of(value) != column.kind:
            raise self._type_error(column, InputTypeMismatch(value, column.kind), None)
        if column.allowed is not None and value is not None:
            try:
                allowed = column.allowed(value)
            except InputTypeMismatch as exc:
                raise self._type_error(column, exc, None) from None
            if not allowed:
                raise DecisionError(
                    f"decision {self.decision_id!r}: input {column.label!r} ({column.expression}) is "
                    f"{value!r}, outside its allowed values {column.allowed_text}",
                    decision=self.decision_id,
                    input=column.expression,
                    value=value,
                    problem="not allowed",
                )
        return value

    def _type_error(self, column: InputColumn, exc: InputTypeMismatch, rule: Rule | None) -> DecisionError:
        where = f", rule {rule.number} ({rule.rule_id})" if rule is not None else ""
        hint = " (dates as datetime.date or 'YYYY-MM-DD')" if exc.expected == DATE else ""
        return DecisionError(
            f"decision {self.decision_id!r}{where}: input {column.label!r} ({column.expression}) "
            f"must be a {exc.expected}{hint}, got {kind_of(exc.value)} {exc.value!r}",
            decision=self.decision_id,
            input=column.expression,
            rule=rule.rule_id if rule is not None else None,
            value=exc.value,
            expected=exc.expected,
            problem="type",
        )

    # --- combining rows -------------------------------------------------------------------------------------

    def _default(self) -> DecisionResult:
        if not self.has_default:
            raise DecisionError(
                f"decision {self.decision_id!r}: no rule matched and the table declares no default output",
                decision=self.decision_id,
                problem="no match",
            )
        row = {column.name: column.default for column in self.outputs}
        if self.returns_list:
            return [row]
        return row

    def _combine(self, matched: Sequence[Rule]) -> DecisionResult:
        policy = self.hit_policy
        names = self.names
        if policy is HitPolicy.UNIQUE:
            if len(matched) > 1:
                raise self._conflict("UNIQUE allows one matching rule", matched)
            return dict(zip(names, matched[0].outputs, strict=True))
        if policy is HitPolicy.ANY:
            if any(rule.outputs != matched[0].outputs for rule in matched[1:]):
                raise self._conflict("ANY needs matching rules to agree", matched)
            return dict(zip(names, matched[0].outputs, strict=True))
        if policy is HitPolicy.PRIORITY:
            best = min(matched, key=_rank)  # min() keeps the earliest row among equals
            return dict(zip(names, best.outputs, strict=True))
        if policy is HitPolicy.OUTPUT_ORDER:
            matched = sorted(matched, key=_rank)  # stable: equal priorities stay in rule order
        if self.aggregation is None:
            return [dict(zip(names, rule.outputs, strict=True)) for rule in matched]
        return {names[0]: _aggregate(self.aggregation, [rule.outputs[0] for rule in matched])}

    def _conflict(self, problem: str, matched: Sequence[Rule]) -> DecisionError:
        rows = ", ".join(f"{rule.number} ({rule.rule_id})" for rule in matched)
        return DecisionError(
            f"decision {self.decision_id!r}: {problem}, but rules {rows} matched",
            decision=self.decision_id,
            rules=[rule.rule_id for rule in matched],
            problem=self.hit_policy.value,
        )


def _rank(rule: Rule) -> tuple[int, ...]:
    return rule.rank


def _aggregate(aggregation: Aggregation, values: list[Any]) -> Any:
    if aggregation is Aggregation.COUNT:
        return len(values)
    if aggregation is Aggregation.MIN:
        return min(values)
    if aggregation is Aggregation.MAX:
        return max(values)
    if all(type(value) is int for value in values):
        return sum(values)
    # Decimal arithmetic on the written digits, so 0.1 + 0.2 gives 0.3 as the table's author reads it.
    total = sum((Decimal(str(value)) for value in values), Decimal(0))
    return float(total)
