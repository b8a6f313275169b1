"""Rows, views and small helpers the engine derives from a workflow (kept apart to keep _engine.py short).

Everything the store holds besides the saved state (task rows, deadline rows, audit records) is derived from
the workflow by :func:`collect_rows`; issue 7's consistency checker compares exactly these with stored rows.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.calendar import MINUTES, WORKING_DAYS, TimeLimit
from efficacy_flow.engine._history import canonical, chain_hash
from efficacy_flow.engine._listing import row_fields
from efficacy_flow.engine._schemas import mask_value
from efficacy_flow.engine._spiff import (
    KIND,
    READY_AT,
    REMAINING,
    UNIT,
    all_tasks,
    is_timer,
)
from efficacy_flow.engine._views import Actor, AuditEvent, InstanceView, TaskView
from efficacy_flow.errors import (
    EfficacyFlowError,
    InvalidInput,
    InvalidState,
    NotAuthorized,
    ProcessDefinitionError,
    UnknownInstance,
)
from efficacy_flow.store import AuditRecord, DeadlineRecord, InstanceRecord, Reader, TaskRecord, Transaction

__all__ = [
    "Event",
    "attached_id",
    "audit_record",
    "audit_view",
    "authorize",
    "collect_rows",
    "correlate",
    "instance_row",
    "instance_view",
    "iso",
    "mask_history",
    "previous_rows",
    "ready_task",
    "spiff_errors",
    "task_view",
]

#: An audit event before it is chained: kind, actor, before, after.
Event = tuple[str, str | None, Any, Any]

#: The states of the tasks whose data is the instance's process data.
_OPEN = TaskState.READY | TaskState.WAITING


def instance_row(tx: Reader, instance_id: str) -> InstanceRecord:
    """The instance row, locked for update in a write transaction (PostgreSQL); UnknownInstance if absent."""
    if isinstance(tx, Transaction):
        inst = tx.get_instance(instance_id, lock=True)
    else:
        inst = tx.get_instance(instance_id)
    if inst is None:
        raise UnknownInstance(f"no instance {instance_id!r}", instance_id=instance_id)
    return inst


def correlate(tx: Transaction, correlation: Mapping[str, Any]) -> InstanceRecord:
    """The one active instance a message correlation (``instance_id`` or ``business_key``) names."""
    if correlation.get("instance_id"):
        inst = instance_row(tx, str(correlation["instance_id"]))
    elif correlation.get("business_key"):
        key = str(correlation["business_key"])
        rows = [tx.get_instance(i, lock=True) for i in tx.instance_ids_by_business_key(key)]
        active = [r for r in rows if r is not None and r.status != "completed"]
        if not active:
            raise UnknownInstance(f"no open instance with business key {key!r}", business_key=key)
        if len(active) > 1:
            raise InvalidState(f"{len(active)} open instances share business key {key!r}", business_key=key)
        inst = active[0]
    else:
        raise InvalidInput("a correlation needs instance_id or business_key", correlation=dict(correlation))
    if inst.status != "active":
        raise InvalidState(f"instance {inst.id} is {inst.status}", instance_id=inst.id)
    return inst


def audit_record(instance_id: str, seq: int, head: str, event: Event, now: datetime) -> AuditRecord:
    """The next audit record of the chain after (``seq``, ``head``)."""
    kind, actor, before, after = event
    before_text = canonical(before) if before is not None else None
    after_text = canonical(after) if after is not None else None
    digest = chain_hash(head, instance_id, seq + 1, now, actor, kind, before_text, after_text)
    return AuditRecord(instance_id, seq + 1, now, actor, kind, before_text, after_text, head, digest)


def collect_rows(
    instance_id: str, workflow: Any, now: datetime
) -> tuple[list[TaskRecord], list[DeadlineRecord]]:
    """The ready-task and deadline rows a workflow implies (stamps ``ready_at``/``unit`` on new tasks).

    The ready tasks are also kept on the workflow by id (``ef_ready``, see :func:`ready_task`), and its open
    tasks in order (``ef_open``, see :func:`instance_view`).
    """
    suspended = bool(getattr(workflow, "ef_suspended", False))
    # One pass: the open tasks, among them the waiting timers and the ready user tasks.
    opened, timers, ready = [], [], []
    for task in all_tasks(workflow):
        state = task._state
        if state & _OPEN:
            opened.append(task)
            if state == TaskState.READY:
                if task.task_spec.manual:
                    ready.append(task)
            elif is_timer(task):
                timers.append(task)
    workflow.ef_open = opened
    deadlines = []
    for timer in timers:
        internal = timer.internal_data
        value = internal.get("event_value")
        deadlines.append(
            DeadlineRecord(
                id=str(timer.id),
                instance_id=instance_id,
                task_id=attached_id(timer),
                element_id=timer.task_spec.bpmn_id,
                kind=internal.get(KIND, "elapsed"),
                interrupting=bool(getattr(timer.task_spec, "cancel_activity", True)),
                due_at=None if suspended or value is None else datetime.fromisoformat(value),
                remaining=_time_limit(internal.get(REMAINING)) if suspended else None,
            )
        )
    tasks = []
    by_id = {}
    for task in ready:
        internal = task.internal_data
        if READY_AT not in internal:
            internal[READY_AT] = now.isoformat()
            unit = task.data.get("unit")
            internal[UNIT] = str(unit) if unit is not None else None
        task_id = str(task.id)
        by_id[task_id] = task
        dues = [d.due_at for d in deadlines if d.task_id == task_id and d.interrupting and d.due_at]
        spec = task.task_spec
        tasks.append(
            TaskRecord(
                id=task_id,
                instance_id=instance_id,
                element_id=spec.bpmn_id,
                name=spec.bpmn_name or spec.bpmn_id,
                role=spec.lane,
                unit=internal[UNIT],
                status="ready",
                ready_at=datetime.fromisoformat(internal[READY_AT]),
                due_at=min(dues) if dues else None,
            )
        )
    workflow.ef_ready = by_id
    return tasks, deadlines


def _time_limit(remaining: str | None) -> TimeLimit | None:
    """The timer's remaining-time text as a TimeLimit: "wd:N" → N working days, "s:N" → ceil(N/60) minutes
    (the store's schema-2 upgrade converts stored rows the same way)."""
    if remaining is None:
        return None
    unit, _, amount = remaining.partition(":")
    if unit == "wd":
        return TimeLimit(int(amount), WORKING_DAYS)
    return TimeLimit(math.ceil(int(amount) / 60), MINUTES)


def ready_task(workflow: Any, task_id: str) -> Any:
    """The workflow's task ``task_id`` (None if it has none): from the ready tasks :func:`collect_rows` kept
    when the workflow was last saved, else SpiffWorkflow's lookup.

    The kept map is exact for a cached workflow: it is cached only after the save that collected it
    committed, and a call that changes it and fails drops it (engine/_persist.py). A task found there is
    still checked to be ready by the caller, like any other.
    """
    kept: dict[str, Any] | None = getattr(workflow, "ef_ready", None)
    task = kept.get(task_id) if kept is not None else None
    if task is None:
        try:
            task = workflow.get_task_from_id(uuid.UUID(task_id))
        except (TaskNotFoundException, ValueError):
            return None
    return task


def previous_rows(
    instance_id: str, workflow: Any, now: datetime
) -> tuple[list[TaskRecord], list[DeadlineRecord]]:
    """The rows a workflow implied when it was last saved, before a call changes it.

    The engine's save keeps them on the workflow (``ef_rows``); a workflow is cached only after its save
    committed, and dropped by a call that fails, so on a cache hit they are exactly what collecting now would
    give (every ready task already carries its ``ready_at``). A freshly loaded workflow has none: collected.
    """
    rows: tuple[list[TaskRecord], list[DeadlineRecord]] | None = getattr(workflow, "ef_rows", None)
    return rows if rows is not None else collect_rows(instance_id, workflow, now)


def instance_view(inst: InstanceRecord, workflow: Any, ready: list[TaskRecord]) -> InstanceView:
    """The public view of an instance: its row, its process data and its ready tasks.

    ``ready`` and the workflow's open tasks are those :func:`collect_rows` found when the workflow was last
    collected (the engine views a workflow only as saved, or as loaded and collected); a workflow never
    collected is scanned here.
    """
    opened: list[Any] | None = getattr(workflow, "ef_open", None)
    if opened is None:
        opened = [task for task in all_tasks(workflow) if task._state & _OPEN]
    data: dict[str, Any] = {}
    # The process data: what the open tasks see (branches merged), or the last step's data once finished.
    for task in opened:
        data.update(task.data)
    if not opened and workflow.last_task is not None:
        data.update(workflow.last_task.data)
    return InstanceView(**row_fields(inst), data=data, tasks=tuple([task_view(t) for t in ready]))


class spiff_errors:  # lower case: used like the function-style context manager it replaced
    """Translate SpiffWorkflow's errors at the seam; the caller's transaction then rolls back.

    A class rather than a generator context manager: it runs around every engine step, and a generator's
    frame costs about a microsecond per call.
    """

    __slots__ = ("process_id",)

    def __init__(self, process_id: str) -> None:
        self.process_id = process_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, EfficacyFlowError) or not isinstance(exc, SpiffWorkflowException):
            return  # nothing raised, or not SpiffWorkflow's: propagates unchanged
        task = getattr(exc, "task", None)
        spec = getattr(exc, "task_spec", None) or getattr(task, "task_spec", None)
        element_id = getattr(spec, "bpmn_id", None)
        raise ProcessDefinitionError(
            f"process {self.process_id} failed at {element_id}: {exc}",
            process_id=self.process_id,
            element_id=element_id,
        ) from exc


