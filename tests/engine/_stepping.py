"""Driving a workflow step by step, below the engine: user tasks, time limits running out, a message."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState

from efficacy_flow.engine import _spiff
from efficacy_flow.engine._definitions import Deployment
from efficacy_flow.testing import FakeClock


def steps(
    deployment: Deployment, clock: FakeClock, start: Mapping[str, Any], data: Mapping[str, Any], offset: int
) -> Iterator[Any]:
    """Yield a fresh workflow after its first steps, then after each of up to 24 steps.

    Two of three steps complete a ready user task with ``data``; the third lets every time limit run out or
    sends a dissatisfied rating; ``offset`` shifts that rhythm (2: time runs out first).
    """
    workflow = deployment.new_workflow()
    workflow.get_next_task(state=TaskState.READY).data.update(start)
    workflow.do_engine_steps()
    yield workflow
    for step in range(24):
        if workflow.completed:
            return
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
        if ready and (step + offset) % 3 != 2:
            ready[0].data.update(data)
            ready[0].run()
        elif step % 2 == 0:
            clock.advance(timedelta(days=20))  # let every time limit run out
            workflow.refresh_timers()
        else:
            workflow.catch(_spiff.message_event("rating", {"rating": "不满意", "comment": "未修复"}))
        workflow.do_engine_steps()
        yield workflow
