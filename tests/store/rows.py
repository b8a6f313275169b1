"""Records with plausible values for the store tests: ``instance("i1", status="suspended")`` and the like."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.store import DeadlineRecord, IncidentRecord, InstanceRecord, TaskRecord

#: Friday 2025-09-26 10:00 in Beijing (with microseconds: they must survive the store too).
T0 = datetime(2025, 9, 26, 10, 0, 0, 123456, tzinfo=CHINA_TZ)

R = TypeVar("R")


def _made(record: type[R], defaults: dict[str, Any], overrides: dict[str, Any]) -> R:
    return record(**{**defaults, **overrides})


def instance(instance_id: str = "i1", **overrides: Any) -> InstanceRecord:
    """An active instance row at version 1."""
    defaults = {
        "id": instance_id,
        "process_id": "p",
        "definition_hash": "h" * 64,
        "business_key": None,
        "status": "active",
        "version": 1,
        "state": b"state",
        "format_version": 1,
        "first_responder": "op",
        "suspended_at": None,
        "created_at": T0,
        "updated_at": T0,
        "audit_seq": 0,
        "audit_head": "0" * 64,
    }
    return _made(InstanceRecord, defaults, overrides)


def task(task_id: str, instance_id: str = "i1", **overrides: Any) -> TaskRecord:
    """A ready task of 市住建局, due three days after it became ready."""
    defaults = {
        "id": task_id,
        "instance_id": instance_id,
        "element_id": "Task_A",
        "name": "办理",
        "role": "承办单位",
        "unit": "市住建局",
        "status": "ready",
        "ready_at": T0,
        "due_at": T0 + timedelta(days=3),
    }
    return _made(TaskRecord, defaults, overrides)


def deadline(deadline_id: str, instance_id: str, due: datetime | None, **overrides: Any) -> DeadlineRecord:
    """A pending, interrupting working-day timer due at ``due`` (None: suspended)."""
    defaults = {
        "id": deadline_id,
        "instance_id": instance_id,
        "task_id": None,
        "element_id": "Timer",
        "kind": "working_days",
        "interrupting": True,
        "due_at": due,
    }
    return _made(DeadlineRecord, defaults, overrides)


def incident(incident_id: str, instance_id: str, **overrides: Any) -> IncidentRecord:
    """A timer incident retrying a minute after it was recorded."""
    defaults = {
        "id": incident_id,
        "instance_id": instance_id,
        "element_id": "Timer_Limit",
        "kind": "timer",
        "status": "retrying",
        "error": "ScriptError",
        "message": "name 'x' is not defined",
        "attempts": 1,
        "payload": None,
        "next_attempt_at": T0 + timedelta(minutes=1),
        "created_at": T0,
        "updated_at": T0,
    }
    return _made(IncidentRecord, defaults, overrides)
