"""The set of loaded decisions: ``load_decisions()`` and ``Decisions.decide()``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from efficacy_flow._parsing import parse_xml, read_file
from efficacy_flow.errors import DecisionError, DecisionTableError
from efficacy_flow.policy._dmn import Decision, Model, parse_dmn, parse_dmn_text
from efficacy_flow.policy._drg import DecisionService, evaluate
from efficacy_flow.policy._feel_values import FeelError, to_feel
from efficacy_flow.policy._table import DecisionResult

__all__ = ["Decisions", "load_decisions"]


def load_decisions(path: str | Path, *, strict: bool = True, defer_refusals: bool = False) -> Decisions:
    """Load and compile every decision in a ``.dmn`` file, or in every ``*.dmn`` file of a folder.

    ``strict`` (the default, what processes use) raises ``DecisionError`` where DMN 1.5 gives null (no rule
    matched, UNIQUE matched several rules, a FEEL error such as ``1 / 0``); ``strict=False`` follows DMN 1.5.
    ``defer_refusals`` loads a decision that cannot be compiled as one that raises its ``DecisionTableError``
    when evaluated, so the others of its model load (the TCK runner's way; processes want the refusal now).

    A folder is read non-recursively, in file-name order. Every cell is compiled here, so a table that cannot
    be evaluated correctly fails now, not on the first case that reaches it.

    Raises:
        DecisionTableError: the path does not exist, a file is not valid DMN, a cell is outside the supported
            FEEL, a decision id appears twice (in one file or across files), a required decision is missing,
            or decisions require each other in a cycle. ``path``, ``decision``, ``rule`` and ``cell`` say
            where.
    """
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.glob("*.dmn") if p.is_file())
    elif root.is_file():
        files = [root]
    else:
        raise DecisionTableError(
            f"{root}: no such DMN file or folder",
            path=str(root),
            decision=None,
            rule=None,
            cell=None,
            problem="no such DMN file or folder",
        )
    tables: list[Decision] = []
    services: dict[str, DecisionService] = {}
    folder = _Folder(root if root.is_dir() else root.parent, strict, defer_refusals)
    for file in files:
        model = folder.load(file)
        tables.extend(model.decisions)
        services.update(model.services)
    return Decisions(tables, services)


#: The fields of a DecisionTableError about a file as a whole.
_NO_PLACE: Final = {"decision": None, "rule": None, "cell": None}


class _Folder:
    """The DMN files of one folder by their model namespace, compiled once each: what a model's imports
    name (DMN 1.5 6.3.1), and the files ``load_decisions`` reads."""

    def __init__(self, folder: Path, strict: bool, defer_refusals: bool = False) -> None:
        self.folder = folder
        self.strict = strict
        self.defer_refusals = defer_refusals
        self.paths: dict[str, Path] | None = None
        self.models: dict[Path, Model] = {}
        self.loading: list[Path] = []

    def namespaces(self) -> dict[str, Path]:
        if self.paths is None:
            self.paths = {}
            for path in sorted(p for p in self.folder.glob("*.dmn") if p.is_file()):
                text = read_file(path, DecisionTableError, fields=_NO_PLACE)
                root = parse_xml(text, str(path), DecisionTableError, fields=_NO_PLACE)
                self.paths.setdefault(root.get("namespace") or "", path)
        return self.paths

    def resolve(self, namespace: str) -> Model | None:
        path = self.namespaces().get(namespace) if namespace else None
        return self.load(path) if path is not None else None

    def load(self, path: Path) -> Model:
        if path in self.models:
            return self.models[path]
        if path in self.loading:
            cycle = " → ".join(str(p.name) for p in [*self.loading[self.loading.index(path) :], path])
            raise DecisionTableError(
                f"{path}: models import each other in a cycle: {cycle}",
                path=str(path),
                decision=None,
                rule=None,
                cell=None,
                problem=f"models import each other in a cycle: {cycle}",
            )
        self.loading.append(path)
        try:
            model = parse_dmn(
                path, strict=self.strict, resolve=self.resolve, defer_refusals=self.defer_refusals
            )
        finally:
            self.loading.pop()
        self.models[path] = model
        return model


class Decisions:
    """Compiled decisions, ready to evaluate. Immutable, so one instance serves every thread.

    Build one with :func:`load_decisions` (files) or :meth:`from_xml` (text).
    """

    __slots__ = ("_inputs", "_provides", "_services", "_tables")

    def __init__(self, tables: list[Decision], services: Mapping[str, DecisionService] | None = None) -> None:
        by_id: dict[str, Decision] = {}
        for table in tables:
            if table.decision_id in by_id:
                first = by_id[table.decision_id]
                raise DecisionTableError(
                    f"{table.path}, decision {table.decision_id!r}: the id is already used by a decision in "
                    f"{first.path}",
                    path=table.path,
                    decision=table.decision_id,
                    rule=None,
                    cell=None,
                    problem=f"the id is already used by a decision in {first.path}",
                    other_path=first.path,
                )
            by_id[table.decision_id] = table
        self._tables: Mapping[str, Decision] = MappingProxyType(by_id)
        self._services: Mapping[str, DecisionService] = MappingProxyType(dict(services or {}))
        for table in tables:
            for required in table.requires:
                if required not in by_id:
                    raise DecisionTableError(
                        f"{table.path}, decision {table.decision_id!r}: requires decision {required!r}, "
                        "which is not loaded",
                        path=table.path,
                        decision=table.decision_id,
                        rule=None,
                        cell=None,
                        problem=f"requires decision {required!r}, which is not loaded",
                    )
        _check_acyclic(by_id)
        self._provides = {table.decision_id: _provided_names(table) for table in tables}
        self._check_provided(by_id)
        self._inputs: dict[str, frozenset[str]] = {}
        for decision_id in by_id:
            self._inputs[decision_id] = self._caller_inputs(decision_id)

    @classmethod
    def from_xml(cls, text: str, *, path: str = "<string>", strict: bool = True) -> Decisions:
        """Compile the decisions of one DMN document given as text (``path`` names it in errors)."""
        model: Model = parse_dmn_text(text, path, strict=strict)
        return cls(model.decisions, model.services)

    # --- the contract the engine codes against --------------------------------------------------------------

    @property
    def decision_ids(self) -> frozenset[str]:
        """The ids of every loaded decision."""
        return frozenset(self._tables)

    def __contains__(self, decision_id: object) -> bool:
        return decision_id in self._tables

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __repr__(self) -> str:
        return f"Decisions({sorted(self._tables)})"

    def inputs(self, decision_id: str) -> frozenset[str]:
        """The top-level data names the caller must supply to ``decide(decision_id, ...)``.

        For an input expression ``case.unit.type`` that is ``case``. Names that a required decision provides
        are left out; the required decisions' own inputs are included.

        Raises:
            DecisionError: no decision has this id.
        """
        self._table(decision_id)
        return self._inputs[decision_id]

    def outputs(self, decision_id: str) -> tuple[str, ...]:
        """The output names of a decision, in column order (the keys of each result dict).

        Raises:
            DecisionError: no decision has this id.
        """
        return self._table(decision_id).names

    def returns_list(self, decision_id: str) -> bool:
        """Whether ``decide`` returns a list (COLLECT without aggregator, RULE ORDER, OUTPUT ORDER).

        Raises:
            DecisionError: no decision has this id.
        """
        return self._table(decision_id).returns_list

    def decide(self, decision_id: str, data: Mapping[str, Any]) -> DecisionResult:
        """Evaluate a decision on ``data``, first evaluating the decisions it requires.

        ``data`` is only read. A required decision's result is offered to the requiring one under the required
        decision's id and name; when that result is a dict (a single-hit or aggregated table), each of its
        outputs is also offered under its own name. These values take precedence over same-named keys in
        ``data``.

        Returns:
            A new dict of outputs for UNIQUE, FIRST, PRIORITY, ANY and COLLECT with an aggregator (keyed by
            the output name); a new list of such dicts for COLLECT, RULE ORDER and OUTPUT ORDER. Values are
            JSON types: str, int, float, bool, None; date outputs are ISO ``YYYY-MM-DD`` strings.

        Raises:
            DecisionError: unknown decision id (``decision``), a missing input or one of the wrong kind
                (``input``), no rule matched without a default, UNIQUE matched several rules or ANY's matches
                disagree (``rules``).
        """
        table = self._table(decision_id)
        result: DecisionResult = table.shaped(self._evaluate(table, data, {}))
        return result

    def evaluate(self, decision_id: str, data: Mapping[str, Any]) -> Any:
        """Evaluate a decision and return its value as DMN 1.5 defines it.

        A table with one output gives that output's value (a list of values for multi-hit policies), one with
        several a dict per row; a literal expression its value. Numbers from FEEL expressions are ``Decimal``.
        ``data`` maps input data names to values. Raises as ``decide`` does.
        """
        table = self._table(decision_id)
        return table.standard(self._evaluate(table, data, {}))

    @property
    def service_ids(self) -> frozenset[str]:
        """The ids of the models' decision services."""
        return frozenset(self._services)

    def evaluate_service(self, service_id: str, data: Mapping[str, Any]) -> Any:
        """Invoke a decision service (DMN 1.5 6.3.4) with ``data`` by parameter name (its input decisions
        and input data) and return its value as DMN 1.5 defines it: the one output decision's value, or a
        context of the output decisions by name.

        Raises:
            DecisionError: no service has this id, or evaluating it raises (as ``evaluate`` does).
        """
        service = self._services.get(service_id)
        if service is None:
            known = ", ".join(sorted(self._services)) or "none loaded"
            raise DecisionError(
                f"no decision service {service_id!r} (known: {known})",
                decision=service_id,
                problem="unknown decision service",
            )
        try:
            return service.invoke(None, {key: to_feel(value) for key, value in data.items()})
        except FeelError as exc:
            raise DecisionError(
                f"decision service {service_id!r}: {exc.problem}", decision=service_id, problem=exc.problem
            ) from None

    def name_of(self, decision_id: str) -> str:
        """The decision's name (DMN's name for it in expressions; the id is what processes call).

        Raises:
            DecisionError: no decision has this id.
        """
        return self._table(decision_id).name

    # --- internals ------------------------------------------------------------------------------------------

    def _table(self, decision_id: str) -> Decision:
        try:
            return self._tables[decision_id]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._tables)) or "none loaded"
            raise DecisionError(
                f"no decision {decision_id!r} (known: {known})",
                decision=decision_id,
                problem="unknown decision",
            ) from None

    def _evaluate(self, table: Decision, data: Mapping[str, Any], done: dict[str, Any]) -> Any:
        return evaluate(table, data, self._tables, done)

    def _caller_inputs(self, decision_id: str) -> frozenset[str]:
        table = self._tables[decision_id]
        provided: set[str] = set()
        needed: set[str] = set()
        for required in table.requires:
            provided |= self._provides[required]
            needed |= self._caller_inputs(required)
        return frozenset(needed | (table.reads - provided))

    def _check_provided(self, by_id: Mapping[str, Decision]) -> None:
        # Two required decisions offering the same output name would make the requiring table's reading depend
        # on file order: refuse it.
        for table in by_id.values():
            seen: dict[str, str] = {}
            for required in table.requires:
                for name in self._provides[required]:
                    if name in seen and seen[name] != required:
                        raise DecisionTableError(
                            f"{table.path}, decision {table.decision_id!r}: required decisions "
                            f"{seen[name]!r} and {required!r} both provide {name!r}",
                            path=table.path,
                            decision=table.decision_id,
                            rule=None,
                            cell=None,
                            problem=(
                                f"required decisions {seen[name]!r} and {required!r} both provide {name!r}"
                            ),
                        )
                    seen[name] = required


def _provided_names(table: Decision) -> frozenset[str]:
    names = {table.decision_id, table.name}
    if not table.returns_list and all(table.names):
        names |= set(table.names)
    return frozenset(names)


def _check_acyclic(by_id: Mapping[str, Decision]) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: finished

    def visit(decision_id: str, trail: list[str]) -> None:
        if state.get(decision_id) == 2:
            return
        if state.get(decision_id) == 1:
            cycle = [*trail[trail.index(decision_id) :], decision_id]
            table = by_id[decision_id]
            raise DecisionTableError(
                f"{table.path}, decision {decision_id!r}: decisions require each other in a cycle: "
                + " → ".join(cycle),
                path=table.path,
                decision=decision_id,
                rule=None,
                cell=None,
                problem="decisions require each other in a cycle: " + " → ".join(cycle),
                cycle=cycle,
            )
        state[decision_id] = 1
        for required in by_id[decision_id].requires:
            visit(required, [*trail, decision_id])
        state[decision_id] = 2

    for decision_id in by_id:
        visit(decision_id, [])
