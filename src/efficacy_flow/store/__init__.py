"""Durable state for the engine: SQLite by default, PostgreSQL for scale, one contract for both.

The store knows nothing of BPMN: it keeps definitions (by content hash), instances (saved state and an
optimistic ``version``), task rows, deadline rows (indexed by due time) and audit events.
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.store._records import (
    AuditRecord,
    DeadlineRecord,
    IncidentRecord,
    InstanceRecord,
    TaskRecord,
)
from efficacy_flow.store._store import Durability, Reader, Store, Transaction

__all__ = [
    "AuditRecord",
    "DeadlineRecord",
    "Durability",
    "IncidentRecord",
    "InstanceRecord",
    "Reader",
    "Store",
    "TaskRecord",
    "Transaction",
]

_public.publish(globals())
