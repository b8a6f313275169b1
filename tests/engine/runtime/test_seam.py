"""The runtime seam (engine/runtime/base.py) as its callers see it: typed handles, frozen values, and the
moves the case operations stand on — cancel, reset to an earlier task, one step per item of a collection —
plus the rule that nothing of SpiffWorkflow, and no ``Any``, crosses it."""

from __future__ import annotations

import ast
import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.engine._stepping import deployments

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine.runtime import Due, PendingTimer, ReadyTask, Snapshot, Workflow
from efficacy_flow.errors import ConcurrentUpdate, InvalidState, ProcessDefinitionError
from efficacy_flow.testing import FakeClock

FIXTURES = Path(__file__).parents[1] / "fixtures"
RUNTIME = Path(__file__).resolve().parents[3] / "src" / "efficacy_flow" / "engine" / "runtime"
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)


def _workflow(process_id: str, data: dict[str, object], clock: FakeClock, folder: str = "steps") -> Workflow:
    workflow = deployments(FIXTURES / folder, clock)[process_id].runtime.new(
        "00000000-0000-7000-8000-00000000000a"
    )
    workflow.start(data, clock.now())
    return workflow


def test_the_interface_carries_no_any() -> None:
    """runtime/base.py — what the rest of the engine codes against — never says ``Any`` nor imports
    SpiffWorkflow."""
    tree = ast.parse((RUNTIME / "base.py").read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    modules = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "Any" not in names | imported
    assert not any(m.startswith("SpiffWorkflow") for m in modules)


def test_what_crosses_the_seam_is_frozen() -> None:
    """Snapshots, tasks, timers and due times are frozen values: a caller cannot change the workflow through
    them."""
    clock = FakeClock(START)
    snapshot = _workflow("fx_days", {}, clock).snapshot(clock.now())
    assert isinstance(snapshot, Snapshot)
    (task,) = snapshot.tasks
    (timer,) = snapshot.timers
    assert isinstance(task, ReadyTask)
    assert isinstance(timer, PendingTimer)
    for value in (snapshot, task, timer, timer.due):
        first = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, first, None)
    assert (task.element_id, task.lane, task.ready_at) == ("Task_Handle", "承办单位", START)
    assert (timer.element_id, timer.attached_to, timer.interrupting) == ("Timer_Limit", task.id, True)
    # 5日 from Friday 09-26: nominally Wednesday 10-01, National Day; rolled to 10-09 (民法典 art. 203).
    assert timer.due.due_at == datetime(2025, 10, 10, tzinfo=CHINA_TZ)
    assert timer.due.limit is not None
    assert str(timer.due.limit) == "5日"
    assert timer.due.rolled_from == datetime(2025, 10, 1).date()


def test_the_process_data_is_a_copy() -> None:
    """data_json() is the data as JSON: changing what it decodes to changes nothing in the workflow."""
    clock = FakeClock(START)
    workflow = _workflow("fx_cohandle", {"units": ["市住建局", "市水务局"], "note": {"a": [1]}}, clock)
    data = json.loads(workflow.data_json())
    data["note"]["a"].append(2)
    assert json.loads(workflow.data_json())["note"] == {"a": [1]}


def test_one_step_per_item_of_a_collection() -> None:
    """A parallel multi-instance user task over ``units`` gives one ready task per unit, each carrying its
    unit; the workflow goes on when all are done."""
    clock = FakeClock(START)
    workflow = _workflow("fx_cohandle", {"units": ["市住建局", "市水务局", "区城管局"]}, clock)
    (draft,) = workflow.snapshot(clock.now()).tasks
    workflow.complete(draft.id, {}, clock.now())
    tasks = workflow.snapshot(clock.now()).tasks
    assert [(t.element_id, t.unit) for t in tasks] == [
        ("Task_Cohandle", "市住建局"),
        ("Task_Cohandle", "市水务局"),
        ("Task_Cohandle", "区城管局"),
    ]
    for task in tasks:
        assert not workflow.waits_for("rating")
        workflow.complete(task.id, {"opinion": f"{task.unit}已办"}, clock.now())
    assert workflow.snapshot(clock.now()).tasks == ()
    assert workflow.waits_for("rating")
    workflow.catch("rating", {"rating": "满意"}, clock.now())
    assert workflow.completed


@pytest.mark.parametrize("units", [7, "市住建局", None], ids=["int", "text", "missing"])
def test_a_collection_that_is_not_a_list_is_a_typed_error(units: object) -> None:
    """Whatever SpiffWorkflow's multi-instance code raises about a bad collection (a raw TypeError inside it)
    leaves the seam as ProcessDefinitionError naming the file, the element and the instance."""
    clock = FakeClock(START)
    workflow = _workflow("fx_cohandle", {} if units is None else {"units": units}, clock)
    (draft,) = workflow.snapshot(clock.now()).tasks
    with pytest.raises(ProcessDefinitionError) as raised:
        workflow.complete(draft.id, {}, clock.now())
    error = raised.value
    assert error.fields["element_id"] == "Task_Cohandle"
    assert error.fields["path"] == "fx_cohandle.bpmn"
    assert error.fields["instance_id"] == "00000000-0000-7000-8000-00000000000a"
    assert "fx_cohandle.bpmn" in str(error)


