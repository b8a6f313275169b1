"""Boxed expressions (DMN 1.5 chapter 7 and 10.2–10.3), compiled once into closures scope → value.

``compile_boxed(element, environment)`` reads any expression element: ``literalExpression``, ``context``,
``relation``, ``list``, ``invocation``, ``functionDefinition`` (kind FEEL), ``conditional``, ``filter``,
``for``, ``every``, ``some`` and ``decisionTable`` (which the environment's ``table`` compiles), nested
anywhere an expression may be. Every FEEL text goes through ``_expr.compile_expression``. Something the
project does not evaluate (a Java or PMML function, an unknown element) raises :class:`BoxedRefusal` naming
the element, at load.

Errors at evaluation follow FEEL: null, or :class:`FeelError` when the model is strict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from efficacy_flow.policy._expr import Compiled, CompiledTests, compile_expression, compile_unary_tests
from efficacy_flow.policy._feel import FeelSyntaxError
from efficacy_flow.policy._feel_builtins import BUILTINS
from efficacy_flow.policy._feel_types import FeelType, coerce, type_ref_type
from efficacy_flow.policy._feel_values import FeelError, FeelFunction, LambdaFunction, kind

__all__ = [
    "BOXED_KINDS",
    "Boxed",
    "BoxedRefusal",
    "Environment",
    "compile_boxed",
    "feel_expression",
    "feel_unary_tests",
]

#: An lxml element (lxml ships no type information this project checks against).
Element = Any
#: A compiled expression: scope → value.
Evaluator = Callable[[Mapping[str, Any]], Any]

#: The local names of the elements that are expressions (DMN 1.5 7.3.1's Expression subclasses).
BOXED_KINDS: Final = frozenset(
    {
        "literalExpression",
        "context",
        "relation",
        "list",
        "invocation",
        "functionDefinition",
        "conditional",
        "filter",
        "for",
        "every",
        "some",
        "decisionTable",
    }
)
#: The most items a boxed iterator or filter walks (a bound on evaluation).
MAX_ITEMS: Final = 100_000


class BoxedRefusal(Exception):
    """A boxed expression the project does not evaluate: ``problem`` says what, ``element`` its id."""

    def __init__(self, problem: str, element: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.element = element


@dataclass(frozen=True, slots=True)
class Boxed:
    """A compiled boxed expression: ``evaluate(scope)`` and the names it reads from the scope."""

    evaluate: Evaluator
    reads: frozenset[str]


@dataclass(frozen=True, slots=True)
class Environment:
    """What an expression compiles against.

    Attributes:
        namespace: the DMN namespace of the document (its element tags).
        names: every name visible where the expression is (so names with spaces read as one name).
        functions: the functions known when the model loads (knowledge models, decision services), by name.
        types: the model's item definitions by name.
        strict: raise FeelError where FEEL gives null.
        table: compiles a ``decisionTable`` element in this environment.
        owner: the decision's id or the knowledge model's name the expression belongs to (for messages).
    """

    namespace: str
    names: frozenset[str]
    functions: Mapping[str, FeelFunction]
    types: Mapping[str, FeelType]
    strict: bool
    table: Callable[[Element, Environment], Boxed] | None = None
    owner: str = ""

    def tag(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"

    def with_names(self, names: Iterable[str]) -> Environment:
        return replace(self, names=self.names | frozenset(names))

    def fail(self, problem: str) -> None:
        """FEEL's error: null, or in strict mode a FeelError."""
        if self.strict:
            raise FeelError(problem)

    def type_of(self, type_ref: str | None, where: str) -> FeelType | None:
        """The type a ``typeRef`` names, None when there is none; refuses a type the model does not define."""
        try:
            return type_ref_type(type_ref, self.types)
        except FeelError as exc:
            raise BoxedRefusal(f"{where}: {exc.problem}") from None


