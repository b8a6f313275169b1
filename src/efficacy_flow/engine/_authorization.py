"""Who may act on a task: the holder of its lane's role, of its unit when it has one."""

from __future__ import annotations

from efficacy_flow.engine._views import Actor
from efficacy_flow.errors import NotAuthorized
from efficacy_flow.store import TaskRecord

__all__ = ["authorize"]


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