def test_cancel_ends_the_workflow() -> None:
    """cancel() ends it at once: nothing waits any more and nothing runs on."""
    clock = FakeClock(START)
    workflow = _workflow("fx_days", {}, clock)
    workflow.cancel()
    assert workflow.completed
    snapshot = workflow.snapshot(clock.now())
    assert (snapshot.tasks, snapshot.timers, snapshot.messages) == ((), (), ())
    clock.advance(timedelta(days=30))
    assert workflow.fire_due(clock.now()) == ()


def test_reset_to_an_earlier_task_makes_it_ready_again_with_its_data() -> None:
    """reset_to(element) removes what came after the element's last completion and makes it ready again with
    the data it had when it became ready; what the later steps added is gone."""
    clock = FakeClock(START)
    workflow = _workflow("fx_cohandle", {"units": ["市住建局"]}, clock)
    (draft,) = workflow.snapshot(clock.now()).tasks
    workflow.complete(draft.id, {"draft": "初稿"}, clock.now())
    (cohandle,) = workflow.snapshot(clock.now()).tasks
    assert cohandle.element_id == "Task_Cohandle"
    workflow.reset_to("Task_Draft", clock.now())
    (again,) = workflow.snapshot(clock.now()).tasks
    assert again.element_id == "Task_Draft"
    assert "draft" not in json.loads(workflow.data_json())
    workflow.complete(again.id, {"draft": "二稿"}, clock.now())
    assert json.loads(workflow.data_json())["draft"] == "二稿"


def test_reset_to_an_element_never_completed_is_refused() -> None:
    """There is nothing to go back to before the element ran: InvalidState, and nothing changes."""
    clock = FakeClock(START)
    workflow = _workflow("fx_cohandle", {"units": ["市住建局"]}, clock)
    before = workflow.snapshot(clock.now())
    with pytest.raises(InvalidState):
        workflow.reset_to("Task_Cohandle", clock.now())
    assert workflow.snapshot(clock.now()) == before


def test_completing_a_task_that_is_not_ready_is_a_concurrent_update() -> None:
    """An id the workflow has no ready user task for — gone, never there, or not an id — is
    ConcurrentUpdate."""
    clock = FakeClock(START)
    workflow = _workflow("fx_days", {}, clock)
    (task,) = workflow.snapshot(clock.now()).tasks
    workflow.complete(task.id, {}, clock.now())
    for task_id in (task.id, "00000000-0000-4000-8000-000000000000", "not an id"):
        with pytest.raises(ConcurrentUpdate):
            workflow.complete(task_id, {}, clock.now())


def test_held_timers_do_not_fire_and_released_ones_do() -> None:
    """hold_timers keeps what remains and stops firing; release_timers gives new due times; move_timer moves
    one; fire_due fires what is due at the instant given, and says which."""
    clock = FakeClock(START)
    workflow = _workflow("fx_days", {}, clock)
    (timer,) = workflow.snapshot(clock.now()).timers
    workflow.hold_timers({timer.id: timer.due.limit})  # type: ignore[dict-item]
    assert workflow.suspended
    late = timer.due.due_at + timedelta(days=1)
    assert workflow.fire_due(late) == ()
    (held,) = workflow.snapshot(late).timers
    assert held.remaining == timer.due.limit
    workflow.release_timers({timer.id: Due(late + timedelta(hours=1), limit=timer.due.limit)})
    assert not workflow.suspended
    assert workflow.fire_due(late) == ()
    workflow.move_timer(timer.id, Due(late - timedelta(hours=1)))
    assert workflow.fire_due(late) == (timer.id,)
    assert [t.element_id for t in workflow.snapshot(late).tasks] == ["Task_Late"]


def test_a_script_error_names_the_file_element_and_instance() -> None:
    """A script that raises (ZeroDivisionError here) is a ScriptError carrying where it happened."""
    from efficacy_flow.errors import ScriptError

    clock = FakeClock(START)
    workflow = _workflow("fx_divide", {"divisor": 0}, clock)
    clock.advance(timedelta(hours=2))
    with pytest.raises(ScriptError) as raised:
        workflow.fire_due(clock.now())
    fields = raised.value.fields
    assert (fields["element_id"], fields["error"], fields["path"]) == (
        "Script_Divide",
        "ZeroDivisionError",
        "fx_divide.bpmn",
    )
    assert fields["instance_id"] == "00000000-0000-7000-8000-00000000000a"
