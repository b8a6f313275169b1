"""Reading DMN 1.1–1.5 XML (as dmn-js and Camunda Modeler save it) into compiled tables.

Every cell is compiled here, once. A table that cannot be evaluated correctly raises ``DecisionTableError``
naming the file, the decision, the rule and the cell; nothing is half-loaded. Diagram data (DMNDI), input data
and knowledge sources are drawing and documentation, and are skipped.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Final, NoReturn

from efficacy_flow._parsing import parse_xml, read_file
from efficacy_flow.errors import DecisionTableError
from efficacy_flow.policy._expr import FeelFunction, compile_expression
from efficacy_flow.policy._feel import (
    BOOLEAN,
    DATE,
    NULL,
    NUMBER,
    STRING,
    FeelSyntaxError,
    compile_unary_tests,
    parse_literal,
    parse_literal_list,
)
from efficacy_flow.policy._literal import ExpressionDecision
from efficacy_flow.policy._table import Aggregation, HitPolicy, InputColumn, OutputColumn, Rule, Table

#: What the loader compiles a ``decision`` element into.
Decision = Table | ExpressionDecision

__all__ = ["parse_dmn"]

#: The model namespaces of DMN 1.1 to 1.5 (dmn-js 8+ and Camunda Modeler 4+ write 1.3's).
DMN_NAMESPACES: Final = frozenset(
    {
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",  # 1.1
        "http://www.omg.org/spec/DMN/20180521/MODEL/",  # 1.2
        "https://www.omg.org/spec/DMN/20191111/MODEL/",  # 1.3
        "https://www.omg.org/spec/DMN/20211108/MODEL/",  # 1.4
        "https://www.omg.org/spec/DMN/20230324/MODEL/",  # 1.5
    }
)

# typeRef spellings (DMN's, and Camunda 7's Java-flavoured ones) → the kind a cell holds.
_TYPE_KINDS: Final = {
    "string": STRING,
    "number": NUMBER,
    "integer": NUMBER,
    "long": NUMBER,
    "double": NUMBER,
    "boolean": BOOLEAN,
    "date": DATE,
}
_NAME_PATH: Final = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
_RESERVED: Final = frozenset(
    {"true", "false", "null", "not", "and", "or", "date", "if", "then", "else", "for"}
)
#: An lxml element (lxml ships no type information this project checks against).
Element = Any
#: The fields of a DecisionTableError about the file as a whole.
_NO_PLACE: Final = {"decision": None, "rule": None, "cell": None}


def parse_dmn(path: Path, *, strict: bool = True) -> list[Decision]:
    """Compile every decision of one DMN file, in file order.

    Raises:
        DecisionTableError: the file is unreadable, not DMN, refused by the hardened parser (a DOCTYPE, an
            entity, an XInclude, bytes that are not in the declared encoding, over 10 MB), or holds a decision
            that cannot be evaluated correctly.
    """
    return parse_dmn_text(read_file(path, DecisionTableError, fields=_NO_PLACE), str(path), strict=strict)


def parse_dmn_text(text: str | bytes, source: str, *, strict: bool = True) -> list[Decision]:
    """Compile every decision of a DMN document given as text or bytes (``source`` names it in errors).

    ``strict`` (the default) raises a typed error where DMN 1.5 gives null: no rule matched, UNIQUE matched
    several, an input of the wrong kind, a FEEL error such as ``1 / 0``. ``strict=False`` follows DMN 1.5.
    """
    # parse_xml refuses DTDs, entities and XInclude: how XML bombs and external fetches get in.
    root = parse_xml(text, source, DecisionTableError, fields=_NO_PLACE)
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "definitions" or namespace not in DMN_NAMESPACES:
        _fail(source, None, f"not a DMN 1.1–1.5 <definitions> document (root is {root.tag!r})")
    reader = _Reader(source, namespace, strict)
    _check_language(root, source, None, None, None)
    reader.declare(root)
    return [reader.decision(element) for element in root.findall(reader.tag("decision"))]


def _fail(
    path: str,
    decision: str | None,
    problem: str,
    rule: str | None = None,
    cell: str | None = None,
    **extra: Any,
) -> NoReturn:
    where = [path]
    if decision is not None:
        where.append(f"decision {decision!r}")
    if extra.get("where"):
        where.append(extra.pop("where"))
    raise DecisionTableError(
        ": ".join([", ".join(where), problem]),
        path=path,
        decision=decision,
        rule=rule,
        cell=cell,
        problem=problem,
    )


def _check_language(
    element: Element, path: str, decision: str | None, rule: str | None, cell: str | None
) -> None:
    language = element.get("expressionLanguage") or element.get("typeLanguage")
    if language and "feel" not in language.lower():
        _fail(path, decision, f"expression language {language!r} is not supported (only FEEL)", rule, cell)


class _Reader:
    """Compiles the decisions of one document; knows its path and namespace for error messages."""

    def __init__(self, path: str, namespace: str, strict: bool) -> None:
        self.path = path
        self.namespace = namespace
        self.strict = strict
        #: every name the model declares (input data, decisions, knowledge models): names with spaces
        self.names: set[str] = set()
        #: business knowledge models by id: (name, function)
        self.models: dict[str, tuple[str, FeelFunction]] = {}

    def declare(self, root: Element) -> None:
        """Collect the model's names and compile its business knowledge models."""
        for local in ("inputData", "decision", "businessKnowledgeModel"):
            for element in root.findall(self.tag(local)):
                if element.get("name"):
                    self.names.add(element.get("name").strip())
        for element in root.findall(self.tag("businessKnowledgeModel")):
            self.models[element.get("id") or ""] = self.knowledge_model(element)

    def knowledge_model(self, element: Element) -> tuple[str, FeelFunction]:
        model_id = element.get("id") or ""
        name = (element.get("name") or "").strip()
        where = f"business knowledge model {name or model_id!r}"
        if element.find(self.tag("knowledgeRequirement")) is not None:
            _fail(self.path, None, f"{where} requires other knowledge models, which is not supported yet")
        logic = element.find(self.tag("encapsulatedLogic"))
        body = logic.find(self.tag("literalExpression")) if logic is not None else None
        if (
            logic is None
            or body is None
            or len([c for c in logic if isinstance(c.tag, str)])
            != sum(
                1
                for c in logic
                if isinstance(c.tag, str) and c.tag in (self.tag("formalParameter"), body.tag)
            )
        ):
            _fail(self.path, None, f"{where}: only a literal expression as its logic is supported")
        _check_language(body, self.path, None, None, model_id)
        parameters = tuple(
            (parameter.get("name") or "").strip() for parameter in logic.findall(self.tag("formalParameter"))
        )
        try:
            compiled = compile_expression(
                self.text(body), names=[*self.names, *parameters], strict=self.strict
            )
        except FeelSyntaxError as exc:
            _fail(self.path, None, f"{where}: {exc.problem}", cell=model_id)
        unknown = compiled.reads - set(parameters)
        if unknown:
            _fail(self.path, None, f"{where} reads {sorted(unknown)}, which are not its parameters")
        return name, FeelFunction(name, parameters, compiled.evaluate)

    def tag(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"

    def text(self, element: Element | None) -> str:
        if element is None:
            return ""
        child = element.find(self.tag("text"))
        return (child.text or "") if child is not None else ""

    def decision(self, element: Element) -> Decision:
        decision_id = element.get("id") or ""
        if not decision_id:
            _fail(self.path, None, f"a decision named {element.get('name')!r} has no id")
        table = element.find(self.tag("decisionTable"))
        literal = element.find(self.tag("literalExpression"))
        if table is None and literal is None:
            kinds = [child.tag.partition("}")[2] for child in element if isinstance(child.tag, str)]
            logic = [
                k for k in kinds if k in ("literalExpression", "context", "invocation", "relation", "list")
            ]
            what = f"a {logic[0]}" if logic else "no decision logic"
            _fail(self.path, decision_id, f"has {what}; only decision tables are supported")
        requires = []
        for requirement in element.findall(
            f"{self.tag('informationRequirement')}/{self.tag('requiredDecision')}"
        ):
            href = requirement.get("href") or ""
            if not href.startswith("#") or len(href) < 2:
                _fail(
                    self.path, decision_id, f"requiredDecision href {href!r} is not a local '#id' reference"
                )
            requires.append(href[1:])
        name = element.get("name") or decision_id
        if table is None:
            return self.literal(decision_id, name, element, literal, tuple(requires))
        return self.table(decision_id, name, table, tuple(requires))

    def literal(
        self, decision_id: str, name: str, element: Element, literal: Element, requires: tuple[str, ...]
    ) -> ExpressionDecision:
        _check_language(literal, self.path, decision_id, None, literal.get("id"))
        functions: dict[str, FeelFunction] = {}
        for requirement in element.findall(
            f"{self.tag('knowledgeRequirement')}/{self.tag('requiredKnowledge')}"
        ):
            href = requirement.get("href") or ""
            if not href.startswith("#") or href[1:] not in self.models:
                _fail(
                    self.path, decision_id, f"requiredKnowledge href {href!r} names no knowledge model here"
                )
            model_name, function = self.models[href[1:]]
            functions[model_name] = function
        text = self.text(literal)
        try:
            compiled = compile_expression(text, names=self.names, functions=functions, strict=self.strict)
        except FeelSyntaxError as exc:
            _fail(
                self.path,
                decision_id,
                f"cannot read {text.strip()!r}: {exc.problem}",
                cell=literal.get("id"),
                where="literal expression",
            )
        return ExpressionDecision(decision_id, name, self.path, compiled, requires)

    def table(self, decision_id: str, name: str, element: Element, requires: tuple[str, ...]) -> Table:
        _check_language(element, self.path, decision_id, None, None)
        policy_text = (element.get("hitPolicy") or "UNIQUE").strip().upper()
        try:
            policy = HitPolicy(policy_text)
        except ValueError:
            _fail(self.path, decision_id, f"unknown hit policy {policy_text!r}")
        aggregation: Aggregation | None = None
        if element.get("aggregation"):
            aggregation_text = element.get("aggregation", "").strip().upper()
            if policy is not HitPolicy.COLLECT:
                _fail(
                    self.path,
                    decision_id,
                    f"aggregation {aggregation_text} needs hit policy COLLECT, not {policy}",
                )
            try:
                aggregation = Aggregation(aggregation_text)
            except ValueError:
                _fail(self.path, decision_id, f"unknown aggregation {aggregation_text!r}")

        input_elements = element.findall(self.tag("input"))
        output_elements = element.findall(self.tag("output"))
        if not output_elements:
            _fail(self.path, decision_id, "the table has no output column")
        outputs_raw = [
            self.output(decision_id, number, out, single=len(output_elements) == 1)
            for number, out in enumerate(output_elements, 1)
        ]
        rows = element.findall(self.tag("rule"))
        cells = [
            self.rule_cells(decision_id, number, rule, input_elements, output_elements)
            for number, rule in enumerate(rows, 1)
        ]
        inputs = tuple(
            self.input(decision_id, number, inp, cells) for number, inp in enumerate(input_elements, 1)
        )
        outputs = tuple(outputs_raw)
        rules = tuple(self.rule(decision_id, row, outputs, output_elements) for row in cells)
        if aggregation is not None:
            self.check_aggregation(decision_id, aggregation, outputs, rules)
        if policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER) and all(
            o.priorities is None for o in outputs
        ):
            _fail(
                self.path,
                decision_id,
                f"{policy} needs the allowed output values (outputValues) in priority order",
            )
        return Table(
            decision_id,
            name,
            self.path,
            policy,
            aggregation,
            inputs,
            outputs,
            rules,
            requires,
            strict=self.strict,
        )

    # --- columns --------------------------------------------------------------------------------------------

    def input(self, decision_id: str, number: int, element: Element, cells: list[_Cells]) -> InputColumn:
        expression_element = element.find(self.tag("inputExpression"))
        cell = element.get("id") or f"input {number}"
        expression = self.text(expression_element).strip()
        label = element.get("label") or expression
        where = f"input {number} ({label!r})"
        if expression_element is not None:
            _check_language(expression_element, self.path, decision_id, None, cell)
        if not _NAME_PATH.fullmatch(expression) or _RESERVED & set(expression.split(".")):
            _fail(
                self.path,
                decision_id,
                f"input expression {expression!r} must be a name or a dotted path like case.unit.type",
                cell=cell,
                where=where,
            )
        type_ref = expression_element.get("typeRef") if expression_element is not None else None
        declared = self.kind(decision_id, type_ref, cell, where)
        kinds: set[str] = set()
        for row in cells:
            tests = row.tests[number - 1]
            kinds |= tests.kinds - {NULL}
            allowed = {declared} if declared else kinds
            if declared and (tests.kinds - {NULL, declared}):
                _fail(
                    self.path,
                    decision_id,
                    f"cell {tests.text!r} compares with a {sorted(tests.kinds - {NULL})[0]}, "
                    f"but the column is typed {type_ref}",
                    rule=row.rule_id,
                    cell=row.input_ids[number - 1],
                    where=f"rule {row.number}, {where}",
                )
            if len(allowed) > 1:
                _fail(
                    self.path,
                    decision_id,
                    f"cells mix {' and '.join(sorted(kinds))}; a column holds one kind (give it a typeRef)",
                    rule=row.rule_id,
                    cell=row.input_ids[number - 1],
                    where=f"rule {row.number}, {where}",
                )
        kind = declared or (next(iter(kinds)) if len(kinds) == 1 else None)
        allowed_text = self.text(element.find(self.tag("inputValues"))).strip()
        allowed_values = None
        if allowed_text:
            try:
                allowed_values = compile_unary_tests(allowed_text)
            except FeelSyntaxError as exc:
                _fail(
                    self.path,
                    decision_id,
                    f"inputValues {allowed_text!r}: {exc.problem}",
                    cell=cell,
                    where=where,
                )
            if declared and (allowed_values.kinds - {NULL, declared}):
                _fail(
                    self.path,
                    decision_id,
                    f"inputValues {allowed_text!r} do not fit type {type_ref}",
                    cell=cell,
                    where=where,
                )
            kind = kind or next(iter(allowed_values.kinds - {NULL}), None)
        return InputColumn(
            label,
            expression,
            tuple(expression.split(".")),
            declared,
            kind == DATE,
            allowed_values.test if allowed_values is not None else None,
            allowed_text,
        )

    def output(self, decision_id: str, number: int, element: Element, *, single: bool) -> OutputColumn:
        name = (element.get("name") or "").strip()
        cell = element.get("id") or f"output {number}"
        where = f"output {number} ({element.get('label') or name!r})"
        if not name and not single:
            # One unnamed output is the decision's value itself (DMN); several need names to key them.
            _fail(
                self.path,
                decision_id,
                "a table with several outputs needs a name on each (the key of its value)",
                cell=cell,
                where=where,
            )
        declared = self.kind(decision_id, element.get("typeRef"), cell, where)
        priorities: dict[Any, int] | None = None
        values_element = element.find(self.tag("outputValues"))
        values_text = self.text(values_element).strip()
        if values_text:
            try:
                values = parse_literal_list(values_text)
            except FeelSyntaxError as exc:
                _fail(
                    self.path,
                    decision_id,
                    f"outputValues {values_text!r}: {exc.problem}",
                    cell=cell,
                    where=where,
                )
            priorities = {}
            for value in values:
                priorities.setdefault(_json_value(value), len(priorities))
        default_element = element.find(self.tag("defaultOutputEntry"))
        if default_element is None:
            return OutputColumn(name, priorities)
        default_text = self.text(default_element)
        try:
            kind, value = parse_literal(default_text)
        except FeelSyntaxError as exc:
            _fail(
                self.path,
                decision_id,
                f"default output {default_text!r}: {exc.problem}",
                cell=cell,
                where=where,
            )
        if declared and kind not in (NULL, declared):
            _fail(
                self.path,
                decision_id,
                f"default output {default_text!r} is not a {declared}",
                cell=cell,
                where=where,
            )
        return OutputColumn(name, priorities, _json_value(value), has_default=True)

    def kind(self, decision_id: str, type_ref: str | None, cell: str, where: str) -> str | None:
        if not type_ref:
            return None
        bare = type_ref.rpartition(":")[2].strip()
        if bare not in _TYPE_KINDS:
            supported = ", ".join(sorted(_TYPE_KINDS))
            _fail(
                self.path,
                decision_id,
                f"type {type_ref!r} is not supported ({supported})",
                cell=cell,
                where=where,
            )
        return _TYPE_KINDS[bare]

    # --- rows -----------------------------------------------------------------------------------------------

    def rule_cells(
        self,
        decision_id: str,
        number: int,
        element: Element,
        inputs: list[Element],
        outputs: list[Element],
    ) -> _Cells:
        rule_id = element.get("id") or f"rule {number}"
        input_entries = element.findall(self.tag("inputEntry"))
        output_entries = element.findall(self.tag("outputEntry"))
        if len(input_entries) != len(inputs) or len(output_entries) != len(outputs):
            _fail(
                self.path,
                decision_id,
                f"has {len(input_entries)} input and {len(output_entries)} output cells "
                f"for {len(inputs)} input and {len(outputs)} output columns",
                rule=rule_id,
                where=f"rule {number}",
            )
        tests = []
        input_ids = []
        for column, entry in enumerate(input_entries, 1):
            cell = entry.get("id") or f"input {column}"
            _check_language(entry, self.path, decision_id, rule_id, cell)
            text = self.text(entry)
            try:
                tests.append(compile_unary_tests(text))
            except FeelSyntaxError as exc:
                label = inputs[column - 1].get("label") or f"input {column}"
                _fail(
                    self.path,
                    decision_id,
                    f"cannot read {text.strip()!r}: {exc.problem}",
                    rule=rule_id,
                    cell=cell,
                    where=f"rule {number}, input {column} ({label!r})",
                )
            input_ids.append(cell)
        values = []
        output_ids = []
        for column, entry in enumerate(output_entries, 1):
            cell = entry.get("id") or f"output {column}"
            _check_language(entry, self.path, decision_id, rule_id, cell)
            text = self.text(entry)
            try:
                values.append(parse_literal(text))
            except FeelSyntaxError as exc:
                label = (
                    outputs[column - 1].get("label") or outputs[column - 1].get("name") or f"output {column}"
                )
                _fail(
                    self.path,
                    decision_id,
                    f"output {text.strip()!r} is not a literal: {exc.problem}",
                    rule=rule_id,
                    cell=cell,
                    where=f"rule {number}, output {column} ({label!r})",
                )
            output_ids.append(cell)
        return _Cells(number, rule_id, tuple(tests), tuple(input_ids), tuple(values), tuple(output_ids))

    def rule(
        self,
        decision_id: str,
        row: _Cells,
        outputs: tuple[OutputColumn, ...],
        output_elements: list[Element],
    ) -> Rule:
        tests = tuple((index, cell.test) for index, cell in enumerate(row.tests) if cell.test is not None)
        values = []
        rank = []
        for index, (kind, value) in enumerate(row.outputs):
            column = outputs[index]
            declared = self.kind(decision_id, output_elements[index].get("typeRef"), column.name, column.name)
            json_value = _json_value(value)
            where = f"rule {row.number}, output {index + 1} ({column.name!r})"
            if declared and kind not in (NULL, declared):
                _fail(
                    self.path,
                    decision_id,
                    f"{json_value!r} is not a {declared}",
                    rule=row.rule_id,
                    cell=row.output_ids[index],
                    where=where,
                )
            if column.priorities is not None:
                if json_value not in column.priorities:
                    _fail(
                        self.path,
                        decision_id,
                        f"{json_value!r} is not among the output values {list(column.priorities)}",
                        rule=row.rule_id,
                        cell=row.output_ids[index],
                        where=where,
                    )
                rank.append(column.priorities[json_value])
            values.append(json_value)
        return Rule(row.number, row.rule_id, tests, tuple(values), tuple(rank))

    def check_aggregation(
        self,
        decision_id: str,
        aggregation: Aggregation,
        outputs: tuple[OutputColumn, ...],
        rules: tuple[Rule, ...],
    ) -> None:
        if len(outputs) != 1:
            _fail(
                self.path,
                decision_id,
                f"COLLECT {aggregation} needs exactly one output column, not {len(outputs)}",
            )
        if aggregation is Aggregation.COUNT:
            return
        kinds = set()
        for rule in rules:
            value = rule.outputs[0]
            kind = (
                NUMBER
                if isinstance(value, int | float) and not isinstance(value, bool)
                else type(value).__name__
            )
            if aggregation is Aggregation.SUM and kind != NUMBER:
                _fail(
                    self.path,
                    decision_id,
                    f"COLLECT SUM adds numbers, but this row outputs {value!r}",
                    rule=rule.rule_id,
                    where=f"rule {rule.number}",
                )
            if value is None or isinstance(value, bool):
                _fail(
                    self.path,
                    decision_id,
                    f"COLLECT {aggregation} compares values, but this row outputs {value!r}",
                    rule=rule.rule_id,
                    where=f"rule {rule.number}",
                )
            kinds.add(kind)
        if len(kinds) > 1:
            _fail(
                self.path,
                decision_id,
                f"COLLECT {aggregation} needs outputs of one kind, not {sorted(kinds)}",
            )


class _Cells:
    """A row's cells after compiling, before the columns are known (the column checks need every row)."""

    __slots__ = ("input_ids", "number", "output_ids", "outputs", "rule_id", "tests")

    def __init__(
        self,
        number: int,
        rule_id: str,
        tests: tuple[Any, ...],
        input_ids: tuple[str, ...],
        outputs: tuple[tuple[str, Any], ...],
        output_ids: tuple[str, ...],
    ) -> None:
        self.number = number
        self.rule_id = rule_id
        self.tests = tests
        self.input_ids = input_ids
        self.outputs = outputs
        self.output_ids = output_ids


def _json_value(value: Any) -> Any:
    # Outputs land in process data, which is JSON: a date literal becomes its ISO string.
    if isinstance(value, date):
        return value.isoformat()
    return value
