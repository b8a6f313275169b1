"""Reading DMN 1.1–1.5 XML (as dmn-js, Camunda Modeler and the DMN TCK's tools save it) into the compiled
decision requirements graph: decisions (tables, boxed expressions, none), business knowledge models and
decision services as functions, input data with their types, item definitions as FEEL types, imports.

Every cell and expression is compiled here, once. A decision that cannot be evaluated correctly raises
``DecisionTableError`` naming the file, the decision, the rule and the cell; nothing is half-loaded (unless
refusals are deferred: ``parse_dmn_text(defer_refusals=True)``). Diagram data (DMNDI), knowledge sources and
authority requirements are drawing and documentation, and are skipped.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final, NoReturn

from efficacy_flow._parsing import parse_xml, read_file
from efficacy_flow.errors import DecisionTableError, EfficacyFlowError
from efficacy_flow.policy._boxed import (
    Boxed,
    BoxedRefusal,
    Environment,
    compile_boxed,
    expression_children,
    feel_expression,
    feel_unary_tests,
    formal_parameters,
    local_name,
    typed,
    with_parameter_types,
)
from efficacy_flow.policy._drg import DecisionService, DrgDecision, ImportedRequirement, imported_scope
from efficacy_flow.policy._expr import Compiled
from efficacy_flow.policy._feel import (
    BOOLEAN,
    DATE,
    NULL,
    NUMBER,
    STRING,
    FeelSyntaxError,
    InputTypeMismatch,
    UnaryTests,
    compile_unary_tests,
    parse_literal,
    parse_literal_list,
)
from efficacy_flow.policy._feel_types import FeelType, item_definition, parse_type, type_ref_type
from efficacy_flow.policy._feel_values import FeelError, FeelFunction, LambdaFunction, to_feel
from efficacy_flow.policy._literal import ExpressionDecision, json_value
from efficacy_flow.policy._table import (
    Aggregation,
    HitPolicy,
    InputColumn,
    OutputColumn,
    Rule,
    ScopedTest,
    ScopedValue,
    Table,
)

#: What the loader compiles a ``decision`` element into.
Decision = DrgDecision

__all__ = ["Decision", "Model", "parse_dmn", "parse_dmn_text"]

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


def parse_dmn(
    path: Path, *, strict: bool = True, resolve: Resolve | None = None, defer_refusals: bool = False
) -> Model:
    """Compile every decision (and decision service) of one DMN file, in file order.

    Raises:
        DecisionTableError: the file is unreadable, not DMN, refused by the hardened parser (a DOCTYPE, an
            entity, an XInclude, bytes that are not in the declared encoding, over 10 MB), or holds a decision
            that cannot be evaluated correctly.
    """
    text = read_file(path, DecisionTableError, fields=_NO_PLACE)
    return parse_dmn_text(text, str(path), strict=strict, resolve=resolve, defer_refusals=defer_refusals)


@dataclass(frozen=True, slots=True)
class Model:
    """A compiled DMN document: its decisions in file order and its decision services by id; and what a
    model that imports it sees (DMN 1.5 6.3.1, 12.3.2): its namespace, decisions by id, knowledge models and
    services by id, input data by id, item definitions and names."""

    decisions: list[DrgDecision]
    services: dict[str, DecisionService] = field(default_factory=dict)
    namespace: str = ""
    graph: dict[str, DrgDecision] = field(default_factory=dict)
    functions: dict[str, tuple[str, FeelFunction]] = field(default_factory=dict)
    input_data: dict[str, tuple[str, FeelType | None]] = field(default_factory=dict)
    types: dict[str, FeelType] = field(default_factory=dict)
    names: frozenset[str] = frozenset()


#: Finds the compiled model of a namespace (the models of the same folder), or None.
Resolve = Callable[[str], "Model | None"]


def parse_dmn_text(
    text: str | bytes,
    source: str,
    *,
    strict: bool = True,
    resolve: Resolve | None = None,
    defer_refusals: bool = False,
) -> Model:
    """Compile every decision of a DMN document given as text or bytes (``source`` names it in errors);
    ``resolve`` finds the models it imports by namespace. ``defer_refusals`` keeps a decision or knowledge
    model that cannot be compiled as one that raises its ``DecisionTableError`` when evaluated (invoked), so
    the model's other decisions still load.

    ``strict`` (the default) raises a typed error where DMN 1.5 gives null: no rule matched, UNIQUE matched
    several, an input of the wrong kind, a FEEL error such as ``1 / 0``. ``strict=False`` follows DMN 1.5.
    """
    # parse_xml refuses DTDs, entities and XInclude: how XML bombs and external fetches get in.
    root = parse_xml(text, source, DecisionTableError, fields=_NO_PLACE)
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "definitions" or namespace not in DMN_NAMESPACES:
        _fail(source, None, f"not a DMN 1.1–1.5 <definitions> document (root is {root.tag!r})")
    reader = _Reader(source, namespace, strict, root.get("namespace") or "", resolve, defer_refusals)
    _check_language(root, source, None, None, None)
    reader.declare(root)
    decisions = [reader.decision_or_refusal(element) for element in root.findall(reader.tag("decision"))]
    graph = {decision.decision_id: decision for decision in decisions}
    for service in reader.services.values():
        service.graph.update(graph)
    return Model(
        decisions,
        dict(reader.services),
        reader.model_namespace,
        graph,
        dict(reader.models),
        dict(reader.input_data),
        {name: type_ for name, type_ in reader.types.items() if name not in reader.imported_types},
        frozenset(reader.own_names),
    )


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

    def __init__(
        self,
        path: str,
        namespace: str,
        strict: bool,
        model_namespace: str = "",
        resolve: Resolve | None = None,
        defer_refusals: bool = False,
    ) -> None:
        self.path = path
        self.defer_refusals = defer_refusals
        self.resolve = resolve
        #: imported models by namespace: (import name, model)
        self.imports: dict[str, tuple[str, Model]] = {}
        self.imported_types: set[str] = set()
        self.own_names: set[str] = set()
        self.namespace = namespace
        self.model_namespace = model_namespace
        self.strict = strict
        #: every name the model declares (input data, decisions, knowledge models, services)
        self.names: set[str] = set()
        #: the model's item definitions by name
        self.types: dict[str, FeelType] = {}
        #: input data by id: (name, type or None)
        self.input_data: dict[str, tuple[str, FeelType | None]] = {}
        #: decisions by id: (name, type of its variable or None)
        self.decision_names: dict[str, tuple[str, FeelType | None]] = {}
        #: business knowledge models and decision services by id: (name, function)
        self.models: dict[str, tuple[str, FeelFunction]] = {}
        self.services: dict[str, DecisionService] = {}

    # --- the model's elements -------------------------------------------------------------------------------

    def declare(self, root: Element) -> None:
        """Collect the model's item definitions and names, and compile its business knowledge models and
        decision services (as functions the decisions call)."""
        for element in root.findall(self.tag("import")):
            self.read_import(element)
        self.read_item_definitions(root)
        for local in ("inputData", "decision", "businessKnowledgeModel", "decisionService"):
            for element in root.findall(self.tag(local)):
                if element.get("name"):
                    self.names.add(element.get("name").strip())
                    self.own_names.add(element.get("name").strip())
        for element in root.findall(self.tag("inputData")):
            name = (element.get("name") or "").strip()
            self.input_data[element.get("id") or name] = (
                name,
                self.variable_type(element, f"input data {name!r}"),
            )
        for element in root.findall(self.tag("decision")):
            name = (element.get("name") or "").strip()
            self.decision_names[element.get("id") or name] = (
                name,
                self.variable_type(element, f"decision {name!r}"),
            )
        bodies: dict[str, Callable[[Mapping[str, Any]], Any]] = {}
        shells = []
        for element in root.findall(self.tag("businessKnowledgeModel")):
            model_id = element.get("id") or (element.get("name") or "").strip()
            name = (element.get("name") or "").strip()
            logic = element.find(self.tag("encapsulatedLogic"))
            parameters = tuple(
                (parameter.get("name") or "").strip()
                for parameter in (logic.findall(self.tag("formalParameter")) if logic is not None else [])
            )

            def late(scope: Mapping[str, Any], key: str = model_id) -> Any:
                return bodies[key](scope)

            self.models[model_id] = (name, LambdaFunction(name, parameters, late))
            shells.append((model_id, name, element, logic))
        for element in root.findall(self.tag("decisionService")):
            self.models[element.get("id") or ""] = self.service(element)
        for model_id, name, element, logic in shells:
            try:
                bodies[model_id] = self.knowledge_model(model_id, name, element, logic)
            except EfficacyFlowError as exc:
                refusal = exc if isinstance(exc, DecisionTableError) else _refusal(self.path, None, exc)
                if not self.defer_refusals:
                    raise refusal from None
                bodies[model_id] = _refused(refusal)

    def read_import(self, element: Element) -> None:
        """An import of another DMN model (DMN 1.5 6.3.1): found by namespace among the models of the same
        folder; its item definitions and names are seen qualified by the import's name."""
        namespace = (element.get("namespace") or "").strip()
        name = (element.get("name") or "").strip()
        import_type = (element.get("importType") or "").strip()
        if import_type not in DMN_NAMESPACES:
            _fail(
                self.path,
                None,
                f"import of {import_type or 'an unnamed type'!r}: only DMN models are imported",
            )
        model = self.resolve(namespace) if self.resolve is not None else None
        if model is None:
            _fail(
                self.path,
                None,
                f"imports {namespace!r}, which no DMN file of the same folder defines "
                "(imports are resolved when loading files)",
            )
        if not name:
            _fail(
                self.path,
                None,
                f"the import of {namespace!r} has no name (unnamed imports are not supported)",
            )
        self.imports[namespace] = (name, model)
        for type_name, type_ in model.types.items():
            self.types[f"{name}.{type_name}"] = type_
            self.imported_types.add(f"{name}.{type_name}")
        self.names |= {name, *model.names}

    def imported(self, href: str | None) -> tuple[str, Model, str] | None:
        """(import name, model, id) when ``href`` names an element of an imported model (``namespace#id``)."""
        target, _, element_id = (href or "").partition("#")
        if not target or target not in self.imports or not element_id:
            return None
        name, model = self.imports[target]
        return name, model, element_id

    def read_item_definitions(self, root: Element) -> None:
        """The item definitions (DMN 1.5 7.3.2) as FEEL types, by name (one may name another declared
        later)."""
        elements = {
            (element.get("name") or "").strip(): element
            for element in root.findall(self.tag("itemDefinition"))
        }
        resolving: set[str] = set()

        def resolve(name: str) -> FeelType:
            if name in self.types:
                return self.types[name]
            if name in resolving:
                _fail(self.path, None, f"item definition {name!r} is defined in terms of itself")
            resolving.add(name)
            self.types[name] = self.item_definition(elements[name], lookup)
            return self.types[name]

        class _Lookup(dict[str, FeelType]):
            def __missing__(self, key: str) -> FeelType:
                return resolve(key)

            def __contains__(self, key: object) -> bool:
                return key in elements or key in self.keys()

        lookup = _Lookup()
        for name in elements:
            resolve(name)

    def item_definition(self, element: Element, named: Mapping[str, FeelType]) -> FeelType:
        name = (element.get("name") or "").strip()
        where = f"item definition {name!r}"
        language = element.get("typeLanguage")
        if language and "feel" not in language.lower():
            _fail(self.path, None, f"{where}: type language {language!r} is not supported")
        components = element.findall(self.tag("itemComponent"))
        type_ref = element.find(self.tag("typeRef"))
        function_item = element.find(self.tag("functionItem"))
        if components:
            base = FeelType(
                "context",
                fields=tuple(
                    ((component.get("name") or "").strip(), self.item_definition(component, named))
                    for component in components
                ),
            )
        elif type_ref is not None and (type_ref.text or "").strip():
            try:
                base = parse_type(type_ref.text or "", named)
            except FeelError as exc:
                _fail(self.path, None, f"{where}: {exc.problem}")
        elif function_item is not None:
            base = self.function_item(function_item, named, where)
        else:
            base = FeelType("Any")
        allowed = self.constraint(element.find(self.tag("allowedValues")), where)
        constraint = self.constraint(element.find(self.tag("typeConstraint")), where)
        return item_definition(
            name,
            base,
            collection=(element.get("isCollection") or "").strip() == "true",
            allowed=allowed,
            constraint=constraint,
        )

    def function_item(self, element: Element, named: Mapping[str, FeelType], where: str) -> FeelType:
        """A ``functionItem`` (DMN 1.5 7.3.5): ``function<parameter types>->output type``; a bare function
        type when it declares no output type."""
        output = (element.get("outputTypeRef") or "").strip()
        if not output:
            return FeelType("function")
        try:
            types = [
                parse_type(parameter.get("typeRef") or "Any", named)
                for parameter in element.findall(self.tag("parameters"))
            ]
            return FeelType("function", (*types, parse_type(output, named)))
        except FeelError as exc:
            _fail(self.path, None, f"{where}: {exc.problem}")

    def constraint(self, element: Element | None, where: str) -> Callable[[Any], bool | None] | None:
        """allowedValues or typeConstraint (unary tests) as a predicate on a value."""
        text = self.text(element).strip()
        if not text:
            return None
        try:
            fast = compile_unary_tests(text)
        except FeelSyntaxError:
            fast = None
        if fast is not None and fast.test is not None:
            test = fast.test

            def allowed(value: Any) -> bool | None:
                try:
                    return test(json_value(value))
                except InputTypeMismatch:
                    return False

            return allowed
        if fast is not None:
            return None  # "-": anything is allowed
        try:
            compiled = feel_unary_tests(text, self.environment({}))
        except FeelSyntaxError as exc:
            _fail(self.path, None, f"{where}: allowed values {text!r}: {exc.problem}")
        full = compiled.test
        return lambda value: full(value, {"?": value})

    def variable_type(self, element: Element, where: str) -> FeelType | None:
        variable = element.find(self.tag("variable"))
        type_ref = variable.get("typeRef") if variable is not None else None
        return self.type_of(type_ref, where)

    def type_of(self, type_ref: str | None, where: str) -> FeelType | None:
        try:
            return type_ref_type(type_ref, self.types)
        except FeelError as exc:
            _fail(self.path, None, f"{where}: {exc.problem}")

    def local_id(self, href: str | None) -> str | None:
        """The id an ``href`` names in this model (``#id`` or ``namespace#id`` of this model), else None."""
        target, _, element_id = (href or "").partition("#")
        if not element_id or (target and target != self.model_namespace):
            return None
        return element_id

    def environment(
        self, functions: Mapping[str, FeelFunction], names: Iterable[str] = (), owner: str = ""
    ) -> Environment:
        """Where an expression of ``owner`` (a decision's id, a knowledge model's name) compiles."""
        return Environment(
            namespace=self.namespace,
            names=frozenset(self.names) | frozenset(names),
            functions=functions,
            types=self.types,
            strict=self.strict,
            table=self.embedded_table,
            owner=owner,
        )

    def knowledge(
        self, element: Element, decision: str | None, where: str, imported: list[ImportedRequirement]
    ) -> dict[str, FeelFunction]:
        """The functions an element's knowledgeRequirements name (knowledge models, decision services); those
        of imported models are added to ``imported`` (seen as ``import name.function name``)."""
        functions: dict[str, FeelFunction] = {}
        for requirement in element.findall(
            f"{self.tag('knowledgeRequirement')}/{self.tag('requiredKnowledge')}"
        ):
            href = requirement.get("href") or ""
            foreign = self.imported(href)
            if foreign is not None:
                import_name, model, element_id = foreign
                if element_id not in model.functions:
                    _fail(
                        self.path, decision, f"{where}: requiredKnowledge href {href!r} names nothing there"
                    )
                function_name, function = model.functions[element_id]
                imported.append(ImportedRequirement(import_name, function_name, function=function))
                continue
            model_id = self.local_id(href)
            if model_id is None or model_id not in self.models:
                _fail(
                    self.path,
                    decision,
                    f"{where}: requiredKnowledge href {href!r} names no knowledge model here",
                )
            model_name, function = self.models[model_id]
            functions[model_name] = function
        return functions

    def knowledge_model(
        self, model_id: str, name: str, element: Element, logic: Element | None
    ) -> Callable[[Mapping[str, Any]], Any]:
        """A business knowledge model's body (DMN 1.5 6.3.3): its encapsulated logic, any boxed expression, on
        its parameters; the knowledge models and services it requires are its functions."""
        where = f"business knowledge model {name or model_id!r}"
        if logic is None:
            _fail(self.path, None, f"{where} has no encapsulatedLogic")
        _check_language(logic, self.path, None, None, model_id)
        function_kind = (logic.get("kind") or "FEEL").strip()
        if function_kind.upper() != "FEEL":
            _fail(
                self.path,
                None,
                f"{where}: a function of kind {function_kind} is not supported",
                cell=model_id,
            )
        imported: list[ImportedRequirement] = []
        functions = self.knowledge(element, None, where, imported)
        try:
            environment = self.environment(functions, owner=name or model_id)
            parameters, types = formal_parameters(logic, environment, where)
            environment = environment.with_names(parameters)
            children = expression_children(logic)
            if len(children) != 1:
                _fail(self.path, None, f"{where}: its logic needs one expression, not {len(children)}")
            body = compile_boxed(children[0], environment, where)
            body = typed(body, environment.type_of(logic.get("typeRef"), where), environment)
        except BoxedRefusal as exc:
            _fail(self.path, None, exc.problem, cell=exc.element or model_id)
        evaluate = with_parameter_types(body.evaluate, types, environment)
        if not imported:
            return evaluate
        requirements = tuple(imported)

        def with_imports(scope: Mapping[str, Any]) -> Any:
            return evaluate({**scope, **imported_scope(requirements, scope)})

        return with_imports

    def service(self, element: Element) -> tuple[str, FeelFunction]:
        """A decision service (DMN 1.5 6.3.4) as a function of its input decisions and input data."""
        service_id = element.get("id") or ""
        name = (element.get("name") or "").strip()
        where = f"decision service {name or service_id!r}"

        def ids(local: str) -> list[str]:
            found = []
            for reference in element.findall(self.tag(local)):
                target = self.local_id(reference.get("href"))
                if target is None:
                    _fail(
                        self.path,
                        None,
                        f"{where}: {local} href {reference.get('href')!r} is not in this model",
                    )
                found.append(target)
            return found

        outputs = ids("outputDecision")
        input_decisions = []
        for decision_id in ids("inputDecision"):
            if decision_id not in self.decision_names:
                _fail(self.path, None, f"{where}: input decision {decision_id!r} is not a decision here")
            decision_name, type_ = self.decision_names[decision_id]
            input_decisions.append((decision_id, decision_name, type_))
        input_data = []
        for input_id in ids("inputData"):
            if input_id not in self.input_data:
                _fail(self.path, None, f"{where}: input data {input_id!r} is not input data here")
            input_data.append(self.input_data[input_id])
        for decision_id in outputs + ids("encapsulatedDecision"):
            if decision_id not in self.decision_names:
                _fail(self.path, None, f"{where}: {decision_id!r} is not a decision here")
        type_ = self.variable_type(element, where)
        result = (
            type_.parameters[-1]
            if type_ is not None and type_.name == "function" and type_.parameters
            else None
        )
        service = DecisionService(
            name,
            service_id,
            tuple(outputs),
            tuple(input_decisions),
            tuple(input_data),
            result_type=result,
            strict=self.strict,
        )
        self.services[service_id] = service
        return name, service

    def tag(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"

    def text(self, element: Element | None) -> str:
        if element is None:
            return ""
        child = element.find(self.tag("text"))
        return (child.text or "") if child is not None else ""

    def decision_or_refusal(self, element: Element) -> DrgDecision:
        """``decision``; any typed refusal while compiling it (a temporal value the engine cannot hold, say)
        is a ``DecisionTableError`` naming it; with ``defer_refusals`` the decision loads without logic and
        raises that refusal when evaluated."""
        name = (element.get("name") or "").strip()
        decision_id = element.get("id") or name
        try:
            return self.decision(element)
        except DecisionTableError as exc:
            refusal = exc
        except EfficacyFlowError as exc:
            refusal = _refusal(self.path, decision_id or None, exc)
        if not self.defer_refusals or not decision_id:
            raise refusal
        return DrgDecision(decision_id, name, self.path, None, strict=self.strict, refusal=refusal)

    def decision(self, element: Element) -> DrgDecision:
        """One decision (DMN 1.5 6.3.2): its logic (any boxed expression, or none), typed by its variable,
        with its required decisions, input data and knowledge."""
        name = (element.get("name") or "").strip()
        decision_id = element.get("id") or name
        if not decision_id:
            _fail(self.path, None, "a decision has neither an id nor a name")
        requires = []
        inputs = []
        imported: list[ImportedRequirement] = []
        for requirement in element.findall(self.tag("informationRequirement")):
            for required in requirement:
                local = required.tag.rpartition("}")[2] if isinstance(required.tag, str) else ""
                if local not in ("requiredDecision", "requiredInput"):
                    continue
                href = required.get("href") or ""
                foreign = self.imported(href)
                if foreign is not None:
                    imported.append(self.imported_requirement(local, foreign, decision_id, href))
                    continue
                target = self.local_id(href)
                if target is None:
                    _fail(self.path, decision_id, f"{local} href {href!r} is not a local '#id' reference")
                if local == "requiredDecision":
                    requires.append(target)
                elif target in self.input_data:
                    inputs.append(self.input_data[target])
                else:
                    _fail(self.path, decision_id, f"requiredInput href {href!r} names no input data here")
        logic_elements = expression_children(element)
        if len(logic_elements) > 1:
            _fail(self.path, decision_id, "has more than one decision logic")
        functions = self.knowledge(element, decision_id, "knowledge requirement", imported)
        # The names of decisions it does not require are not in its scope (DMN 1.5 6.3.2), even when the
        # caller's data holds them; input data it does not require stay visible, as the project's tables read
        # process data without declaring it.
        required_names = {
            self.decision_names[required][0] for required in requires if required in self.decision_names
        }
        hidden = frozenset(
            decision_name
            for decision_name, _ in self.decision_names.values()
            if decision_name not in required_names and decision_name != name
        )
        logic: Table | ExpressionDecision | None = None
        extra_reads: frozenset[str] = frozenset()
        if logic_elements:
            logic_element = logic_elements[0]
            if local_name(logic_element) == "decisionTable":
                logic = self.table(decision_id, name, logic_element, tuple(requires), functions)
                extra_reads = frozenset(self.feel_reads)
            else:
                logic = self.expression(decision_id, name, element, logic_element, tuple(requires), functions)
        return DrgDecision(
            decision_id,
            name,
            self.path,
            logic,
            tuple(requires),
            tuple(inputs),
            hidden,
            self.strict,
            tuple(imported),
            extra_reads,
        )

    def imported_requirement(
        self, local: str, foreign: tuple[str, Model, str], decision_id: str, href: str
    ) -> ImportedRequirement:
        """A required decision or input data of an imported model."""
        import_name, model, element_id = foreign
        if local == "requiredDecision" and element_id in model.graph:
            required = model.graph[element_id]
            return ImportedRequirement(import_name, required.name, decision=required, graph=model.graph)
        if local == "requiredInput" and element_id in model.input_data:
            return ImportedRequirement(import_name, model.input_data[element_id][0])
        _fail(self.path, decision_id, f"{local} href {href!r} names nothing in the imported model")

    def expression(
        self,
        decision_id: str,
        name: str,
        element: Element,
        logic: Element,
        requires: tuple[str, ...],
        functions: Mapping[str, FeelFunction],
    ) -> ExpressionDecision:
        environment = self.environment(functions, owner=decision_id)
        try:
            boxed = compile_boxed(
                logic, environment, local_name(logic).replace("literalExpression", "literal expression")
            )
            boxed = typed(boxed, self.variable_type(element, f"decision {name!r}"), environment)
        except BoxedRefusal as exc:
            _fail(self.path, decision_id, exc.problem, cell=exc.element or logic.get("id"))
        if local_name(logic) == "literalExpression":
            text = repr(self.text(logic).strip())
        else:
            text = f"its {local_name(logic)}"
        return ExpressionDecision(decision_id, name, self.path, boxed.evaluate, boxed.reads, text, requires)

    def embedded_table(self, element: Element, environment: Environment) -> Boxed:
        """A decision table inside another expression (a knowledge model's logic, a context entry): its value
        as DMN 1.5 defines it, on the enclosing scope."""
        table = self.table(
            environment.owner,
            element.get("label") or element.get("id") or "decision table",
            element,
            (),
            environment.functions,
            environment,
        )
        run, standard = table.run, table.standard

        def evaluate(scope: Mapping[str, Any]) -> Any:
            return to_feel(standard(run(scope)))

        return Boxed(evaluate, table.reads | self.feel_reads)

    def table(
        self,
        decision_id: str,
        name: str,
        element: Element,
        requires: tuple[str, ...],
        functions: Mapping[str, FeelFunction],
        environment: Environment | None = None,
    ) -> Table:
        """A decision table (DMN 1.5 chapter 8); its FEEL-expression cells compile in ``environment``."""
        self.feel = environment or self.environment(functions)
        self.feel_reads: set[str] = set()
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
        evaluate = None
        reads: frozenset[str] = frozenset()
        if "." in expression and expression in self.feel.names:
            path: tuple[str, ...] = (expression,)  # a name with a dot (a parameter ``Person.Gender``)
        elif _NAME_PATH.fullmatch(expression) and not _RESERVED & set(expression.split(".")):
            path = tuple(expression.split("."))
        else:
            path = ()
            try:  # any FEEL expression (DMN 1.5 8.2)
                compiled = feel_expression(expression, self.feel)
            except FeelSyntaxError as exc:
                _fail(
                    self.path,
                    decision_id,
                    f"input expression {expression!r} must be a name, a dotted path like case.unit.type "
                    f"or FEEL the project reads: {exc.problem}",
                    cell=cell,
                    where=where,
                )
            evaluate, reads = compiled.evaluate, compiled.reads
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
            path,
            declared,
            kind == DATE,
            allowed_values.test if allowed_values is not None else None,
            allowed_text,
            evaluate,
            reads,
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
        if kind == DATE:
            # kept a date for FEEL; ``decide`` gives its ISO string (DrgDecision.shaped)
            return OutputColumn(name, priorities, value, has_default=True)
        return OutputColumn(name, priorities, _json_value(value), has_default=True)

    def kind(self, decision_id: str, type_ref: str | None, cell: str, where: str) -> str | None:
        if not type_ref:
            return None
        bare = type_ref.rpartition(":")[2].strip()
        if bare not in _TYPE_KINDS:
            # An item definition (or Any) whose values are of one of the kinds cells compare.
            named = self.types.get(type_ref.strip())
            if named is not None and named.name in _TYPE_KINDS:
                return _TYPE_KINDS[named.name]
            if (named is not None and named.name == "Any" and not named.extra) or bare == "Any":
                return None
            if not self.strict and named is None:
                # DMN 1.5: any FEEL type (time, date and time, a list, …); cells of other kinds are then full
                # FEEL, and no kind is checked at load.
                with contextlib.suppress(FeelError):
                    parse_type(type_ref, self.types)
                    return None
            if not self.strict and named is not None:
                return None
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
        scoped: list[ScopedTest | None] = []
        input_ids = []
        for column, entry in enumerate(input_entries, 1):
            cell = entry.get("id") or f"input {column}"
            _check_language(entry, self.path, decision_id, rule_id, cell)
            text = self.text(entry)
            try:
                fast, full = self.unary_tests(text)
                tests.append(fast)
                scoped.append(full)
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
                values.append(self.output_entry(text))
            except FeelSyntaxError as exc:
                label = (
                    outputs[column - 1].get("label") or outputs[column - 1].get("name") or f"output {column}"
                )
                _fail(
                    self.path,
                    decision_id,
                    f"output {text.strip()!r} is neither a literal nor FEEL the project reads: {exc.problem}",
                    rule=rule_id,
                    cell=cell,
                    where=f"rule {number}, output {column} ({label!r})",
                )
            output_ids.append(cell)
        return _Cells(
            number, rule_id, tuple(tests), tuple(input_ids), tuple(values), tuple(output_ids), tuple(scoped)
        )

    def rule(
        self,
        decision_id: str,
        row: _Cells,
        outputs: tuple[OutputColumn, ...],
        output_elements: list[Element],
    ) -> Rule:
        tests = tuple((index, cell.test) for index, cell in enumerate(row.tests) if cell.test is not None)
        scoped = tuple((index, test) for index, test in enumerate(row.scoped) if test is not None)
        computed: list[tuple[int, ScopedValue]] = []
        values: list[Any] = []
        rank = []
        for index, (kind, value) in enumerate(row.outputs):
            column = outputs[index]
            declared = self.kind(decision_id, output_elements[index].get("typeRef"), column.name, column.name)
            where = f"rule {row.number}, output {index + 1} ({column.name!r})"
            if kind == _EXPRESSION:
                if column.priorities is not None:
                    _fail(
                        self.path,
                        decision_id,
                        "an output that is a FEEL expression cannot be ranked by outputValues",
                        rule=row.rule_id,
                        cell=row.output_ids[index],
                        where=where,
                    )
                computed.append((index, value))
                values.append(None)
                continue
            json_value = _json_value(value)
            if declared and kind not in (NULL, declared):
                _fail(
                    self.path,
                    decision_id,
                    f"{json_value!r} is not a {declared}",
                    rule=row.rule_id,
                    cell=row.output_ids[index],
                    where=where,
                )
            if kind == DATE and column.priorities is None:
                # The date itself for FEEL (evaluate, knowledge models); decide gives its ISO string.
                computed.append((index, _constant(value)))
                values.append(None)
                continue
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
        return Rule(row.number, row.rule_id, tests, tuple(values), tuple(rank), scoped, tuple(computed))

    def feel_expression(self, text: str) -> Compiled:
        """A FEEL expression of the table being compiled (an input expression, an output entry)."""
        return feel_expression(text, self.feel)

    def unary_tests(self, text: str) -> tuple[UnaryTests, ScopedTest | None]:
        """An input entry: the fast path of ``_feel`` when it reads the cell, else (``strict=False``) the full
        FEEL unary tests (``_expr.compile_unary_tests``), which may read other names; the fast path's problem
        is the one reported when neither reads it. Returns the fast cell (``-`` for a full one) and the full
        test."""
        try:
            return compile_unary_tests(text), None
        except FeelSyntaxError as fast_problem:
            if self.strict:
                # The strict mode keeps the cell grammar, which refuses likely mistakes ([5..1], a bare name
                # that was meant as a quoted string) at load; DMN 1.5 reads any unary tests.
                raise
            try:
                compiled = feel_unary_tests(text, self.feel)
            except FeelSyntaxError:
                raise fast_problem from None
            self.feel_reads |= compiled.reads
            return UnaryTests(text.strip(), None, frozenset()), compiled.test

    def output_entry(self, text: str) -> tuple[str, Any]:
        """An output entry: a literal (kind, value), or a FEEL expression as ``("expression", evaluate)``."""
        try:
            return parse_literal(text)
        except FeelSyntaxError:
            compiled = feel_expression(text, self.feel)
            self.feel_reads |= compiled.reads
            return _EXPRESSION, compiled.evaluate

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
            if any(index == 0 for index, _ in rule.computed):
                continue  # a FEEL expression's kind is known when it is evaluated
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

    __slots__ = ("input_ids", "number", "output_ids", "outputs", "rule_id", "scoped", "tests")

    def __init__(
        self,
        number: int,
        rule_id: str,
        tests: tuple[Any, ...],
        input_ids: tuple[str, ...],
        outputs: tuple[tuple[str, Any], ...],
        output_ids: tuple[str, ...],
        scoped: tuple[ScopedTest | None, ...] = (),
    ) -> None:
        self.scoped = scoped
        self.number = number
        self.rule_id = rule_id
        self.tests = tests
        self.input_ids = input_ids
        self.outputs = outputs
        self.output_ids = output_ids


def _refusal(path: str, decision: str | None, exc: EfficacyFlowError) -> DecisionTableError:
    """A typed refusal raised while compiling (not a ``DecisionTableError``) as one naming the place."""
    problem = str(exc.fields.get("problem") or exc)
    where = f"{path}, decision {decision!r}" if decision else path
    return DecisionTableError(
        f"{where}: {problem}", path=path, decision=decision, rule=None, cell=None, problem=problem
    )


def _refused(refusal: DecisionTableError) -> Callable[[Mapping[str, Any]], Any]:
    """The body of a knowledge model that could not be compiled: invoking it raises its refusal."""

    def body(scope: Mapping[str, Any]) -> Any:
        raise refusal

    return body


#: The kind ``output_entry`` gives an output entry that is a FEEL expression.
_EXPRESSION: Final = "expression"


def _constant(value: Any) -> Callable[[Mapping[str, Any]], Any]:
    """An evaluator that always gives ``value``."""
    return lambda scope: value


def _json_value(value: Any) -> Any:
    # Outputs land in process data, which is JSON: a date literal becomes its ISO string.
    if isinstance(value, date):
        return value.isoformat()
    return value
