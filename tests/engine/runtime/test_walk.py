"""The runtime's task walk (engine/runtime/walk.py, a fast path) answers exactly as SpiffWorkflow's own
iterators (the stock path beside it).

Every query the fast walk takes over is compared, result and order, with ``BpmnTaskIterator`` (and the plain
``TaskIterator`` of ``update_waiting_tasks``) at every step of every fixture process — user tasks, scripts,
gateways, parallel branches, boundary timers, messages and call activities — and, with a checking wrapper
installed, at every query a month-long simulation of the shipped processes makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState
from tests.engine._stepping import deployments, steps

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._definitions import Deployment
from efficacy_flow.engine.runtime import walk as _workflow
from efficacy_flow.engine.runtime.walk import EngineWorkflow
from efficacy_flow.testing import FakeClock, ScenarioPlan, Simulation, make_test_engine

FIXTURES = Path(__file__).parents[1] / "fixtures"
PROCESSES = Path(__file__).resolve().parents[3] / "processes"

#: Every state filter SpiffWorkflow and the engine pass, single states and masks.
STATES = [
    TaskState.ANY_MASK,
    TaskState.READY,
    TaskState.WAITING,
    TaskState.COMPLETED,
    TaskState.CANCELLED,
    TaskState.MAYBE,
    TaskState.FUTURE,
    TaskState.NOT_FINISHED_MASK,
    TaskState.FINISHED_MASK,
    TaskState.PREDICTED_MASK,
    TaskState.DEFINITE_MASK,
    TaskState.READY | TaskState.WAITING,
]
STEP_DATA: dict[str, Any] = {"reply": "已答复", "resolved": True, "rating": "满意", "handled_count": 2}


def _deployments(folder: str, clock: FakeClock, tmp_path: Path) -> dict[str, Deployment]:
    path = FIXTURES / folder
    if folder == "called":  # the fixture's script is a placeholder its tests fill in
        path = tmp_path / "called"
        path.mkdir(exist_ok=True)
        text = (FIXTURES / "called" / "fx_caller.bpmn").read_text(encoding="utf-8")
        (path / "fx_caller.bpmn").write_text(text.replace("SCRIPT", "marked = True"), encoding="utf-8")
    return deployments(path, clock)


def _assert_same_answers(workflow: EngineWorkflow) -> int:
    """Compare every query of :data:`STATES` x manual, from the root and from each task; return the count."""
    assert workflow._walkable()
    starts = [None, *list(workflow.tasks.values())[::3]]
    compared = 0
    for state in STATES:
        for manual in (None, True, False):
            for first in starts:
                kwargs: dict[str, Any] = {"state": state}
                if manual is not None:
                    kwargs["manual"] = manual
                stock = list(BpmnTaskIterator(first or workflow.task_tree, **kwargs))
                assert list(workflow.get_tasks_iterator(first, **kwargs)) == stock, (state, manual, first)
                compared += 1
        # spec_name (a catching event's run asks for it), alone and with the state: names found, and one not.
        for name in [*(t.task_spec.name for t in starts if t is not None), "no such spec"]:
            for first in starts:
                for kwargs in ({"spec_name": name}, {"spec_name": name, "state": state}):
                    stock = list(BpmnTaskIterator(first or workflow.task_tree, **kwargs))
                    assert list(workflow.get_tasks_iterator(first, **kwargs)) == stock, (kwargs, first)
                    compared += 1
        # update_waiting_tasks' walk: the plain iterator, no descent into subprocesses.
        plain = list(TaskIterator(workflow.task_tree, state=state))
        assert list(_workflow._walk(workflow.task_tree, state, None, None)) == plain, state
    # The defaults (no filter at all) and get_next_task.
    assert workflow.get_tasks() == list(BpmnTaskIterator(workflow.task_tree))
    stock_next = next(iter(BpmnTaskIterator(workflow.task_tree, state=TaskState.READY)), None)
    assert workflow.get_next_task(state=TaskState.READY) is stock_next
    return compared


def _drive(deployment: Deployment, clock: FakeClock, offset: int) -> Iterator[EngineWorkflow]:
    """Run a workflow step by step (user tasks, time running out, a message), yielding it after each step."""
    for handle in steps(deployment, clock, {"title": "路灯不亮", "unit": "市住建局"}, STEP_DATA, offset):
        workflow = handle._workflow
        assert isinstance(workflow, EngineWorkflow)
        yield workflow


CASES = [
    ("basic", "fx_ten"),
    ("basic", "fx_handle"),
    ("basic", "fx_rating"),
    ("basic", "fx_nested"),
    ("called", "fx_caller"),
    ("durable", "fx_durable"),
]


@pytest.mark.parametrize("offset", [0, 2], ids=["work-first", "time-first"])
@pytest.mark.parametrize(("folder", "process_id"), CASES, ids=[c[1] for c in CASES])
def test_every_query_matches_the_stock_iterators_at_every_step(
    folder: str, process_id: str, offset: int, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = _deployments(folder, clock, tmp_path)[process_id]
    steps = list(_drive(deployment, clock, offset))
    assert len(steps) > 1
    compared = 0
    for workflow in _drive(deployment, FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)), offset):
        compared += _assert_same_answers(workflow)
    assert compared >= len(STATES) * 3 * 2


def test_call_activities_are_walked_into(tmp_path: Path) -> None:
    """The subprocess of a call activity is part of the answer, in the stock iterator's place."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = next(_drive(_deployments("called", clock, tmp_path)["fx_caller"], clock, 0))
    assert workflow.subprocesses, "the fixture should be inside its call activity after the first steps"
    inside = {t.id for sp in workflow.subprocesses.values() for t in sp.tasks.values()}
    walked = {t.id for t in workflow.get_tasks()}
    assert inside <= walked
    _assert_same_answers(workflow)


