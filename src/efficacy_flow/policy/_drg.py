"""The decision requirements graph (DMN 1.5 chapter 6): decisions with their requirements and scope, decision
services as functions, and the walk that evaluates a decision after the decisions it requires.

A decision sees (DMN 1.5 6.3.x): the decisions it requires (by name, as their value), the input data it
requires (converted to their typeRef, 10.3.2.9.4) and the knowledge models it requires (compiled in as
functions). The names of the model's other decisions and input data are hidden from it; a data name the
model does not declare stays visible, so a dmn-js table that reads process data without ``inputData``
elements works as before.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy._feel_types import FeelType, coerce
from efficacy_flow.policy._feel_values import FeelError, FeelFunction, to_feel
from efficacy_flow.policy._literal import ExpressionDecision, json_value
from efficacy_flow.policy._table import Table

__all__ = ["DecisionService", "DrgDecision", "ImportedRequirement", "evaluate"]

#: How deep decision services may call each other (a bound on recursion through services).
MAX_DEPTH = 64
#: This thread's depth of decision service calls.
_CALLS = threading.local()


@dataclass(frozen=True, slots=True, eq=False)
class ImportedRequirement:
    """What a decision requires from an imported model (DMN 1.5 6.3.1 and 12.3.2), seen in its scope as
    ``import name.element name``: a decision (``decision`` in ``graph``, the imported model's decisions), a
    knowledge model or service (``function``), or input data (``name``, read from the caller's data under the
    import's name or directly)."""

    import_name: str
    name: str
    decision: DrgDecision | None = None
    graph: Mapping[str, DrgDecision] = field(default_factory=dict)
    function: FeelFunction | None = None


@dataclass(frozen=True, slots=True, eq=False)
class DrgDecision:
    """A decision of the graph: its logic (a table, a boxed expression, or none) and what it requires.

    Attributes:
        decision_id, name, path: the decision's id, name and file.
        logic: what computes its value; None for a decision without logic (DMN 1.5 allows it: its value can
            only be given, as a decision service's input decision).
        requires: ids of the decisions it requires, in file order.
        inputs: the input data it requires: (name, type or None).
        hidden: the model's decision and input data names it does not require (not in its scope).
    """

    decision_id: str
    name: str
    path: str
    logic: Table | ExpressionDecision | None
    requires: tuple[str, ...] = ()
    inputs: tuple[tuple[str, FeelType | None], ...] = ()
    hidden: frozenset[str] = frozenset()
    strict: bool = True
    imported: tuple[ImportedRequirement, ...] = ()
    #: Names its table's FEEL cells read besides its input columns.
    extra_reads: frozenset[str] = frozenset()
    #: Why it could not be compiled, when the model was loaded with deferred refusals: raised on evaluation.
    refusal: DecisionTableError | None = None
    typed_inputs: tuple[tuple[str, FeelType], ...] = field(init=False)
    #: Its table holds FEEL values (computed outputs, date defaults) that ``shaped`` turns into JSON types.
    json_shaped: bool = field(init=False)
    #: Nothing to add to or take from the caller's data: its logic runs on the data as given.
    plain: bool = field(init=False)

    def __post_init__(self) -> None:
        typed = tuple((name, type_) for name, type_ in self.inputs if type_ is not None)
        object.__setattr__(self, "typed_inputs", typed)
        table = self.logic if isinstance(self.logic, Table) else None
        shaped = table is not None and (
            any(rule.computed for rule in table.rules)
            or any(isinstance(column.default, date) for column in table.outputs)
        )
        object.__setattr__(self, "json_shaped", shaped)
        plain = not (self.requires or self.hidden or typed or self.imported)
        object.__setattr__(self, "plain", plain)

    @property
    def names(self) -> tuple[str, ...]:
        """The output names (a table's columns; ``()`` for an expression)."""
        return self.logic.names if self.logic is not None else ()

    @property
    def returns_list(self) -> bool:
        return self.logic.returns_list if self.logic is not None else False

    @property
    def reads(self) -> frozenset[str]:
        """The top-level names its logic reads."""
        return (self.logic.reads | self.extra_reads) if self.logic is not None else frozenset()

    def run(self, scope: Mapping[str, Any]) -> Any:
        """Evaluate the logic on ``scope`` (the raw result ``standard`` and ``shaped`` read)."""
        if self.refusal is not None:
            raise self.refusal
        if self.logic is None:
            raise DecisionError(
                f"decision {self.decision_id!r} has no decision logic; its value must be given",
                decision=self.decision_id,
                problem="no decision logic",
            )
        return self.logic.run(scope)

    def standard(self, raw: Any) -> Any:
        """The value as DMN 1.5 defines it."""
        return self.logic.standard(raw) if self.logic is not None else raw

    def shaped(self, raw: Any) -> Any:
        """The value as ``decide`` returns it (JSON types)."""
        if self.logic is None:
            return json_value(raw)
        shaped = self.logic.shaped(raw)
        return json_value(shaped) if self.json_shaped else shaped


def evaluate(
    decision: DrgDecision,
    data: Mapping[str, Any],
    graph: Mapping[str, DrgDecision],
    done: dict[str, Any],
    given: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate ``decision`` on ``data`` after the decisions it requires (each once: ``done`` keeps raw
    results by id). ``given`` holds values of decisions that are not evaluated (a decision service's input
    decisions), by id. Returns the raw result."""
    if decision.plain:
        return decision.run(data)
    hides = bool(decision.hidden) and not decision.hidden.isdisjoint(data)
    if not decision.requires and not hides and not decision.typed_inputs and not decision.imported:
        return decision.run(data)
    # A shallow copy (the caller's mapping is never written), without the names the decision does not see.
    hidden = decision.hidden
    scope = {key: value for key, value in data.items() if key not in hidden} if hides else dict(data)
    for name, type_ in decision.typed_inputs:
        if name in data:
            scope[name] = _converted(decision, name, data[name], type_)
    for required_id in decision.requires:
        required = graph[required_id]
        if given is not None and required_id in given:
            value = given[required_id]
            scope[required_id] = json_value(value)
            scope[required.name] = value
            continue
        if required_id not in done:
            done[required_id] = evaluate(required, data, graph, done, given)
        raw = done[required_id]
        scope[required_id] = required.shaped(raw)
        if isinstance(raw, dict) and all(required.names) and required.names:
            scope.update(raw)  # a named output is also offered under its own name
        scope[required.name] = required.standard(raw)  # DMN: the name is the decision's value
    if decision.imported:
        scope.update(imported_scope(decision.imported, data))
    return decision.run(scope)


def imported_scope(requirements: Sequence[ImportedRequirement], data: Mapping[str, Any]) -> dict[str, Any]:
    """The contexts, one per import name, through which a decision sees what it requires from imported
    models: each imported decision evaluated in its own model on the caller's data (the entries of a context
    the data holds under the import's name taking precedence), each function, each input data."""
    contexts: dict[str, dict[str, Any]] = {}
    for requirement in requirements:
        context = contexts.setdefault(requirement.import_name, {})
        nested = data.get(requirement.import_name)
        own = {**data, **nested} if isinstance(nested, Mapping) else data
        if requirement.function is not None:
            context[requirement.name] = requirement.function
        elif requirement.decision is not None:
            raw = evaluate(requirement.decision, own, requirement.graph, {})
            context[requirement.name] = requirement.decision.standard(raw)
        elif requirement.name in own:
            context[requirement.name] = to_feel(own[requirement.name])
    return dict(contexts)


def _converted(decision: DrgDecision, name: str, value: Any, type_: FeelType) -> Any:
    try:
        return coerce(to_feel(value), type_)
    except FeelError as exc:
        if decision.strict:
            raise DecisionError(
                f"decision {decision.decision_id!r}: input {name!r}: {exc.problem}",
                decision=decision.decision_id,
                input=name,
                problem="type",
            ) from None
        return None


@dataclass(eq=False)
class DecisionService(FeelFunction):
    """A decision service (DMN 1.5 6.3.4 and 10.4): a function whose parameters are its input data then its
    input decisions, by name; it evaluates its output decisions (and the encapsulated decisions they need) and
    gives the one output's value, or a context of the outputs by name.

    ``graph`` is the model's decisions by id, filled in once the model is compiled.
    """

    name: str
    service_id: str
    outputs: tuple[str, ...]
    input_decisions: tuple[tuple[str, str, FeelType | None], ...]
    input_data: tuple[tuple[str, FeelType | None], ...]
    graph: dict[str, DrgDecision] = field(default_factory=dict)
    #: The output type of the service's function type (its variable's typeRef), if it declares one.
    result_type: FeelType | None = None
    strict: bool = True
    parameters: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Input data first, then input decisions (TCK 0085 decisionService_011: positional arguments).
        self.parameters = tuple(name for name, _ in self.input_data) + tuple(
            name for _, name, _ in self.input_decisions
        )

    def invoke(self, positional: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        if positional is not None:
            if len(positional) != len(self.parameters):
                raise FeelError(f"{self.name} takes {len(self.parameters)} arguments, not {len(positional)}")
            arguments = dict(zip(self.parameters, positional, strict=True))
        else:
            arguments = dict(named or {})
            unknown = set(arguments) - set(self.parameters)
            if unknown:
                raise FeelError(f"{self.name} has no parameter {sorted(unknown)[0]!r}")
        depth = getattr(_CALLS, "depth", 0)
        if depth >= MAX_DEPTH:
            raise FeelError(f"{self.name}: decision services call each other more than {MAX_DEPTH} deep")
        given = {
            decision_id: _parameter(name, arguments.get(name), type_)
            for decision_id, name, type_ in self.input_decisions
        }
        data = {name: _parameter(name, arguments.get(name), type_) for name, type_ in self.input_data}
        done: dict[str, Any] = {}
        results: dict[str, Any] = {}
        _CALLS.depth = depth + 1
        try:
            for decision_id in self.outputs:
                decision = self.graph[decision_id]
                results[decision.name] = decision.standard(evaluate(decision, data, self.graph, done, given))
        finally:
            _CALLS.depth = depth
        value = next(iter(results.values())) if len(self.outputs) == 1 else results
        if self.result_type is None:
            return value
        try:
            return coerce(value, self.result_type)
        except FeelError:
            if self.strict:
                raise
            return None


def _parameter(name: str, value: Any, type_: FeelType | None) -> Any:
    """A service argument converted to its parameter's type; one that does not conform raises FeelError: the
    service is not invoked (TCK 0085 decisionService_007)."""
    value = to_feel(value)
    if type_ is None or value is None:
        return value
    try:
        return coerce(value, type_)
    except FeelError as exc:
        raise FeelError(f"argument {name!r}: {exc.problem}") from None
