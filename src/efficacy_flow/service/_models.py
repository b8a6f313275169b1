"""What the routes read and write: request bodies (pydantic, strict, no unknown members) and the engine's
views as JSON through pydantic TypeAdapters (instants in ISO 8601 with their offset)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from efficacy_flow.metrics import AppraisalRow

__all__ = [
    "AppraisalFigures",
    "AssignBody",
    "AttachmentBody",
    "CancelBody",
    "CommentBody",
    "CompleteBody",
    "DelegateBody",
    "ExtendBody",
    "MessageBody",
    "MigrateBody",
    "Page",
    "ProblemDetails",
    "ReasonBody",
    "ReturnBody",
    "StartBody",
    "TransferBody",
    "UrgeBody",
    "dump",
    "figures",
    "page",
]

_BODY = ConfigDict(extra="forbid", strict=True, frozen=True)
_TEXT = Field(min_length=1, max_length=2000)


class StartBody(BaseModel):
    """受理: start a case of a process."""

    model_config = _BODY
    process_id: str = Field(min_length=1, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict)
    business_key: str | None = Field(default=None, min_length=1, max_length=200)


class CompleteBody(BaseModel):
    model_config = _BODY
    data: dict[str, Any] = Field(default_factory=dict)
    expected_version: int | None = Field(default=None, ge=1)


class ReasonBody(BaseModel):
    model_config = _BODY
    reason: str = _TEXT


class CancelBody(BaseModel):
    model_config = _BODY
    reason: str = _TEXT
    duplicate_of: str | None = None


class MigrateBody(BaseModel):
    model_config = _BODY
    to: str = Field(default="latest", min_length=1, max_length=200)
    mapping: dict[str, str] | None = None


class MessageBody(BaseModel):
    model_config = _BODY
    name: str = Field(min_length=1, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)
    correlation: dict[str, str]


class AttachmentBody(BaseModel):
    """A file attached to a comment: its name, where it is, its SHA-256 (64 hex digits)."""

    model_config = _BODY
    name: str = Field(min_length=1, max_length=400)
    uri: str = Field(min_length=1, max_length=2000)
    sha256: str


class CommentBody(BaseModel):
    model_config = _BODY
    text: str = Field(min_length=1, max_length=20000)
    task_id: str | None = None
    attachments: list[AttachmentBody] = Field(default_factory=list)


class AssignBody(BaseModel):
    model_config = _BODY
    assignee: str = Field(min_length=1, max_length=200)


class DelegateBody(BaseModel):
    model_config = _BODY
    to: str = Field(min_length=1, max_length=200)


class TransferBody(BaseModel):
    model_config = _BODY
    reason: str = _TEXT
    to_unit: str | None = None
    to_assignee: str | None = None


class ReturnBody(BaseModel):
    model_config = _BODY
    element_id: str = Field(min_length=1, max_length=200)
    reason: str = _TEXT


class UrgeBody(BaseModel):
    model_config = _BODY
    message: str = _TEXT
    cc: list[str] = Field(default_factory=list)


class ExtendBody(BaseModel):
    model_config = _BODY
    limit: str = Field(min_length=1, max_length=200, examples=["5个工作日"])
    reason: str = _TEXT


class Page(BaseModel):
    """One page of a list: ``next_after`` is what to pass as ``after`` for the next page (null: none)."""

    items: list[Any]
    next_after: str | int | None


class ProblemDetails(BaseModel):
    """An RFC 9457 problem; an error's fields are further members (``errors``, ``task_id``, ...)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


class AppraisalFigures(BaseModel):
    """One group's appraisal counts (``AppraisalRow``) and its rates as fractions in [0, 1] (null: no
    denominator)."""

    key: dict[str, str | None]
    counts: dict[str, int | str]
    rates: dict[str, float | None]


_RATES = (
    "response_rate",
    "closure_rate",
    "on_time_rate",
    "reply_rate",
    "solution_rate",
    "satisfaction_rate",
    "bad_rate",
    "repeat_rate",
)


@functools.cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def dump(cls: type, value: Any) -> Any:
    """A view (or a list of views) of class ``cls`` as JSON-ready values."""
    if isinstance(value, list | tuple):
        return [_adapter(cls).dump_python(v, mode="json") for v in value]
    return _adapter(cls).dump_python(value, mode="json")


def page(cls: type, values: Sequence[Any], limit: int | None, cursor: str = "id") -> dict[str, Any]:
    """A page of views and the cursor of the next one (the last item's ``cursor`` when the page is full)."""
    full = limit is not None and len(values) == limit and values
    return {"items": dump(cls, list(values)), "next_after": getattr(values[-1], cursor) if full else None}


def figures(row: AppraisalRow) -> dict[str, Any]:
    """An appraisal row with its rates."""
    counts = dump(AppraisalRow, row)
    key = counts.pop("key")
    rates = {}
    for name in _RATES:
        rate = getattr(row, name)
        rates[name] = None if rate is None else float(rate)
    return {"key": key, "counts": counts, "rates": rates}
