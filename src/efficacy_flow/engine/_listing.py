"""A cheap listing of instances: their rows only, no workflow deserialized."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from efficacy_flow.store import InstanceRecord

__all__ = ["InstanceSummary", "row_fields", "summary"]


@dataclass(frozen=True, slots=True)
class InstanceSummary:
    """An instance as its row stores it: what :meth:`Engine.instances` lists.

    Lighter than :class:`InstanceView`: no process ``data`` and no ready ``tasks`` (those need the workflow;
    call :meth:`Engine.instance` or :meth:`Engine.tasks` for one instance).
    """

    id: str
    process_id: str
    status: str
    version: int
    business_key: str | None
    first_responder: str
    definition_hash: str
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None


#: The instance row's columns a summary (and an ``InstanceView``) shows.
_SHOWN = tuple(f.name for f in fields(InstanceSummary))


def row_fields(record: InstanceRecord) -> dict[str, Any]:
    """The shown columns of an instance row, by field name (shared with ``InstanceView``)."""
    return {name: getattr(record, name) for name in _SHOWN}


def summary(record: InstanceRecord) -> InstanceSummary:
    """The summary of an instance row."""
    return InstanceSummary(**row_fields(record))
