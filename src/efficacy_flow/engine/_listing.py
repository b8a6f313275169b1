"""A cheap listing of instances: their rows only, no workflow deserialized."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from efficacy_flow.engine._views import InstanceSummary
from efficacy_flow.store import InstanceRecord

__all__ = ["row_fields", "summary"]


#: The instance row's columns a summary (and an ``InstanceView``) shows.
_SHOWN = tuple(f.name for f in fields(InstanceSummary))


def row_fields(record: InstanceRecord) -> dict[str, Any]:
    """The shown columns of an instance row, by field name (shared with ``InstanceView``)."""
    return {name: getattr(record, name) for name in _SHOWN}


def summary(record: InstanceRecord) -> InstanceSummary:
    """The summary of an instance row."""
    return InstanceSummary(**row_fields(record))
