"""Data schemas (processes/schemas.yaml, conventions §9) as pydantic models (masking the personal data they
mark is in _masking).

The file is read through :class:`SchemasFile` (its JSON Schema is docs/schemas/schemas.schema.json); each
field declaration is a :class:`FieldDeclaration`, from which the process's own pydantic models are built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from efficacy_flow._parsing import FileModel, JsonScalar, validation_problems
from efficacy_flow.errors import InvalidData, ProcessDefinitionError

__all__ = [
    "FieldDeclaration",
    "ProcessSchema",
    "ProcessSchemasModel",
    "SchemasFile",
    "schema_from_mapping",
]

_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "date": date,
    "datetime": datetime,
}
PII_KINDS = ("phone", "id_number", "name")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


def _number(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ValueError(f"must be a number, got {value!r}")


def _default_value(value: object) -> object:
    # YAML reads 2025-10-01 as a date: a date field's default may be one.
    if value is None or isinstance(value, str | bool | int | float | date):
        return value
    raise ValueError(f"must be text, a number, true/false or a date, not a {type(value).__name__}")


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"{text!r} is not a regular expression: {exc}") from None
    return text


_Number = Annotated[int | float, PlainValidator(_number), WithJsonSchema({"type": "number"})]
_Length = Annotated[int, Field(ge=0)]


class FieldDeclaration(FileModel):
    """The schema of one field of process data (a key under start, under a task or under a message)."""

    type: Literal["string", "integer", "number", "boolean", "date", "datetime"] = "string"
    """string, integer, number, boolean, date (YYYY-MM-DD) or datetime (ISO 8601 with an offset); default
    string."""
    required: bool = False
    """Whether the data must give the field; default false (an optional field left out stays out of the
    data)."""
    default: Annotated[
        Any,
        PlainValidator(_default_value),
        WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
    ] = None
    """The value the field takes when the data leaves it out; default none (left out)."""
    enum: Annotated[list[JsonScalar], Field(min_length=1)] | None = None
    """The only values allowed, e.g. [紧急, 较急, 一般]; default any value of the type."""
    pattern: Annotated[str, AfterValidator(_regex)] | None = None
    """A regular expression found somewhere in the text; anchor it with ^…$ to match the whole text
    ("^1[3-9][0-9]{9}$"); default none."""
    min_length: _Length | None = None
    """The fewest characters of a text field; default no minimum."""
    max_length: _Length | None = None
    """The most characters of a text field; default no maximum."""
    minimum: _Number | None = None
    """The smallest value of a number or integer field, inclusive; default no minimum."""
    maximum: _Number | None = None
    """The largest value of a number or integer field, inclusive; default no maximum."""
    label: str | None = None
    """What a form shows for the field (TaskView.form), e.g. 办理答复; default the field's name."""
    choice_labels: dict[str, str] | None = None
    """What a form shows for each ``enum`` value, by value (e.g. {"1": 满意}); default the values
    themselves."""
    pii: Literal["phone", "id_number", "name"] | None = None
    """The kind of personal data the field holds (phone, id_number or name): masked in history and listings
    (138****5678, 110105********1234, 张**); default none (not personal data)."""


class ProcessSchemasModel(FileModel):
    """The data of one process: its start data, each user task's completion data, each message's payload."""

    start: dict[str, FieldDeclaration] | None = None
    """Field name → declaration of the data engine.start() takes; default none (any data)."""
    tasks: dict[str, dict[str, FieldDeclaration]] = Field(default_factory=dict)
    """User task element id → its completion data's fields; default none."""
    messages: dict[str, dict[str, FieldDeclaration]] = Field(default_factory=dict)
    """Message name → its payload's fields; default none."""


class SchemasFile(RootModel[dict[str, ProcessSchemasModel]]):
    """schemas.yaml: process id → the data the process starts with, completes its user tasks with and
    receives in its messages (conventions §9). Unknown fields in that data are refused."""

    model_config = ConfigDict(frozen=True, strict=True)


