"""Helpers for integrators' test suites: an engine on a temporary SQLite file, and drive-to-state helpers.

Example (pytest)::

    from efficacy_flow.testing import FakeClock, make_test_engine, drive_to

    def test_escalates(tmp_path):
        clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
        engine = make_test_engine(tmp_path, "processes/", clock=clock)
        case = engine.start("complaint_closure", {...}, operator)
        drive_to(engine, case.id, "Task_Handle", everyone, {"Task_Dispatch": {"unit": "市住建局"}, ...})
        clock.advance(timedelta(days=10))
        engine.tick()
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from efficacy_flow.clock import Clock
from efficacy_flow.engine import Actor, Engine, InstanceView, TaskView
from efficacy_flow.errors import InvalidState, UnknownTask

__all__ = ["complete_task", "drive_to", "make_test_engine"]


def make_test_engine(
    directory: str | Path, processes: str | Path = "processes/", *, clock: Clock | None = None, **kwargs: Any
) -> Engine:
    """An engine on a fresh SQLite file in ``directory`` (pytest's ``tmp_path``) with ``processes`` deployed.

    ``kwargs`` go to :class:`~efficacy_flow.engine.Engine` (``calendar``, ``schemas``, ``decisions``, ...).
    """
    path = Path(directory) / "efficacy_flow_test.db"
    return Engine(store=f"sqlite:///{path}", processes=processes, clock=clock, **kwargs)


def complete_task(
    engine: Engine, instance_id: str, element_id: str, data: Mapping[str, Any], actor: Actor
) -> InstanceView:
    """Complete the ready task ``element_id`` of an instance.

    Raises:
        UnknownTask: the instance has no ready task with that element id.
    """
    for task in engine.tasks(instance_id=instance_id):
        if task.element_id == element_id:
            return engine.complete(task.id, data, actor)
    raise UnknownTask(f"instance {instance_id} has no ready task {element_id}", task_id=element_id)


def drive_to(
    engine: Engine,
    instance_id: str,
    element_id: str,
    actor: Actor,
    data: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    max_steps: int = 100,
) -> TaskView:
    """Complete ready tasks (oldest first) until the task ``element_id`` is ready; return it.

    ``data`` maps element ids to their completion data (``{}`` for tasks not listed). ``actor`` should hold
    every
    role met on the way.

    Raises:
        InvalidState: the task is not reached within ``max_steps`` completions, or nothing is left to
        complete.
    """
    given = data or {}
    for _ in range(max_steps):
        ready = engine.tasks(instance_id=instance_id)
        for task in ready:
            if task.element_id == element_id:
                return task
        if not ready:
            raise InvalidState(
                f"instance {instance_id} has no ready task left before reaching {element_id}",
                instance_id=instance_id,
                element_id=element_id,
            )
        engine.complete(ready[0].id, given.get(ready[0].element_id, {}), actor)
    raise InvalidState(
        f"{element_id} not reached within {max_steps} completions",
        instance_id=instance_id,
        element_id=element_id,
    )