def local_name(element: Element) -> str:
    """The element's tag without its namespace (``""`` for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def expression_children(element: Element) -> list[Element]:
    """The child elements of ``element`` that are expressions."""
    return [child for child in element if local_name(child) in BOXED_KINDS]


def feel_expression(text: str, environment: Environment) -> Compiled:
    """Compile a FEEL expression in ``environment`` (its names, functions, strictness and item definitions).

    Raises:
        FeelSyntaxError: the compiler does not read it.
    """
    return compile_expression(
        text,
        names=environment.names,
        functions=environment.functions,
        strict=environment.strict,
        types=environment.types,
    )


def feel_unary_tests(text: str, environment: Environment) -> CompiledTests:
    """Compile full FEEL unary tests (an input entry) in ``environment``.

    Raises:
        FeelSyntaxError: the compiler does not read them.
    """
    return compile_unary_tests(
        text,
        names=environment.names,
        functions=environment.functions,
        strict=environment.strict,
        types=environment.types,
    )


def text_of(element: Element | None, environment: Environment) -> str:
    if element is None:
        return ""
    child = element.find(environment.tag("text"))
    return (child.text or "") if child is not None else ""


def compile_boxed(element: Element, environment: Environment, where: str = "") -> Boxed:
    """Compile one expression element (any of ``BOXED_KINDS``), with its typeRef's conversion applied."""
    name = local_name(element)
    where = where or name
    language = element.get("expressionLanguage")
    if language and "feel" not in language.lower():
        raise BoxedRefusal(f"{where}: expression language {language!r} is not supported", element.get("id"))
    builder = _BUILDERS.get(name)
    if builder is None:
        raise BoxedRefusal(f"{where}: {name or 'this element'} is not an expression", element.get("id"))
    compiled = builder(element, environment, where)
    if name == "functionDefinition":
        return compiled  # its value is the function; its parameters and result convert inside
    return typed(compiled, environment.type_of(element.get("typeRef"), where), environment)


def typed(boxed: Boxed, type_: FeelType | None, environment: Environment) -> Boxed:
    """``boxed`` with the conversion to ``type_`` of DMN 1.5 10.3.2.9.4 applied to its value."""
    if type_ is None or (type_.name == "Any" and not type_.extra):
        return boxed
    inner = boxed.evaluate
    strict = environment.strict

    def converted(scope: Mapping[str, Any]) -> Any:
        try:
            return coerce(inner(scope), type_)
        except FeelError:
            if strict:
                raise
            return None

    return Boxed(converted, boxed.reads)


def _only_child(element: Element, environment: Environment, where: str) -> Boxed:
    children = expression_children(element)
    if len(children) != 1:
        raise BoxedRefusal(f"{where}: needs one expression, not {len(children)}", element.get("id"))
    return compile_boxed(children[0], environment, where)


def _optional_child(element: Element | None, environment: Environment, where: str) -> Boxed:
    """The one expression inside ``element``; an absent or empty one is null (DMN 1.5 allows that)."""
    if element is None or not expression_children(element):
        return Boxed(lambda scope: None, frozenset())
    return _only_child(element, environment, where)


# --- the expressions ----------------------------------------------------------------------------------------


def _literal(element: Element, environment: Environment, where: str) -> Boxed:
    text = text_of(element, environment)
    try:
        compiled = feel_expression(text, environment)
    except FeelSyntaxError as exc:
        raise BoxedRefusal(
            f"{where}: cannot read {text.strip()!r}: {exc.problem}", element.get("id")
        ) from None
    return Boxed(compiled.evaluate, compiled.reads)


def _context(element: Element, environment: Environment, where: str) -> Boxed:
    """A context (DMN 1.5 10.2.1.4): entries in order, each seeing the earlier ones; a last entry without a
    variable is the result, otherwise the context of all entries."""
    entries: list[tuple[str | None, Evaluator]] = []
    reads: set[str] = set()
    bound: list[str] = []
    current = environment
    context_entries = element.findall(environment.tag("contextEntry"))
    for number, entry in enumerate(context_entries, 1):
        variable = entry.find(environment.tag("variable"))
        name = (variable.get("name") or "").strip() if variable is not None else None
        label = f"{where}, entry {name or number!r}"
        value = _optional_child(entry, current, label)
        if variable is not None:
            value = typed(value, current.type_of(variable.get("typeRef"), label), current)
        reads |= value.reads - set(bound)
        if name is None and number != len(context_entries):
            raise BoxedRefusal(f"{label}: only the last entry may go without a variable", entry.get("id"))
        entries.append((name, value.evaluate))
        if name:
            bound.append(name)
            current = current.with_names([name])
    result_entry = entries[-1][1] if entries and entries[-1][0] is None else None
    named = [(name, evaluate) for name, evaluate in entries if name is not None]

    def context(scope: Mapping[str, Any]) -> Any:
        local = dict(scope)
        values: dict[str, Any] = {}
        for name, evaluate in named:
            values[name] = local[name] = evaluate(local)
        if result_entry is not None:
            return result_entry(local)
        return values

    return Boxed(context, frozenset(reads))


