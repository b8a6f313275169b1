"""Data schemas (processes/schemas.yaml, conventions §9) as pydantic models, and masking of personal data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from efficacy_flow.errors import InvalidData, ProcessDefinitionError

__all__ = ["ProcessSchema", "mask_value", "schema_from_mapping"]

_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "date": date,
    "datetime": datetime,
}
_KEYS = {
    "type",
    "required",
    "default",
    "enum",
    "pattern",
    "min_length",
    "max_length",
    "minimum",
    "maximum",
    "pii",
}
PII_KINDS = ("phone", "id_number", "name")

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


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


def _field(process_id: str, entry: str, decl: Any, pii: dict[str, str], name: str) -> Any:
    def bad(problem: str) -> ProcessDefinitionError:
        return ProcessDefinitionError(f"schemas for {process_id}: {entry}: {problem}", entry=entry)

    if not isinstance(decl, Mapping):
        raise bad("a field declaration must be a mapping")
    unknown = set(decl) - _KEYS
    if unknown:
        raise bad(f"unknown keys {sorted(unknown)}")
    type_name = decl.get("type", "string")
    if type_name not in _TYPES:
        raise bad(f"unknown type {type_name!r}")
    annotation: Any = _TYPES[type_name]
    if decl.get("enum") is not None:
        annotation = Literal[tuple(decl["enum"])]
    if decl.get("pii") is not None:
        if decl["pii"] not in PII_KINDS:
            raise bad(f"unknown pii kind {decl['pii']!r} (known: {', '.join(PII_KINDS)})")
        pii[name] = str(decl["pii"])
    constraints = {
        key: decl[key] for key in ("pattern", "min_length", "max_length") if decl.get(key) is not None
    }
    if decl.get("minimum") is not None:
        constraints["ge"] = decl["minimum"]
    if decl.get("maximum") is not None:
        constraints["le"] = decl["maximum"]
    if decl.get("required"):
        return (annotation, Field(..., **constraints))
    default = decl.get("default")
    if default is None:
        return (annotation | None, Field(None, **constraints))
    return (annotation, Field(default, **constraints))


def mask_value(value: Any, kind: str | None = None) -> Any:
    """Mask personal data: phone 138****5678, ID number 110105********1234, name 张**.

    With ``kind`` the whole value is treated as that kind; without, phone and ID numbers found inside
    strings are
    masked (a safety net for free text), recursively through lists and mappings.
    """
    if isinstance(value, Mapping):
        return {k: mask_value(v, kind) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, kind) for v in value]
    if not isinstance(value, str):
        return value
    if kind == "name":
        return value[:1] + "*" * (len(value) - 1)
    if kind == "phone" and len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if kind == "id_number" and len(value) >= 10:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    masked = _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), value)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), masked)


def _key(key: object) -> str:
    """A field name as an error shows it (a key of any type: text cut short, anything else by its type)."""
    if isinstance(key, str):
        return repr(key[:40])
    return f"a {type(key).__name__}"
