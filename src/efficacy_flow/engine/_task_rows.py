"""The task and deadline rows an instance's snapshot implies.

Everything the store holds besides the saved state (ready task rows, deadline rows) is derived from the
workflow's :class:`~efficacy_flow.engine.runtime.Snapshot` here; the consistency checker compares exactly
these with the stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._ladder import LadderPlan
from efficacy_flow.engine.runtime import Snapshot
from efficacy_flow.store import DeadlineRecord, TaskRecord

__all__ = ["Rows", "rows_of"]

#: ``DeadlineRecord.kind`` of a timer at a fixed instant (other timers: the unit of their period).
INSTANT = "instant"


@dataclass(frozen=True, slots=True)
class Rows:
    """An instance's ready task rows and deadline rows, as one save wrote them (or a load implies)."""

    tasks: list[TaskRecord]
    deadlines: list[DeadlineRecord]


def rows_of(
    instance_id: str,
    snapshot: Snapshot,
    *,
    suspended: bool,
    incident_id: str | None,
    ladder: LadderPlan | None = None,
) -> Rows:
    """The rows of a snapshot (with ``ladder``: each laddered timer's next ladder step, engine/_ladder.py).

    While the instance is suspended its deadline rows have no ``due_at`` (tick never sees them) and carry what
    remained; ``incident_id`` parks them (an instance with an unresolved incident fires no timer). A ready
    task's ``due_at`` is the earliest due time of the interrupting timers attached to it. A task row's
    instants are in Asia/Shanghai, as the store reads them back (the rows stand in for stored ones: see
    :meth:`~efficacy_flow.engine.Engine.tasks`).
    """
    deadlines = []
    dues: dict[str, list[datetime]] = {}
    for timer in snapshot.timers:
        due = timer.due
        due_at = None if suspended else due.due_at
        deadlines.append(
            DeadlineRecord(
                id=timer.id,
                instance_id=instance_id,
                task_id=timer.attached_to,
                element_id=timer.element_id,
                kind=due.unit.value if due.unit is not None else INSTANT,
                interrupting=timer.interrupting,
                due_at=due_at,
                remaining=timer.remaining if suspended else None,
                incident_id=incident_id,
            )
        )
        if timer.interrupting and due_at is not None and timer.attached_to is not None:
            dues.setdefault(timer.attached_to, []).append(due_at)
    if ladder is not None:
        deadlines += ladder.rows(instance_id, snapshot.timers, suspended=suspended, incident_id=incident_id)
    tasks = []
    for task in snapshot.tasks:
        attached = dues.get(task.id)
        tasks.append(
            TaskRecord(
                id=task.id,
                instance_id=instance_id,
                element_id=task.element_id,
                name=task.name,
                role=task.lane,
                unit=task.unit,
                status="ready",
                ready_at=task.ready_at.astimezone(CHINA_TZ),
                due_at=min(attached).astimezone(CHINA_TZ) if attached else None,
                assignee=task.assignee,
                urges=task.urges,
                last_urged_at=task.last_urged_at.astimezone(CHINA_TZ) if task.last_urged_at else None,
            )
        )
    return Rows(tasks, deadlines)
