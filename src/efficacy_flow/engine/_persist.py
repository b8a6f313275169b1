"""Saving a changed workflow with everything derived from it, and the cache of committed workflows.

The engine changes a workflow inside one store transaction and then calls :func:`save`: the state, the task
rows, the deadline rows and the call's audit events are written together. After the commit, the workflow is
kept in a :class:`WorkflowCache` for the next call on the same instance.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from efficacy_flow.engine._definitions import Deployment
from efficacy_flow.engine._rows import Event, audit_record, collect_rows
from efficacy_flow.engine._spiff import dump_state, load_state
from efficacy_flow.store import DeadlineRecord, InstanceRecord, TaskRecord, Transaction

__all__ = ["Previous", "WorkflowCache", "save"]

#: The instance columns a call may set besides those every save writes.
_SETTABLE = frozenset({"status", "suspended_at"})

#: The task and deadline rows a workflow implied when it was last saved.
Previous = tuple[list[TaskRecord], list[DeadlineRecord]]


def save(
    tx: Transaction,
    inst: InstanceRecord,
    workflow: Any,
    events: list[Event],
    now: datetime,
    *,
    by: str | None = None,
    completed_id: str | None = None,
    previous: Previous | None = None,
    new: bool = False,
    **values: Any,
) -> tuple[InstanceRecord, list[TaskRecord]]:
    """Write the workflow and everything derived from it (``previous``: the rows as they were; ``new``: the
    instance row is inserted, at ``inst.version + 1``, instead of updated).

    ``values`` are further instance columns to set (``status``, ``suspended_at``); a completed workflow sets
    ``status`` to ``"completed"`` and appends an ``instance_completed`` event once. Returns the saved row (at
    its new version) and the ready task rows.

    Raises:
        ConcurrentUpdate: the instance is no longer at ``inst.version`` (from the store).
    """
    if not values.keys() <= _SETTABLE:
        raise TypeError(f"save() cannot set {sorted(values.keys() - _SETTABLE)}")
    tasks, deadlines = workflow.ef_rows = collect_rows(inst.id, workflow, now)
    if workflow.completed:
        values["status"] = "completed"
        if inst.status != "completed":
            events = [*events, ("instance_completed", None, None, None)]
    seq, head = inst.audit_seq, inst.audit_head
    records = []
    for event in events:
        record = audit_record(inst.id, seq, head, event, now)
        records.append(record)
        seq, head = record.seq, record.hash
    state = dump_state(workflow)
    version = inst.version + 1
    saved = InstanceRecord(
        id=inst.id,
        process_id=inst.process_id,
        definition_hash=inst.definition_hash,
        business_key=inst.business_key,
        status=values.get("status", inst.status),
        version=version,
        state=state,
        format_version=inst.format_version,
        first_responder=inst.first_responder,
        suspended_at=values.get("suspended_at", inst.suspended_at),
        created_at=inst.created_at,
        updated_at=now,
        audit_seq=seq,
        audit_head=head,
        incident_id=inst.incident_id,
    )
    if new:
        tx.insert_instance(saved)
    else:
        tx.update_instance(
            inst.id,
            inst.version,
            state=state,
            updated_at=now,
            audit_seq=seq,
            audit_head=head,
            **values,
        )
    for record in records:
        tx.append_audit(record)
    tx.sync_tasks(
        inst.id,
        tasks,
        closed_status="cancelled",
        at=now,
        by=by,
        previous=previous[0] if previous is not None else None,
        completed_id=completed_id,
    )
    tx.replace_deadlines(inst.id, deadlines, previous=previous[1] if previous is not None else None)
    return saved, tasks


class WorkflowCache:
    """The ``size`` most recently committed workflows, by instance id (0: none kept)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[int, str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, dep: Deployment, inst: InstanceRecord) -> Any:
        """The instance's workflow at the row's version: the cached one if it is exactly that, else loaded."""
        # A cached workflow is used only when it is exactly the stored version (another engine, or a failed
        # call, leaves the cache stale: then we deserialize). Popping takes ownership: a call that fails
        # never puts a half-changed workflow back.
        with self._lock:
            cached = self._entries.pop(inst.id, None)
        if cached is not None and cached[0] == inst.version and cached[1] == inst.definition_hash:
            workflow = cached[2]
        else:
            workflow = load_state(inst.state, dep.spec, dep.subprocess_specs, dep.script_engine)
        workflow.ef_suspended = inst.status == "suspended"
        return workflow

    def remember(self, inst: InstanceRecord, workflow: Any) -> None:
        """Keep a committed workflow for the next call on the same instance (after the commit only)."""
        if self._size <= 0:
            return
        with self._lock:
            self._entries[inst.id] = (inst.version, inst.definition_hash, workflow)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