def test_other_filters_and_large_trees_use_the_stock_iterator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = next(_drive(_deployments("basic", clock, tmp_path)["fx_ten"], clock, 0))
    assert not isinstance(workflow.get_tasks_iterator(state=TaskState.READY), BpmnTaskIterator)
    assert not isinstance(workflow.get_tasks_iterator(spec_name="Start"), BpmnTaskIterator)
    assert isinstance(workflow.get_tasks_iterator(spec_name="Start", updated_ts=1.0), BpmnTaskIterator)
    assert isinstance(workflow.get_tasks_iterator(state=TaskState.READY, lane="受理员"), BpmnTaskIterator)
    monkeypatch.setattr(_workflow, "_FAST_LIMIT", len(workflow.tasks))
    assert isinstance(workflow.get_tasks_iterator(state=TaskState.READY), BpmnTaskIterator)
    calls: list[Any] = []
    monkeypatch.setattr(TaskIterator, "__next__", _recording(TaskIterator.__next__, calls))
    workflow.update_waiting_tasks()
    assert calls, "a large tree's update_waiting_tasks goes through the stock iterator"


def _recording(original: Any, calls: list[Any]) -> Any:
    def __next__(self: Any) -> Any:
        calls.append(self)
        return original(self)

    return __next__


def test_a_simulated_month_of_the_shipped_processes_asks_nothing_the_walk_answers_differently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every task query the engine, SpiffWorkflow and the processes make is checked against the stock."""
    checked = {"queries": 0, "waiting": 0, "none_waiting": 0}
    fast_iterator = EngineWorkflow.get_tasks_iterator
    fast_waiting = EngineWorkflow.update_waiting_tasks

    def checking_iterator(self: EngineWorkflow, first_task: Any = None, **kwargs: Any) -> Any:
        answer = list(fast_iterator(self, first_task, **kwargs))
        assert answer == list(BpmnTaskIterator(first_task or self.task_tree, **kwargs)), kwargs
        checked["queries"] += 1
        return iter(answer)

    def checking_waiting(self: EngineWorkflow) -> None:
        before = list(_workflow._walk(self.task_tree, TaskState.WAITING, None, None))
        assert before == list(TaskIterator(self.task_tree, state=TaskState.WAITING))
        if not any(task.state == TaskState.WAITING for task in self.tasks.values()):
            assert before == []  # what lets update_waiting_tasks return without walking
            checked["none_waiting"] += 1
        checked["waiting"] += 1
        fast_waiting(self)

    monkeypatch.setattr(EngineWorkflow, "get_tasks_iterator", checking_iterator)
    monkeypatch.setattr(EngineWorkflow, "update_waiting_tasks", checking_waiting)
    calendar = china()
    plan = ScenarioPlan(seed=7, tickets=12, window_cases=4, start=date(2025, 9, 22), end=date(2025, 10, 14))
    clock = FakeClock(datetime(2025, 9, 22, tzinfo=CHINA_TZ))
    engine = make_test_engine(tmp_path, PROCESSES, clock=clock, calendar=calendar)
    try:
        result = Simulation(engine, clock, calendar, plan).run()
    finally:
        engine.store.close()
    assert len(result.instance_ids) >= 16
    assert checked["queries"] > 100
    assert checked["waiting"] > 50
    assert 0 < checked["none_waiting"] < checked["waiting"]


def test_the_stock_path_is_the_stock_iterators(tmp_path: Path) -> None:
    """With the fast paths off (Engine(fast_paths=False)), every query goes to SpiffWorkflow's iterators."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    stock = deployments(FIXTURES / "basic", clock, fast=False)["fx_ten"]
    handle = next(steps(stock, clock, {}, STEP_DATA, 0))
    workflow = handle._workflow
    assert workflow.fast_walk is False
    assert isinstance(workflow.get_tasks_iterator(state=TaskState.READY), BpmnTaskIterator)