def _relation(element: Element, environment: Environment, where: str) -> Boxed:
    """A relation (DMN 1.5 10.2.1.5): a list of contexts, one per row, keyed by the column names."""
    columns = [(column.get("name") or "").strip() for column in element.findall(environment.tag("column"))]
    if any(not column for column in columns):
        raise BoxedRefusal(f"{where}: a column has no name", element.get("id"))
    rows: list[list[Evaluator]] = []
    reads: set[str] = set()
    for number, row in enumerate(element.findall(environment.tag("row")), 1):
        cells = [
            compile_boxed(cell, environment, f"{where}, row {number}") for cell in expression_children(row)
        ]
        if len(cells) != len(columns):
            raise BoxedRefusal(
                f"{where}, row {number}: {len(cells)} cells for {len(columns)} columns", row.get("id")
            )
        for cell in cells:
            reads |= cell.reads
        rows.append([cell.evaluate for cell in cells])

    def relation(scope: Mapping[str, Any]) -> Any:
        return [{column: cell(scope) for column, cell in zip(columns, row, strict=True)} for row in rows]

    return Boxed(relation, frozenset(reads))


def _list(element: Element, environment: Environment, where: str) -> Boxed:
    """A boxed list (DMN 1.5 10.2.1.6): its expressions' values in order."""
    items = [
        compile_boxed(child, environment, f"{where}, item {number}")
        for number, child in enumerate(expression_children(element), 1)
    ]
    evaluators = [item.evaluate for item in items]
    reads = frozenset().union(*(item.reads for item in items))
    return Boxed(lambda scope: [each(scope) for each in evaluators], reads)


def _invocation(element: Element, environment: Environment, where: str) -> Boxed:
    """An invocation (DMN 1.5 10.2.1.3): a function named by its first expression, called with its bindings
    by parameter name (a binding without an expression passes null)."""
    callee = next(iter(expression_children(element)), None)
    if callee is None or local_name(callee) != "literalExpression":
        raise BoxedRefusal(f"{where}: the function to invoke must be named by a literal expression")
    name = text_of(callee, environment).strip()
    bindings: list[tuple[str, Evaluator]] = []
    reads: set[str] = set()
    for binding in element.findall(environment.tag("binding")):
        parameter = binding.find(environment.tag("parameter"))
        parameter_name = (parameter.get("name") or "").strip() if parameter is not None else ""
        if not parameter_name:
            raise BoxedRefusal(f"{where}: a binding names no parameter", binding.get("id"))
        value = _optional_child(binding, environment, f"{where}, binding {parameter_name!r}")
        reads |= value.reads
        bindings.append((parameter_name, value.evaluate))
    static = environment.functions.get(name) or BUILTINS.get(name)
    # A name in scope, or a path into a context in scope (an imported model's function: ``model.f``).
    path = [name] if name in environment.names else name.split(".")
    if static is None and path[0].strip() not in environment.names:
        raise BoxedRefusal(f"{where}: no function named {name!r} is visible here", callee.get("id"))
    path = [step.strip() for step in path]
    if static is None:
        reads.add(path[0])
    fail = environment.fail

    def invoke(scope: Mapping[str, Any]) -> Any:
        function: Any = static
        if function is None:
            function = scope.get(path[0])
            for step in path[1:]:
                function = function.get(step) if isinstance(function, dict) else None
        if not isinstance(function, FeelFunction):
            fail(f"{name!r} is {kind(function)}, not a function")
            return None
        arguments = {parameter: value(scope) for parameter, value in bindings}
        try:
            return function.invoke(None, arguments)
        except FeelError as exc:
            fail(exc.problem)
            return None

    return Boxed(invoke, frozenset(reads))


