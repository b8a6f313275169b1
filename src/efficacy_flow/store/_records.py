"""Rows as named, frozen records (the store's vocabulary; it knows nothing of BPMN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from efficacy_flow.calendar import TimeLimit

__all__ = ["AuditRecord", "DeadlineRecord", "IncidentRecord", "InstanceRecord", "TaskRecord"]


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """One process instance: its saved workflow state and bookkeeping."""

    id: str
    process_id: str
    definition_hash: str
    business_key: str | None
    status: str
    version: int
    state: bytes
    format_version: int
    first_responder: str
    suspended_at: datetime | None
    created_at: datetime
    updated_at: datetime
    audit_seq: int
    audit_head: str
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A user task: ``status`` is ``ready``, ``completed`` or ``cancelled``."""

    id: str
    instance_id: str
    element_id: str
    name: str
    role: str | None
    unit: str | None
    status: str
    ready_at: datetime
    due_at: datetime | None
    closed_at: datetime | None = None
    closed_by: str | None = None


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    """A pending timer.

    ``due_at`` is None while the instance is suspended; ``remaining`` then holds the working time that was
    left
    (``"wd:3"`` working days or ``"s:7200"`` seconds). ``task_id`` is the user task the timer is attached to.
    """

    id: str
    instance_id: str
    task_id: str | None
    element_id: str
    kind: str
    interrupting: bool
    due_at: datetime | None
    remaining: TimeLimit | None = None
    fired_at: datetime | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit event; ``before``/``after`` are canonical JSON text."""

    instance_id: str
    seq: int
    at: datetime
    actor: str | None
    kind: str
    before: str | None
    after: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A step that failed: retried (``status`` ``"retrying"``), waiting for an operator (``"open"``) or done
    (``"resolved"``). ``kind`` is ``"timer"`` or ``"message"``; ``payload`` a message job's JSON text."""

    id: str
    instance_id: str
    element_id: str | None
    kind: str
    status: str
    error: str
    message: str
    attempts: int
    payload: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None
