"""What a cached workflow handle remembers between calls (engine/runtime/workflow.py): the ready tasks and
open tasks of its last snapshot, used to find the task a ``complete`` names and the data a view shows — always
what a fresh scan would find."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState
from tests.engine._stepping import steps
from tests.engine.runtime.test_walk import CASES, STEP_DATA, _deployments

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine.runtime.workflow import SpiffWorkflow, _all_tasks
from efficacy_flow.errors import ConcurrentUpdate
from efficacy_flow.testing import FakeClock

CLERK = Actor("c", {"受理员"})


def test_the_kept_ready_tasks_are_the_workflows_own(engine: Engine) -> None:
    """At every step of a 10-task run, each ready task the cached handle keeps is the object a scan of the
    workflow finds by id, and the snapshot lists exactly them; an id it does not hold is refused."""
    view = engine.start("fx_ten", {}, CLERK)
    while view.tasks:
        handle = engine._cache._entries[view.id][1]
        assert isinstance(handle, SpiffWorkflow)
        kept = handle._ready
        assert set(kept) == {t.id for t in view.tasks}
        for task_id, (task, ready) in kept.items():
            assert task is handle._lookup(task_id)
            assert task.state == TaskState.READY
            assert ready.id == task_id
        stranger = str(uuid.uuid4())
        assert handle._lookup(stranger) is None
        assert handle._lookup("not a uuid") is None
        view = engine.complete(view.tasks[0].id, {"note": "ok"}, CLERK)
    assert view.status == "completed"


def test_a_ready_row_the_state_does_not_hold_is_a_concurrent_update(engine: Engine) -> None:
    """A task row that says ready for a task the saved state does not have (a damaged store) is refused with
    ConcurrentUpdate, and nothing is written."""
    view = engine.start("fx_ten", {}, CLERK)
    ghost = dataclasses.replace(view.tasks[0], id=str(uuid.uuid4()))
    with engine.store.transaction() as tx:
        row = tx.get_task(view.tasks[0].id)
        assert row is not None
        tx.sync_tasks(
            view.id,
            [row, dataclasses.replace(row, id=ghost.id)],
            closed_status="cancelled",
            at=row.ready_at,
            by=None,
            previous=[row],
        )
    with pytest.raises(ConcurrentUpdate):
        engine.complete(ghost.id, {"note": "ok"}, CLERK)
    assert engine.instance(view.id).version == view.version


@pytest.mark.parametrize(("folder", "process_id"), CASES, ids=[c[1] for c in CASES])
def test_the_kept_open_tasks_are_a_fresh_scans(folder: str, process_id: str, tmp_path: Path) -> None:
    """At every step of every fixture (timers waiting, messages, branches, call activities), the open tasks
    a snapshot keeps are the ones a scan finds, in its order, and the process data is the same with or
    without them."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = _deployments(folder, clock, tmp_path)[process_id]
    waiting = 0
    for handle in steps(deployment, clock, {"title": "路灯不亮", "unit": "市住建局"}, STEP_DATA, 2):
        handle.snapshot(clock.now())
        scanned = [t for t in _all_tasks(handle._workflow) if t.state in (TaskState.READY, TaskState.WAITING)]
        assert handle._open == scanned
        waiting += sum(t.state == TaskState.WAITING for t in scanned)
        kept = handle.data_json()
        handle._open = None
        assert handle.data_json() == kept
    assert waiting > 0 or process_id in ("fx_ten", "fx_nested", "fx_caller")  # the others have timers
