"""Durable state for the engine: SQLite by default, PostgreSQL for scale, one contract for both.

The store knows nothing of BPMN: it keeps definitions (by content hash), instances (saved state and an
optimistic ``version``), task rows, deadline rows (indexed by due time), audit events, counters,
incidents, the outbox and the cards of electronic supervision. Reads run in :meth:`Store.read` (a
:class:`Reader`, which never waits for a writer), writes in :meth:`Store.transaction` (a
:class:`Transaction`).
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.store._reader import Reader
from efficacy_flow.store._records import (
    AppraisalCounts,
    AuditRecord,
    CardRecord,
    CaseFactsRecord,
    CommitToken,
    DeadlineRecord,
    IdempotencyRecord,
    IncidentRecord,
    InstanceRecord,
    OutboxRecord,
    TaskRecord,
)
from efficacy_flow.store._schema import CLOSED_STATUSES
from efficacy_flow.store._store import Durability, Store
from efficacy_flow.store._transaction import Transaction

__all__ = [
    "CLOSED_STATUSES",
    "AppraisalCounts",
    "AuditRecord",
    "CardRecord",
    "CaseFactsRecord",
    "CommitToken",
    "DeadlineRecord",
    "Durability",
    "IdempotencyRecord",
    "IncidentRecord",
    "InstanceRecord",
    "OutboxRecord",
    "Reader",
    "Store",
    "TaskRecord",
    "Transaction",
]

_public.publish(globals())
