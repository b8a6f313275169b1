"""A compiled decision table and its hit policies (DMN 1.5 chapter 8).

Everything here is built once by the loader and never changed afterwards, so one table may be evaluated from
several threads at the same time: ``evaluate`` keeps its state in local variables and returns new objects.

How a table is evaluated:

- At load, each input column whose cells are all :class:`~efficacy_flow.policy._feel.CellTest` of one kind is
  *indexed*: the bounds of every cell, sorted, cut the column's values into pieces (the open stretches
  between bounds, and the bounds themselves), and each piece gets the bit mask of the rules whose cell holds
  it. A rule is bit ``i`` of an ``int``.
- On ``evaluate``, each input is read (a plain walk through dicts; anything unusual goes through the exact
  reader ``_read``, which converts and raises as documented), then looked up with one ``bisect`` in its
  column, and the masks are ANDed: what is left are the matching rules, without calling a single cell.
- When an input is not of its column's kind (or is NaN, or of a subclass), or a column cannot be indexed,
  the table falls back to the rule-by-rule scan that calls every cell in order, so wrong-kind inputs raise
  exactly where and how they always did (``InputTypeMismatch`` → ``DecisionError`` naming the rule).
- Cells that need the evaluation scope (FEEL expressions: ``Rule.scoped``) and outputs computed from it
  (``Rule.computed``) are evaluated after a rule's other cells matched, in rule order, on either path.
"""

from __future__ import annotations

import contextlib
import re
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, NamedTuple

from efficacy_flow.errors import DecisionError
from efficacy_flow.policy._feel import (
    BOOLEAN,
    DATE,
    NUMBER,
    STRING,
    CellTest,
    InputTypeMismatch,
    Test,
    kind_of,
)
from efficacy_flow.policy._feel_values import FeelError, to_feel

