"""Saving a changed workflow with everything derived from it, in the call's transaction.

The engine changes a workflow inside one store transaction and then calls :func:`save`: the state, the task
rows, the deadline rows and the call's audit events are written together, after the limits of
:class:`~efficacy_flow.engine._settings.Limits` are checked (nothing is written when one is exceeded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from efficacy_flow.engine._audit import Event, audit_record
from efficacy_flow.engine._definitions import Deployment
from efficacy_flow.engine._facts import facts_of, reviewed_cases
from efficacy_flow.engine._ladder import clear_cards
from efficacy_flow.engine._outbox import outbox_rows
from efficacy_flow.engine._settings import Limits
from efficacy_flow.engine._task_rows import Rows, rows_of
from efficacy_flow.engine.runtime import STATE_FORMAT_VERSION, Workflow
from efficacy_flow.errors import InvalidData
from efficacy_flow.store import CLOSED_STATUSES, AuditRecord, InstanceRecord, Transaction

__all__ = ["Saved", "chain", "save"]

#: The instance columns a call may set besides those every save writes.
_SETTABLE = frozenset({"status", "suspended_at", "incident_id", "format_version", "definition_hash"})


@dataclass(frozen=True, slots=True)
class Saved:
    """What a save wrote: the instance row at its new version, its rows, and its process data as JSON."""

    record: InstanceRecord
    rows: Rows
    data: bytes


def chain(
    inst: InstanceRecord, events: list[Event], now: datetime, limits: Limits
) -> tuple[list[AuditRecord], int, str]:
    """The audit records of ``events`` after the instance's head, and the new head (sequence, hash).

    Raises:
        InvalidData: an event records more than ``limits.event_bytes``.
    """
    seq, head = inst.audit_seq, inst.audit_head
    records = []
    for event in events:
        record = audit_record(inst.id, seq, head, event, now)
        size = len(record.before or "") + len(record.after or "")
        if size > limits.event_bytes:
            raise _too_large(
                inst, f"the {record.kind} event would record {size} characters", limits.event_bytes
            )
        records.append(record)
        seq, head = record.seq, record.hash
    return records, seq, head


def save(
    tx: Transaction,
    inst: InstanceRecord,
    workflow: Workflow,
    events: list[Event],
    now: datetime,
    limits: Limits,
    *,
    by: str | None = None,
    completed_id: str | None = None,
    previous: Rows | None = None,
    new: bool = False,
    dep: Deployment | None = None,
    **values: object,
) -> Saved:
    """Write the workflow and everything derived from it (``previous``: the rows as they were; ``new``: the
    instance row is inserted, at ``inst.version + 1``, instead of updated).

    ``values`` are further instance columns to set (``status``, ``suspended_at``, ``incident_id``); a
    completed workflow sets ``status`` to ``"completed"`` and appends an ``instance_completed`` event once
    (unless the call cancels it: ``status="cancelled"``). With the instance's deployment ``dep``: when its
    definition has a ladder (电子监察) the deadline rows include each laddered timer's next step and the cards
    the save settles are cleared (the completed task's element, or all when the case ends; engine/_ladder.py);
    when it is a case the appraisal figures count, its facts row is kept (engine/_facts.py).

    Raises:
        InvalidData: the process data is larger than ``limits.data_bytes`` (or an event than
            ``limits.event_bytes``); nothing is written.
        ConcurrentUpdate: the instance is no longer at ``inst.version`` (from the store).
    """
    if not values.keys() <= _SETTABLE:
        raise TypeError(f"save() cannot set {sorted(values.keys() - _SETTABLE)}")
    ladder = dep.ladder if dep is not None else None
    facts = dep.facts if dep is not None else None
    data = workflow.data_json()
    if len(data) > limits.data_bytes:
        raise _too_large(inst, f"the process data would be {len(data)} bytes", limits.data_bytes)
    snapshot = workflow.snapshot(now)
    incident_id = values.get("incident_id", inst.incident_id)
    rows = rows_of(
        inst.id,
        snapshot,
        suspended=workflow.suspended,
        incident_id=incident_id if isinstance(incident_id, str) else None,
        ladder=ladder,
    )
    removing: list[str] = []
    if snapshot.completed and values.get("status") != "cancelled":
        values["status"] = "completed"
        if inst.status != "completed":
            events = [*events, ("instance_completed", None, None, None)]
            review = dep.review if dep is not None else None
            if review is not None:  # 申诉复核 upheld: the rated case's 差评 leaves 参评 and 差评
                removing = reviewed_cases(review, tx, inst, data)
                if removing:
                    events = [*events, ("rating_removed", None, None, {"cases": removing})]
    if ladder is not None and not new:
        ended = values.get("status") in CLOSED_STATUSES and inst.status not in CLOSED_STATUSES
        element = None
        if completed_id is not None and previous is not None:
            element = next((t.element_id for t in previous.tasks if t.id == completed_id), None)
        events = [*events, *clear_cards(tx, ladder, inst.id, element, ended, now)]
    records, seq, head = chain(inst, events, now, limits)
    state = workflow.dump()
    status = values.get("status", inst.status)
    suspended_at = values.get("suspended_at", inst.suspended_at)
    record = InstanceRecord(
        id=inst.id,
        process_id=inst.process_id,
        definition_hash=str(values.get("definition_hash", inst.definition_hash)),
        business_key=inst.business_key,
        status=str(status),
        version=inst.version + 1,
        state=state,
        format_version=STATE_FORMAT_VERSION,
        first_responder=inst.first_responder,
        suspended_at=suspended_at if isinstance(suspended_at, datetime) else None,
        created_at=inst.created_at,
        updated_at=now,
        audit_seq=seq,
        audit_head=head,
        incident_id=incident_id if isinstance(incident_id, str) else None,
    )
    if new:
        tx.insert_instance(record)
        previous = Rows([], [])  # a new instance has no rows yet: nothing to read back
    else:
        if inst.format_version != STATE_FORMAT_VERSION:
            values["format_version"] = STATE_FORMAT_VERSION  # a state of an earlier format, written anew
        tx.update_instance(
            inst.id, inst.version, state=state, updated_at=now, audit_seq=seq, audit_head=head, **values
        )
    for audit in records:
        tx.append_audit(audit)
    before = previous.tasks if previous is not None else tx.ready_tasks(instance_id=inst.id)
    tx.sync_tasks(
        inst.id,
        rows.tasks,
        closed_status="cancelled",
        at=now,
        by=by,
        previous=before,
        completed_id=completed_id,
    )
    tx.replace_deadlines(
        inst.id, rows.deadlines, previous=previous.deadlines if previous is not None else None
    )
    if facts is not None:
        tx.save_case_facts(facts_of(facts, inst, str(status), data, events, before, completed_id, now))
    if removing:
        tx.remove_ratings(removing, now)
    # Last: on PostgreSQL taking the outbox's numbers queues the writers from here to their commit.
    tx.append_outbox(outbox_rows(inst.id, events, before, rows.tasks, now, completed_id=completed_id, by=by))
    return Saved(record, rows, data)


def _too_large(inst: InstanceRecord, what: str, limit: int) -> InvalidData:
    return InvalidData(
        f"instance {inst.id}: {what}, over the limit of {limit} (Limits)",
        errors=[{"field": "", "problem": f"over {limit} bytes"}],
        instance_id=inst.id,
        limit=limit,
    )