def _function_definition(element: Element, environment: Environment, where: str) -> Boxed:
    """A function definition (DMN 1.5 10.2.1.2), kind FEEL: a LambdaFunction closing over the scope it is
    evaluated in; typed parameters are converted (10.3.2.9.4), and an argument that does not conform means
    the function is not invoked (an error: TCK 0082)."""
    function_kind = (element.get("kind") or "FEEL").strip()
    if function_kind.upper() != "FEEL":
        raise BoxedRefusal(f"{where}: a function of kind {function_kind} is not supported", element.get("id"))
    parameters, parameter_types = formal_parameters(element, environment, where)
    body = _only_child(element, environment.with_names(parameters), f"{where}, body")
    evaluate = with_parameter_types(body.evaluate, parameter_types, environment)
    reads = body.reads - set(parameters)
    label = where

    def define(scope: Mapping[str, Any]) -> Any:
        return LambdaFunction(label, parameters, evaluate, dict(scope))

    return Boxed(define, frozenset(reads))


def formal_parameters(
    element: Element, environment: Environment, where: str
) -> tuple[tuple[str, ...], dict[str, FeelType]]:
    """The names of an element's ``formalParameter``s, in order, and the types of the typed ones."""
    names: list[str] = []
    types: dict[str, FeelType] = {}
    for parameter in element.findall(environment.tag("formalParameter")):
        name = (parameter.get("name") or "").strip()
        if not name:
            raise BoxedRefusal(f"{where}: a parameter has no name", parameter.get("id"))
        names.append(name)
        type_ = environment.type_of(parameter.get("typeRef"), f"{where}, parameter {name!r}")
        if type_ is not None and not (type_.name == "Any" and not type_.extra):
            types[name] = type_
    return tuple(names), types


def with_parameter_types(
    body: Evaluator, types: Mapping[str, FeelType], environment: Environment
) -> Evaluator:
    """``body`` with each typed parameter converted first (DMN 1.5 10.3.2.9.4); an argument that does not
    conform raises FeelError: the function is not invoked and the invocation has no value (TCK 0082)."""
    if not types:
        return body

    def converted(scope: Mapping[str, Any]) -> Any:
        local = dict(scope)
        for name, type_ in types.items():
            try:
                local[name] = coerce(local.get(name), type_)
            except FeelError as exc:
                raise FeelError(f"argument {name!r}: {exc.problem}") from None
        return body(local)

    return converted


def _conditional(element: Element, environment: Environment, where: str) -> Boxed:
    """A boxed conditional (DMN 1.5 10.2.1.7): ``then`` when ``if`` is true, ``else`` when it is false or
    null; a condition that is not a boolean is an error (TCK 1150)."""
    parts = {}
    for part in ("if", "then", "else"):
        child = element.find(environment.tag(part))
        if child is None:
            raise BoxedRefusal(f"{where}: has no {part!r}", element.get("id"))
        parts[part] = _only_child(child, environment, f"{where}, {part}")
    test, yes, no = parts["if"].evaluate, parts["then"].evaluate, parts["else"].evaluate
    fail = environment.fail

    def conditional(scope: Mapping[str, Any]) -> Any:
        condition = test(scope)
        if condition is True:
            return yes(scope)
        if condition is False or condition is None:
            return no(scope)
        fail(f"a conditional's if gave {kind(condition)}, not a boolean")
        return None

    return Boxed(conditional, parts["if"].reads | parts["then"].reads | parts["else"].reads)


def _items(value: Any) -> list[Any]:
    """What an iterator walks: a list, or a single value as a singleton list (DMN 1.5 10.3.2.9.4)."""
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_ITEMS:
        raise FeelError(f"a list of {len(items)} items is more than {MAX_ITEMS}")
    return items