__all__ = [
    "Aggregation",
    "DecisionResult",
    "HitPolicy",
    "InputColumn",
    "OutputColumn",
    "Rule",
    "ScopedTest",
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
# Module-level names for the members evaluation compares with: on Python 3.11 ``HitPolicy.FIRST`` is a
# lookup through the enum's metaclass (about 0.2 µs), which a decision must not pay several times.
_UNIQUE: Final = HitPolicy.UNIQUE
_FIRST: Final = HitPolicy.FIRST
_PRIORITY: Final = HitPolicy.PRIORITY
_ANY: Final = HitPolicy.ANY
_OUTPUT_ORDER: Final = HitPolicy.OUTPUT_ORDER
_COUNT: Final = Aggregation.COUNT
_MIN: Final = Aggregation.MIN
_MAX: Final = Aggregation.MAX
_INTEGERS: Final = frozenset({int})


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
        tests: (input column index, predicate) for each cell that constrains its input (the fast cells:
            ``CellTest`` from ``_feel.compile_unary_tests``; any other predicate makes the table unindexed).
        outputs: one JSON-friendly value per output column.
        rank: the row's position under PRIORITY / OUTPUT ORDER (lower comes first).
        scoped: (input column index, test) for each cell that reads the scope too (a FEEL expression), tested
            in this order once ``tests`` all matched, with the input as a FEEL value (``to_feel``: numbers
            are Decimal) and the evaluation scope as it was given.
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


class _Column(NamedTuple):
    """How one input column is read and looked up on the fast path (built once, by ``_index_columns``).

    The column's cell bounds, sorted, are ``points``; piece ``2 * i + 1`` is ``points[i]`` itself and piece
    ``2 * i`` the open stretch just below it (piece ``2 * len(points)``: everything above the last bound).
    When every cell is a list of literals (or ``not`` of one), every stretch has the same mask, and the
    points' masks are also kept by value in ``exact``: one dict lookup instead of a bisect.
    """

    column: InputColumn
    path: tuple[str, ...]  # the dict keys to walk (empty: the column is an evaluated expression)
    plain: frozenset[type]  # value types ``_read`` would return unchanged and unchecked; others go through it
    lookup: frozenset[type] | None  # value types the pieces are looked up for (None: any non-null value)
    points: tuple[Any, ...]
    size: int  # len(points)
    masks: tuple[int, ...]  # for each piece, the rules (bit i: rule i) whose cell holds it
    exact: dict[Any, int] | None  # point → its mask, when the cells are literals only (else None)
    null_mask: int  # the rules whose cell holds null (or has none)
    free: bool  # no rule's cell in the column is indexed: reading the input is all there is to do


_KIND_TYPES: Final[Mapping[str, frozenset[type]]] = {
    NUMBER: frozenset({int, float}),
    STRING: frozenset({str}),
    BOOLEAN: frozenset({bool}),
    DATE: frozenset({date}),
}
#: What ``_read`` returns unchanged from a column without a kind (it converts only Decimal, and ISO strings).
_UNTYPED_PLAIN: Final = frozenset({type(None), int, float, str, bool, date, dict, list})


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
        unnamed: one output column without a name: the decision's value is that output's value itself.
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
    unnamed: bool = field(init=False)
    _columns: tuple[_Column, ...] | None = field(init=False)
    _rows: tuple[dict[str, Any], ...] = field(init=False)
    _every: int = field(init=False)
    _single_hit: bool = field(init=False)
    _scoped: bool = field(init=False)
    _computed: bool = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(column.name for column in self.outputs)
        reads = {column.path[0] for column in self.inputs if column.evaluate is None and column.path}
        for column in self.inputs:
            reads |= column.reads
        values = {
            "names": names,
            "has_default": any(column.has_default for column in self.outputs),
            "reads": frozenset(reads),
            "unnamed": names == ("",),
            "_columns": _index_columns(self.inputs, self.rules),
            "_rows": tuple(dict(zip(names, rule.outputs, strict=True)) for rule in self.rules),
            "_every": (1 << len(self.rules)) - 1,
            "_single_hit": self.hit_policy in SINGLE_HIT,
            "_scoped": any(rule.scoped for rule in self.rules),
            "_computed": any(rule.computed for rule in self.rules),
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)

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

        Every input is read first, in column order; then the rules are matched through the column index (or,
        for an input the index does not cover, rule by rule: see the module docstring).

        Raises:
            DecisionError: an input is missing or of the wrong kind, no row matched and there is no default,
                UNIQUE matched several rows, or ANY matched rows that disagree.
        """
        columns = self._columns
        if columns is None:
            return self._scan([self._read(column, data) for column in self.inputs], data)
        values: list[Any] = []
        candidates = self._every
        indexed = True
        for column, path, plain, lookup, points, size, masks, exact, null_mask, free in columns:
            value: Any = data
            for key in path:
                if isinstance(value, dict) and key in value:
                    value = value[key]
                else:
                    value = self._read(column, data)  # null on the way, missing, not a dict: the exact reader
                    break
            else:
                if type(value) not in plain:
                    value = self._read(column, data)
            values.append(value)
            if free or not indexed:
                continue
            if value is None:
                candidates &= null_mask
            elif lookup is None or (type(value) in lookup and value == value):  # NaN is unordered: scan it
                if exact is not None:
                    candidates &= exact.get(value, masks[0])
                else:
                    at = bisect_left(points, value)
                    candidates &= masks[2 * at + 1 if at < size and points[at] == value else 2 * at]
            else:
                indexed = False  # not the column's kind: the scan raises where the first cell reads it
        if not indexed:
            return self._scan(values, data)
        if self._scoped:
            candidates = self._scoped_matches(candidates, values, data)
        if not candidates:
            return self._default()
        if self._single_hit and not candidates & (candidates - 1):  # exactly one rule matched
            return self._row(candidates.bit_length() - 1, data)
        if self.hit_policy is _FIRST:
            return self._row((candidates & -candidates).bit_length() - 1, data)
        return self._combine(_positions(candidates), data)

    def _scan(self, values: Sequence[Any], data: Mapping[str, Any]) -> DecisionResult:
        """Match rule by rule, calling each cell in order: the reference semantics, and the path for inputs
        the index does not cover (a wrong kind raises here, naming the first rule whose cell reads it)."""
        first = self.hit_policy is _FIRST
        matched: list[int] = []
        for at, rule in enumerate(self.rules):
            for index, test in rule.tests:
                try:
                    if not test(values[index]):
                        break
                except InputTypeMismatch as exc:
                    raise self._type_error(self.inputs[index], exc, rule) from None
            else:
                if rule.scoped and not self._scoped_match(rule, values, data):
                    continue
                if first:
                    return self._row(at, data)
                matched.append(at)
        if not matched:
            return self._default()
        return self._combine(matched, data)

    def _scoped_matches(self, candidates: int, values: Sequence[Any], data: Mapping[str, Any]) -> int:
        """The candidates whose scoped cells match too, tested in rule order (FIRST stops at the first)."""
        kept = 0
        first = self.hit_policy is _FIRST
        for at in _positions(candidates):
            rule = self.rules[at]
            if not rule.scoped or self._scoped_match(rule, values, data):
                kept |= 1 << at
                if first:
                    break
        return kept

    def _scoped_match(self, rule: Rule, values: Sequence[Any], data: Mapping[str, Any]) -> bool:
        """Whether the rule's scoped cells all match; each gets its input as a FEEL value (``to_feel``)."""
        for index, test in rule.scoped:
            try:
                if not test(to_feel(values[index]), data):
                    return False
            except FeelError as exc:
                column = self.inputs[index]
                raise self._feel_error(exc, rule, f"input {column.label!r} ({column.expression})") from None
        return True

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

    def _values(self, at: int, data: Mapping[str, Any]) -> tuple[Any, ...]:
        """Rule ``at``'s output values, its computed outputs evaluated on ``data``."""
        rule = self.rules[at]
        if not rule.computed:
            return rule.outputs
        values = list(rule.outputs)
        for index, evaluate in rule.computed:
            try:
                values[index] = evaluate(data)
            except FeelError as exc:
                raise self._feel_error(exc, rule, f"output {self.names[index]!r}") from None
        return tuple(values)

    def _row(self, at: int, data: Mapping[str, Any]) -> dict[str, Any]:
        """Rule ``at``'s outputs as a new dict keyed by output name."""
        if not self.rules[at].computed:
            return self._rows[at].copy()
        return dict(zip(self.names, self._values(at, data), strict=True))

    def _combine(self, matched: list[int], data: Mapping[str, Any]) -> DecisionResult:
        """Combine the matched rules (positions, in rule order) by the hit policy."""
        policy = self.hit_policy
        rules = self.rules
        if policy is _UNIQUE:
            if len(matched) > 1:
                raise self._conflict("UNIQUE allows one matching rule", matched)
            return self._row(matched[0], data)
        if policy is _ANY:
            first = self._values(matched[0], data)
            if any(self._values(at, data) != first for at in matched[1:]):
                raise self._conflict("ANY needs matching rules to agree", matched)
            return self._row(matched[0], data)
        if policy is _PRIORITY:
            best = min(matched, key=lambda at: rules[at].rank)  # min() keeps the earliest row among equals
            return self._row(best, data)
        if policy is _OUTPUT_ORDER:
            matched = sorted(matched, key=lambda at: rules[at].rank)  # stable: equal ranks keep rule order
        if self.aggregation is None:
            return [self._row(at, data) for at in matched]
        if self._computed:
            values = [self._values(at, data)[0] for at in matched]
        else:
            values = [rules[at].outputs[0] for at in matched]
        return {self.names[0]: _aggregate(self.aggregation, values)}

    def _conflict(self, problem: str, matched: list[int]) -> DecisionError:
        rules = [self.rules[at] for at in matched]
        rows = ", ".join(f"{rule.number} ({rule.rule_id})" for rule in rules)
        return DecisionError(
            f"decision {self.decision_id!r}: {problem}, but rules {rows} matched",
            decision=self.decision_id,
            rules=[rule.rule_id for rule in rules],
            problem=self.hit_policy.value,
        )

    def _feel_error(self, exc: FeelError, rule: Rule | None, where: str) -> DecisionError:
        """A FEEL error in a strict model's expression cell, as the ``DecisionError`` that names it."""
        at = f", rule {rule.number} ({rule.rule_id})" if rule is not None else ""
        return DecisionError(
            f"decision {self.decision_id!r}{at}: {where}: {exc.problem}",
            decision=self.decision_id,
            rule=rule.rule_id if rule is not None else None,
            problem=exc.problem,
        )


def _positions(mask: int) -> list[int]:
    """The positions of the set bits of ``mask``, lowest first (the matched rules, in rule order)."""
    positions = []
    while mask:
        low = mask & -mask
        positions.append(low.bit_length() - 1)
        mask ^= low
    return positions


# --- the column index ---------------------------------------------------------------------------------------


def _index_columns(inputs: Sequence[InputColumn], rules: Sequence[Rule]) -> tuple[_Column, ...] | None:
    """Index every input column (see ``_Column``), or None when a cell is not an indexable ``CellTest`` or a
    column's cells disagree on their kind (the table is then always scanned)."""
    cells: list[list[CellTest | None]] = [[None] * len(rules) for _ in inputs]
    for at, rule in enumerate(rules):
        for index, test in rule.tests:
            if not isinstance(test, CellTest) or test.spans is None or cells[index][at] is not None:
                return None
            cells[index][at] = test
    columns = []
    for column, column_cells in zip(inputs, cells, strict=True):
        kinds = {cell.kind for cell in column_cells if cell is not None and cell.kind is not None}
        if column.kind is not None:
            kinds.add(column.kind)
        if len(kinds) > 1 or not kinds <= set(_KIND_TYPES):
            return None
        columns.append(_index_column(column, next(iter(kinds), None), column_cells))
    return tuple(columns)


def _index_column(column: InputColumn, kind: str | None, cells: Sequence[CellTest | None]) -> _Column:
    lookup = _KIND_TYPES[kind] if kind is not None else None
    if column.evaluate is not None or column.allowed is not None:
        plain: frozenset[type] = frozenset()  # always through _read: it evaluates, or checks inputValues
    elif lookup is None:
        plain = _UNTYPED_PLAIN
    else:
        plain = lookup | {type(None)}
    if column.dates:
        plain -= {str}  # an ISO date string is converted by _read
    points = tuple(sorted({bound for cell in cells if cell is not None for bound in _bounds(cell)}))
    pieces = 2 * len(points) + 1
    # Each cell holds a few runs of consecutive pieces: toggle its bit where a run starts and after it ends,
    # then the masks are the running XOR (linear in cells and pieces, whatever the table's size).
    toggles = [0] * (pieces + 1)
    null_mask = 0
    for at, cell in enumerate(cells):
        bit = 1 << at
        runs = [(0, pieces - 1)] if cell is None else _runs(cell, points)
        for start, end in runs:
            toggles[start] ^= bit
            toggles[end + 1] ^= bit
        if cell is None or cell(None) is True:
            null_mask |= bit
    masks = []
    running = 0
    for toggle in toggles[:pieces]:
        running ^= toggle
        masks.append(running)
    free = all(cell is None for cell in cells)
    literals = all(
        span.low is not None and span.low_closed and span.high_closed and span.low == span.high
        for cell in cells
        if cell is not None
        for span in cell.spans or ()
    )
    exact = {point: masks[2 * at + 1] for at, point in enumerate(points)} if literals else None
    path = () if column.evaluate is not None else column.path
    return _Column(column, path, plain, lookup, points, len(points), tuple(masks), exact, null_mask, free)


def _bounds(cell: CellTest) -> list[Any]:
    return [bound for span in cell.spans or () for bound in (span.low, span.high) if bound is not None]


def _runs(cell: CellTest, points: tuple[Any, ...]) -> list[tuple[int, int]]:
    """The pieces (see ``_Column``) holding the values the cell matches, as disjoint sorted runs."""
    last = 2 * len(points)
    runs: list[tuple[int, int]] = []
    for span in cell.spans or ():
        start = 0 if span.low is None else 2 * bisect_left(points, span.low) + (1 if span.low_closed else 2)
        end = (
            last if span.high is None else 2 * bisect_left(points, span.high) + (1 if span.high_closed else 0)
        )
        if start <= end:
            runs.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(runs):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    if not cell.negated:
        return merged
    complement = []
    next_start = 0
    for start, end in merged:
        if start > next_start:
            complement.append((next_start, start - 1))
        next_start = end + 1
    if next_start <= last:
        complement.append((next_start, last))
    return complement


def _aggregate(aggregation: Aggregation, values: list[Any]) -> Any:
    if aggregation is _COUNT:
        return len(values)
    if aggregation is _MIN:
        return min(values)
    if aggregation is _MAX:
        return max(values)
    if not values or set(map(type, values)) == _INTEGERS:
        return sum(values)
    # Decimal arithmetic on the written digits, so 0.1 + 0.2 gives 0.3 as the table's author reads it.
    total = sum(map(Decimal, map(str, values)), Decimal(0))
    return float(total)
