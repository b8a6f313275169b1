"""Finding the task a ``complete`` call names: the ready tasks kept at the last save, else SpiffWorkflow."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState
from tests.engine.test_engine_walk import CASES, _deployments, _drive

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._rows import collect_rows, instance_view, ready_task
from efficacy_flow.engine._spiff import all_tasks
from efficacy_flow.errors import ConcurrentUpdate
from efficacy_flow.store import InstanceRecord
from efficacy_flow.testing import FakeClock

CLERK = Actor("c", {"受理员"})


def test_the_kept_ready_tasks_are_the_workflows_own(engine: Engine) -> None:
    """At every step of a 10-task run, each ready task kept at the save is the object SpiffWorkflow finds by
    id; an id it does not hold is None, with or without the kept map."""
    view = engine.start("fx_ten", {}, CLERK)
    while view.tasks:
        workflow = engine._cache._entries[view.id][2]
        kept = workflow.ef_ready
        assert set(kept) == {t.id for t in view.tasks}
        for task_id, task in kept.items():
            assert task is workflow.get_task_from_id(uuid.UUID(task_id))
            assert task.state == TaskState.READY
            assert ready_task(workflow, task_id) is task
        stranger = str(uuid.uuid4())
        assert ready_task(workflow, stranger) is None
        del workflow.ef_ready  # a freshly loaded workflow has no map: SpiffWorkflow's lookup
        assert ready_task(workflow, view.tasks[0].id) is kept[view.tasks[0].id]
        assert ready_task(workflow, stranger) is None
        collect_rows(view.id, workflow, engine.clock.now())  # restores the map
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
    collect_rows keeps are the ones a scan finds, in its order, and the view's data is the same with or
    without them."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = _deployments(folder, clock, tmp_path)[process_id]
    inst = InstanceRecord(
        "i", process_id, "h", None, "active", 1, b"", 1, "c", None, clock.now(), clock.now(), 0, ""
    )
    waiting = 0
    for workflow in _drive(deployment, clock, 2):
        ready, _ = collect_rows("i", workflow, clock.now())
        scanned = [t for t in all_tasks(workflow) if t.state in (TaskState.READY, TaskState.WAITING)]
        assert workflow.ef_open == scanned
        waiting += sum(t.state == TaskState.WAITING for t in scanned)
        kept = instance_view(inst, workflow, ready)
        del workflow.ef_open
        assert instance_view(inst, workflow, ready) == kept
    assert waiting > 0 or process_id in ("fx_ten", "fx_nested", "fx_caller")  # the others have timers
