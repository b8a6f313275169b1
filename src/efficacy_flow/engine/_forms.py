"""A user task's form: the fields its completion data has, for a UI to render (``TaskView.form``).

One source of truth per task: its fields are declared either in the diagram, as the ``camunda:formData`` a
Camunda Modeler user builds in the properties panel (*Forms* → *Generated Task Forms*), or in schemas.yaml
under the process's ``tasks`` — never both (deployment refuses a task declared twice, naming the file, the
element and schemas.yaml). Either way the declaration is a :class:`~efficacy_flow.engine._schemas.
FieldDeclaration`, so the data a task completes with is validated, and its form shown, by the same fields.

How Camunda's form fields read (docs/processes.md §17, "Forms"):

=================  =========================================================================================
``camunda:``       here
=================  =========================================================================================
``id``             the field's name in the process data
``label``          its label (the form shows the id when there is none)
``type``           ``string``, ``long`` (an integer), ``boolean``, ``date`` (YYYY-MM-DD) or ``enum`` (one of
                   its ``<camunda:value id name>``: the ids are the values, the names their labels)
``defaultValue``   the value the data takes when the field is left out
``validation``     constraints ``required``, ``minlength``, ``maxlength``, ``min``, ``max``
``properties``     a property ``pii`` (``phone``, ``id_number``, ``name``) marks personal data (masked)
=================  =========================================================================================

Anything else (a custom type, ``readonly``, a constraint Camunda runs in Java) is refused, naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from efficacy_flow._parsing import validation_problems
from efficacy_flow.engine._schemas import FieldDeclaration
from efficacy_flow.engine._views import FormChoice, FormField
from efficacy_flow.errors import ProcessDefinitionError

__all__ = ["DeclaredForms", "declared_forms", "form_fields"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_C = f"{{{CAMUNDA_NS}}}"
_TYPES = {"string": "string", "long": "integer", "boolean": "boolean", "date": "date", "enum": "string"}
_CONSTRAINTS = {"required", "minlength", "maxlength", "min", "max"}


@dataclass
class DeclaredForms:
    """The ``camunda:formData`` of a file, as schemas.yaml declarations (field id → mapping, in the order
    the diagram lists them): ``tasks`` by user task id, ``start`` the main process's start event's (its
    start data; None: none), ``start_event`` that event's id."""

    tasks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    start: dict[str, dict[str, Any]] | None = None
    start_event: str | None = None


def declared_forms(root: Any, where: str, process_id: str) -> DeclaredForms:
    """The formData fields of every user task and of the main process's start event.

    Raises:
        ProcessDefinitionError: a field without an id, declared twice, of a type or with a constraint the
            engine does not read, or whose values do not fit its declaration (``element_id``, ``entry``).
    """
    declared = DeclaredForms()
    starts = [
        event
        for process in root.iterfind(f"{{{BPMN_NS}}}process")
        if process.get("id") == process_id
        for event in process.iterfind(f"{{{BPMN_NS}}}startEvent")
    ]
    for task in [*root.iter(f"{{{BPMN_NS}}}userTask"), *starts]:
        form_data = task.find(f"{{{BPMN_NS}}}extensionElements/{_C}formData")
        if form_data is None:
            continue
        element_id = str(task.get("id"))
        fields: dict[str, dict[str, Any]] = {}
        for node in form_data.iterfind(f"{_C}formField"):
            field_id = (node.get("id") or "").strip()
            refuse = _refuser(where, element_id, field_id)
            if not field_id.isidentifier() or field_id.startswith("_"):
                raise refuse("the id must be a variable name (letters, digits, _; not starting with _)")
            if field_id in fields:
                raise refuse("declared twice")
            fields[field_id] = _declaration(node, refuse)
        if task in starts:
            declared.start, declared.start_event = fields, element_id
        else:
            declared.tasks[element_id] = fields
    return declared


def _refuser(where: str, element_id: str, field_id: str) -> Callable[[str], ProcessDefinitionError]:
    def refuse(problem: str) -> ProcessDefinitionError:
        return ProcessDefinitionError(
            f"{where}: user task {element_id}, form field {field_id or '(no id)'}: {problem}",
            path=where,
            element_id=element_id,
            entry=field_id or None,
        )

    return refuse


def _declaration(node: Any, refuse: Callable[[str], ProcessDefinitionError]) -> dict[str, Any]:
    kind = node.get("type") or "string"
    if kind not in _TYPES:
        raise refuse(f"type {kind!r} is not read (string, long, boolean, date or enum)")
    declaration: dict[str, Any] = {"type": _TYPES[kind]}
    if node.get("label"):
        declaration["label"] = node.get("label")
    if kind == "enum":
        values = [(v.get("id"), v.get("name")) for v in node.iterfind(f"{_C}value")]
        if not values or any(not value for value, _ in values):
            raise refuse("an enum field needs <camunda:value id=…> entries")
        declaration["enum"] = [value for value, _ in values]
        declaration["choice_labels"] = {value: name or value for value, name in values}
    for constraint in node.iterfind(f"{_C}validation/{_C}constraint"):
        name, config = constraint.get("name"), constraint.get("config")
        if name not in _CONSTRAINTS:
            raise refuse(f"constraint {name!r} is not run (required, minlength, maxlength, min, max)")
        if name == "required":
            declaration["required"] = True
            continue
        try:
            number = float(config) if name in ("min", "max") else int(config)
        except (TypeError, ValueError):
            raise refuse(f"constraint {name} needs a number, not {config!r}") from None
        key = {"minlength": "min_length", "maxlength": "max_length", "min": "minimum", "max": "maximum"}[name]
        declaration[key] = int(number) if float(number).is_integer() else number
    for prop in node.iterfind(f"{_C}properties/{_C}property"):
        if prop.get("id") == "pii":
            declaration["pii"] = prop.get("value")
    default = node.get("defaultValue")
    if default is not None:
        declaration["default"] = _default(default, declaration["type"], refuse)
    try:
        FieldDeclaration.model_validate(declaration)
    except ValidationError as exc:
        first = validation_problems(exc)[0]
        raise refuse(f"{first['entry']}: {first['problem']}") from None
    return declaration


def _default(text: str, kind: str, refuse: Callable[[str], ProcessDefinitionError]) -> object:
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise refuse(f"defaultValue {text!r} is not an integer") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise refuse(f"defaultValue {text!r} is not true or false")
        return text.lower() == "true"
    return text


def form_fields(declarations: Mapping[str, Any]) -> tuple[FormField, ...]:
    """The form of a task from its field declarations (schemas.yaml mappings or formData's), in order."""
    fields: list[FormField] = []
    for field_id, raw in declarations.items():
        decl = raw if isinstance(raw, Mapping) else {}
        labels = decl.get("choice_labels") or {}
        enum = decl.get("enum")
        fields.append(
            FormField(
                id=str(field_id),
                label=str(decl.get("label") or field_id),
                type=str(decl.get("type") or "string"),
                required=bool(decl.get("required", False)),
                choices=tuple(FormChoice(value, str(labels.get(value, value))) for value in enum or ()),
                default=decl.get("default"),
            )
        )
    return tuple(fields)