@dataclass(frozen=True)
class ProcessSchema:
    """The models of one process: start data, each user task's completion data, each message's payload."""

    start: type[BaseModel] | None = None
    tasks: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    messages: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    #: field name → pii kind (phone | id_number | name), over every model of the process.
    pii: Mapping[str, str] = field(default_factory=dict)

    def validate_start(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validated start data (defaults applied, dates as ISO strings)."""
        return _validate(self.start, data, "start")

    def validate_task(self, element_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validated completion data of user task ``element_id``."""
        return _validate(self.tasks.get(element_id), data, element_id)

    def validate_message(self, name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Validated payload of message ``name``."""
        return _validate(self.messages.get(name), payload, name)


def _validate(model: type[BaseModel] | None, data: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidData(
            f"{where}: data must be a mapping", errors=[{"field": "", "problem": "not a mapping"}]
        )
    bad_keys = [k for k in data if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")]
    if bad_keys:
        raise InvalidData(
            f"{where}: invalid field names {', '.join(_key(k) for k in bad_keys)}",
            errors=[{"field": _key(k), "problem": "not a valid variable name"} for k in bad_keys],
        )
    if model is None:
        return dict(data)
    try:
        parsed = model.model_validate(dict(data))
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in error["loc"]) or "", "problem": error["msg"]}
            for error in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        raise InvalidData(f"{where}: invalid data in {fields}", errors=errors, where=where) from None
    dumped = parsed.model_dump(mode="json")
    # Optional fields the caller left out stay out (rather than appearing as None in the process data).
    return {k: v for k, v in dumped.items() if k in data or model.model_fields[k].default is not None}


def schema_from_mapping(process_id: str, raw: Mapping[str, Any]) -> ProcessSchema:
    """Build a process's models from its section of schemas.yaml, or from pydantic models given directly.

    ``raw`` has ``start``, ``tasks`` (by element id) and ``messages`` (by name); each is either a mapping of
    field declarations or a pydantic model class (pii then comes from ``json_schema_extra={"pii": ...}``).

    Raises:
        ProcessDefinitionError: an unknown type, key or pii kind (``entry`` names the field).
    """
    pii: dict[str, str] = {}
    unknown = set(raw) - {"start", "tasks", "messages"}
    if unknown:
        raise ProcessDefinitionError(
            f"schemas for {process_id}: unknown sections {sorted(unknown)}", process_id=process_id
        )

    def build(name: str, spec: Any) -> type[BaseModel]:
        if isinstance(spec, type) and issubclass(spec, BaseModel):
            for field_name, info in spec.model_fields.items():
                extra = info.json_schema_extra
                if isinstance(extra, dict) and isinstance(extra.get("pii"), str):
                    pii[field_name] = str(extra["pii"])
            return spec
        if not isinstance(spec, Mapping):
            raise ProcessDefinitionError(f"schemas for {process_id}.{name} must be a mapping", entry=name)
        fields: dict[str, Any] = {}
        for field_name, decl in spec.items():
            fields[str(field_name)] = _field(process_id, f"{name}.{field_name}", decl, pii, str(field_name))
        model: type[BaseModel] = create_model(
            f"{process_id}_{name}".replace(".", "_"), __base__=_Strict, **fields
        )
        return model

    start = build("start", raw["start"]) if raw.get("start") is not None else None
    tasks = {str(k): build(f"tasks.{k}", v) for k, v in (raw.get("tasks") or {}).items()}
    messages = {str(k): build(f"messages.{k}", v) for k, v in (raw.get("messages") or {}).items()}
    return ProcessSchema(start=start, tasks=tasks, messages=messages, pii=pii)


def _field(process_id: str, entry: str, raw: Any, pii: dict[str, str], name: str) -> Any:
    try:
        decl = FieldDeclaration.model_validate(raw)
    except ValidationError as exc:
        first = validation_problems(exc, prefix=entry)[0]
        raise ProcessDefinitionError(
            f"schemas for {process_id}: {first['entry']}: {first['problem']}",
            entry=first["entry"],
            problem=first["problem"],
            process_id=process_id,
        ) from None
    annotation: Any = _TYPES[decl.type]
    if decl.enum is not None:
        annotation = Literal[tuple(decl.enum)]
    if decl.pii is not None:
        pii[name] = decl.pii
    constraints: dict[str, Any] = {
        key: value
        for key, value in (
            ("pattern", decl.pattern),
            ("min_length", decl.min_length),
            ("max_length", decl.max_length),
            ("ge", decl.minimum),
            ("le", decl.maximum),
        )
        if value is not None
    }
    if decl.required:
        return (annotation, Field(..., **constraints))
    if decl.default is None:
        return (annotation | None, Field(None, **constraints))
    return (annotation, Field(decl.default, **constraints))


def _key(key: object) -> str:
    """A field name as an error shows it (a key of any type: text cut short, anything else by its type)."""
    if isinstance(key, str):
        return repr(key[:40])
    return f"a {type(key).__name__}"