def _part(element: Element, part: str, environment: Environment, where: str) -> Boxed:
    child = element.find(environment.tag(part))
    if child is None:
        raise BoxedRefusal(f"{where}: has no {part!r}", element.get("id"))
    return _only_child(child, environment, f"{where}, {part}")


def _filter(element: Element, environment: Environment, where: str) -> Boxed:
    """A boxed filter (DMN 1.5 10.2.1.8): the items of ``in`` for which ``match`` is true, with ``item`` (and
    a context item's entries) in scope; a match that is neither true, false nor null is an error."""
    source = _part(element, "in", environment, where)
    match = _part(element, "match", environment.with_names(["item"]), where)
    walk, test = source.evaluate, match.evaluate
    strict = environment.strict

    def filtered(scope: Mapping[str, Any]) -> Any:
        try:
            items = _items(walk(scope))
            kept = []
            for item in items:
                local = dict(scope)
                if isinstance(item, dict):
                    local.update(item)
                local["item"] = item
                answer = test(local)
                if answer is True:
                    kept.append(item)
                elif answer is not False and answer is not None:
                    raise FeelError(f"a filter's match gave {kind(answer)}, not a boolean")
            return kept
        except FeelError:
            if strict:
                raise
            return None

    return Boxed(filtered, source.reads | (match.reads - {"item"}))


def _for(element: Element, environment: Environment, where: str) -> Boxed:
    """A boxed for (DMN 1.5 10.2.1.9): ``return`` for each item of ``in`` bound to the iterator variable."""
    variable = _iterator(element, where)
    source = _part(element, "in", environment, where)
    body = _part(element, "return", environment.with_names([variable]), where)
    walk, each = source.evaluate, body.evaluate
    strict = environment.strict

    def iterate(scope: Mapping[str, Any]) -> Any:
        try:
            items = _items(walk(scope))
        except FeelError:
            if strict:
                raise
            return None
        results = []
        for item in items:
            results.append(each({**scope, variable: item}))
        return results

    return Boxed(iterate, source.reads | (body.reads - {variable}))


def _quantified(every: bool) -> Callable[[Element, Environment, str], Boxed]:
    def build(element: Element, environment: Environment, where: str) -> Boxed:
        """A boxed every/some (DMN 1.5 10.2.1.10): whether ``satisfies`` is true for every (some) item; a
        value that is not a boolean is an error."""
        variable = _iterator(element, where)
        source = _part(element, "in", environment, where)
        body = _part(element, "satisfies", environment.with_names([variable]), where)
        walk, test = source.evaluate, body.evaluate
        strict = environment.strict

        def quantify(scope: Mapping[str, Any]) -> Any:
            try:
                answers = []
                for item in _items(walk(scope)):
                    answer = test({**scope, variable: item})
                    if answer is not None and not isinstance(answer, bool):
                        raise FeelError(f"satisfies gave {kind(answer)}, not a boolean")
                    answers.append(answer)
            except FeelError:
                if strict:
                    raise
                return None
            decisive = not every  # some: one true decides; every: one false decides
            if any(answer is decisive for answer in answers):
                return decisive
            if any(answer is None for answer in answers):
                return None
            return every

        return Boxed(quantify, source.reads | (body.reads - {variable}))

    return build


def _iterator(element: Element, where: str) -> str:
    variable = (element.get("iteratorVariable") or "").strip()
    if not variable:
        raise BoxedRefusal(f"{where}: has no iteratorVariable", element.get("id"))
    return variable


def _table(element: Element, environment: Environment, where: str) -> Boxed:
    if environment.table is None:
        raise BoxedRefusal(f"{where}: a decision table is not supported here", element.get("id"))
    return environment.table(element, environment)


_BUILDERS: Final[dict[str, Callable[[Element, Environment, str], Boxed]]] = {
    "literalExpression": _literal,
    "context": _context,
    "relation": _relation,
    "list": _list,
    "invocation": _invocation,
    "functionDefinition": _function_definition,
    "conditional": _conditional,
    "filter": _filter,
    "for": _for,
    "every": _quantified(True),
    "some": _quantified(False),
    "decisionTable": _table,
}
