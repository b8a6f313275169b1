"""Failed steps: retried with backoff, then parked as incidents for an operator (Camunda 7's failed jobs).

A step that fails inside ``tick()`` (firing an instance's due timers) or ``message()`` (running a delivered
message on) is rolled back with everything it changed. Then, in a transaction of its own, the failure is
recorded (:func:`record_failure`): an ``ef_incidents`` row — ``retrying`` with its next attempt time while the
:class:`~efficacy_flow.engine._settings.RetryPolicy` allows more attempts, ``open`` once it does not —, the
instance's ``incident_id``, its deadline rows parked (``tick()`` claims none of them until the incident is
resolved: an instance with a failing step fires no timer meanwhile), and a ``step_failed`` audit event.
``tick()`` runs each due attempt again; an operator runs an open incident again with ``retry_incident`` after
repairing the data or the definition; a successful attempt resolves it (:func:`resolved`) and audits
``incident_resolved``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from efficacy_flow.engine._audit import Event, append_event
from efficacy_flow.engine._masking import mask_value
from efficacy_flow.engine._settings import RetryPolicy
from efficacy_flow.engine._views import Incident
from efficacy_flow.errors import EfficacyFlowError
from efficacy_flow.store import IncidentRecord, InstanceRecord, Transaction

__all__ = ["incident_view", "record_failure", "resolved"]

#: How much of an error's message an incident keeps (it is for an operator to read, not a dump).
_MESSAGE_LIMIT = 2000


def _describe(error: BaseException) -> tuple[str, str, str | None]:
    """An error's class name, masked message and element (where it names one)."""
    element = error.fields.get("element_id") if isinstance(error, EfficacyFlowError) else None
    text = str(mask_value(str(error)))[:_MESSAGE_LIMIT]
    return type(error).__name__, text, str(element) if element is not None else None


def record_failure(
    tx: Transaction,
    inst: InstanceRecord,
    kind: str,
    error: BaseException,
    now: datetime,
    policy: RetryPolicy,
    *,
    previous: IncidentRecord | None = None,
    payload: str | None = None,
    keep_open: bool = False,
) -> IncidentRecord:
    """Record that a step of ``inst`` failed with ``error`` (``previous``: the incident whose attempt this
    was).

    ``keep_open``: an operator's attempt failed; the incident stays open (no automatic attempt follows).
    """
    name, message, element = _describe(error)
    attempts = previous.attempts + 1 if previous is not None else 1
    wait = None if keep_open else policy.wait_after(attempts)
    status = "open" if wait is None else "retrying"
    next_attempt = None if wait is None else now + wait
    if previous is None:
        record = IncidentRecord(
            id=str(uuid.uuid4()),
            instance_id=inst.id,
            element_id=element,
            kind=kind,
            status=status,
            error=name,
            message=message,
            attempts=attempts,
            payload=payload,
            next_attempt_at=next_attempt,
            created_at=now,
            updated_at=now,
        )
        tx.insert_incident(record)
    else:
        changes: dict[str, Any] = {
            "element_id": element or previous.element_id,
            "status": status,
            "error": name,
            "message": message,
            "attempts": attempts,
            "next_attempt_at": next_attempt,
            "updated_at": now,
            "claimed_by": None,
            "lease_until": None,
        }
        record = replace(previous, **changes)
        tx.update_incident(record.id, **changes)
    incident_id = inst.incident_id or record.id
    if inst.incident_id is None:
        tx.set_instance_incident(inst.id, incident_id)
    tx.park_deadlines(inst.id, incident_id)
    event: Event = (
        "step_failed",
        None,
        None,
        {
            "incident_id": record.id,
            "kind": kind,
            "element_id": record.element_id,
            "error": name,
            "message": message,
            "attempt": attempts,
            "status": status,
            "next_attempt_at": next_attempt.isoformat() if next_attempt is not None else None,
        },
    )
    append_event(tx, inst, event, now)
    return record


def resolved(tx: Transaction, incident: IncidentRecord, now: datetime, by: str | None) -> Event:
    """Mark ``incident`` resolved (its step has just succeeded in this transaction); the audit event to
    add."""
    tx.update_incident(
        incident.id, status="resolved", resolved_at=now, resolved_by=by, updated_at=now, claimed_by=None
    )
    return ("incident_resolved", by, None, {"incident_id": incident.id, "attempts": incident.attempts})


def incident_view(record: IncidentRecord) -> Incident:
    """The public view of an incident row."""
    return Incident(
        id=record.id,
        instance_id=record.instance_id,
        element_id=record.element_id,
        error=record.error,
        message=record.message,
        attempts=record.attempts,
        created_at=record.created_at,
        kind=record.kind,
        status=record.status,
        next_attempt_at=record.next_attempt_at,
        updated_at=record.updated_at,
    )
