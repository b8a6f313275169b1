"""The outbox: what the engine tells other systems (an SMS gateway, a webhook, the 电子监察 platform).

Every call that changes an instance appends its events to the store's outbox in its own transaction
(the transactional-outbox pattern): an event is there exactly when the change it reports committed. The
events are derived here from what the call saved — the audit events it appended and the ready task rows it
changed — so no call can forget to emit one. Payloads carry ids, element names, units, due times and the
call's own fields (a reason, a message), with phone and ID numbers in free text masked: process data stays
in the engine (a consumer that needs it reads the instance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from efficacy_flow.engine._masking import mask_text
from efficacy_flow.store import OutboxRecord, TaskRecord

__all__ = ["OUTBOX_KINDS", "OutboxRow", "event_fields", "outbox_rows", "payload_of"]

#: An audit event as the engine makes it: (kind, actor, before, after) (engine/_audit.py ``Event``).
Event = tuple[str, str | None, Any, Any]

#: (kind, instance_id, task_id, unit, at, payload JSON): one outbox row before its ``seq`` is given.
OutboxRow = tuple[str, str | None, str | None, str | None, datetime, str]

#: Audit event kind → outbox kind, for the audit events other systems are told of.
_FROM_AUDIT = {
    "started": "instance_started",
    "instance_completed": "instance_completed",
    "cancelled": "cancelled",
    "suspended": "suspended",
    "resumed": "resumed",
    "extended": "extended",
    "timer_fired": "timer_fired",
    "message": "message_received",
    "claimed": "task_assigned",
    "unclaimed": "task_assigned",
    "assigned": "task_assigned",
    "delegated": "task_assigned",
    "delegate_resolved": "task_assigned",
    "transferred": "transferred",
    "returned": "returned",
    "withdrawn": "withdrawn",
    "migrated": "migrated",
    "urged": "urged",
    "commented": "commented",
    "step_failed": "incident",
    "incident_resolved": "incident_resolved",
    "card_issued": "card_issued",
    "card_cleared": "card_cleared",
    # 好差评: a review's upheld 申诉复核 removed these cases' 差评 (engine/_facts.py reviewed_cases).
    "rating_removed": "rating_removed",
}

#: Every kind an outbox event may have.
OUTBOX_KINDS = frozenset({*_FROM_AUDIT.values(), "task_ready", "task_completed", "task_cancelled"})

#: The fields of an audit event's ``after`` an outbox payload keeps (free text masked).
_KEPT = (
    "task_id",
    "element_id",
    "reason",
    "duplicate_of",
    "status_before",
    "limit",
    "due",
    "assignee",
    "previous_assignee",
    "owner",
    "from_unit",
    "to_unit",
    "from_assignee",
    "to_assignee",
    "to_element",
    "message",
    "cc",
    "count",
    "text",
    "cases",
    "attachments",
    "name",
    "incident_id",
    "error",
    "card_id",
    "level",
    "label",
    "deduction",
    "action",
    "escalate_at",
    "referral",
    "source",
)


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _shown(v) for k, v in value.items()}
    return value


def payload_of(actor: str | None, after: Any) -> dict[str, Any]:
    """The payload of an outbox event made from an audit event's actor and ``after``."""
    payload: dict[str, Any] = {"actor": actor}
    if isinstance(after, Mapping):
        for key in _KEPT:
            if key in after:
                payload[key] = _shown(after[key])
    return payload


def _task_payload(row: TaskRecord) -> dict[str, Any]:
    return {
        "element_id": row.element_id,
        "name": row.name,
        "role": row.role,
        "assignee": row.assignee,
        "due_at": row.due_at.isoformat() if row.due_at is not None else None,
    }


def outbox_rows(
    instance_id: str,
    events: Iterable[Event],
    before: Sequence[TaskRecord],
    after: Sequence[TaskRecord],
    now: datetime,
    *,
    completed_id: str | None = None,
    by: str | None = None,
) -> list[OutboxRow]:
    """The outbox rows of one save, in the order things happened: the ready rows it closed
    (``task_completed``, or ``task_cancelled`` when a timer or a cancel closed them), one per reported audit
    event (``timer_fired``, ``instance_completed``, ...), then the rows that became ready (``task_ready``)."""
    rows: list[OutboxRow] = []
    dumps = orjson.dumps
    ready = {row.id for row in after} if before else ()
    for row in before:
        if row.id not in ready:
            closed = "task_completed" if row.id == completed_id else "task_cancelled"
            closing = {**_task_payload(row), "by": by if closed == "task_completed" else None}
            rows.append((closed, instance_id, row.id, row.unit, now, dumps(closing).decode()))
    for kind, actor, _before, details in events:
        mapped = _FROM_AUDIT.get(kind)
        if mapped is None:
            continue
        task_id = details.get("task_id") if isinstance(details, Mapping) else None
        task = task_id if isinstance(task_id, str) else None
        unit = next((r.unit for r in (*before, *after) if r.id == task), None) if task else None
        if unit is None and isinstance(details, Mapping) and isinstance(details.get("unit"), str):
            unit = details["unit"]  # a card about a subprocess or the whole case names its unit itself
        rows.append((mapped, instance_id, task, unit, now, dumps(payload_of(actor, details)).decode()))
    known = {row.id for row in before} if after else ()
    for row in after:
        if row.id not in known:
            rows.append(
                ("task_ready", instance_id, row.id, row.unit, now, dumps(_task_payload(row)).decode())
            )
    return rows


def event_fields(record: OutboxRecord) -> dict[str, Any]:
    """The fields of the public view of an outbox record (its payload decoded)."""
    return {
        "seq": record.seq,
        "kind": record.kind,
        "instance_id": record.instance_id,
        "task_id": record.task_id,
        "unit": record.unit,
        "at": record.at,
        "payload": orjson.loads(record.payload),
    }