def iso(value: datetime | None) -> str | None:
    """ISO-8601 text of an instant, or None."""
    return value.isoformat() if value is not None else None


def attached_id(timer: Any) -> str | None:
    """The id of the task a boundary timer is attached to (None for other timers)."""
    parent = timer.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    for sibling in parent.children:
        if sibling is not timer and not isinstance(sibling.task_spec, BoundaryEvent):
            return str(sibling.id)
    return None


def authorize(actor: Actor, row: TaskRecord) -> None:
    """Raise NotAuthorized unless the actor holds the task's role and, if it has a unit, the task's unit."""
    if row.role is not None and row.role not in actor.roles:
        raise NotAuthorized(
            f"{actor.id} lacks role {row.role!r} for task {row.id}",
            actor_id=actor.id,
            required_role=row.role,
            task_id=row.id,
        )
    if actor.unit is not None and row.unit is not None and actor.unit != row.unit:
        raise NotAuthorized(
            f"{actor.id} of unit {actor.unit!r} cannot complete a task of unit {row.unit!r}",
            actor_id=actor.id,
            unit=actor.unit,
            task_unit=row.unit,
            task_id=row.id,
        )


def task_view(row: TaskRecord) -> TaskView:
    """The public view of a task row."""
    return TaskView(
        id=row.id,
        instance_id=row.instance_id,
        element_id=row.element_id,
        name=row.name,
        role=row.role,
        unit=row.unit,
        ready_at=row.ready_at,
        due_at=row.due_at,
    )


def audit_view(record: AuditRecord, pii: Mapping[str, str] | None) -> AuditEvent:
    """The public view of an audit record, masked by ``pii`` (None: unmasked)."""

    def shown(text: str | None) -> Any:
        if text is None:
            return None
        value = json.loads(text)
        return value if pii is None else mask_history(value, pii)

    return AuditEvent(
        instance_id=record.instance_id,
        seq=record.seq,
        at=record.at,
        actor=record.actor,
        kind=record.kind,
        before=shown(record.before),
        after=shown(record.after),
        hash=record.hash,
    )


def mask_history(value: Any, pii: Mapping[str, str]) -> Any:
    """Mask schema-declared pii fields by kind, and phone/ID numbers anywhere else."""
    if isinstance(value, dict):
        return {k: mask_value(v, pii[k]) if k in pii else mask_history(v, pii) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_history(v, pii) for v in value]
    return mask_value(value)
