"""The fast state writer (engine/_spiff.py) writes exactly what SpiffWorkflow's stock converters and the
stdlib JSON encoder wrote before it: same keys, same order, same values, same bytes — at every step of every
fixture process, and for data orjson cannot write identically (NaN, huge integers, datetimes, int keys)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from tests.engine._stepping import steps

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import _spiff
from efficacy_flow.engine._definitions import Deployment, Services, build_deployment, read_folder
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine._workflow import EngineWorkflow
from efficacy_flow.testing import FakeClock


class _StockWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """The converter as it was before the fast writer: the stock code paths, specs left out."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _stock_registry() -> Any:
    registry = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
    TimerConditionalEventDefinitionConverter(
        _spiff.ClockTimeDateEventDefinition, registry, typename="TimeDateEventDefinition"
    )
    MessageEventDefinitionConverter(
        _spiff.EngineMessageEventDefinition, registry, typename="MessageEventDefinition"
    )
    _StockWorkflowConverter(BpmnWorkflow, registry)
    # The engine's workflow class is a BpmnWorkflow saved under the stock type name.
    _StockWorkflowConverter(EngineWorkflow, registry, typename="BpmnWorkflow")
    return registry


STOCK = _stock_registry()
BASIC = Path(__file__).parent / "fixtures" / "basic"


def _stock_text(workflow: Any) -> str:
    body = {"format_version": _spiff.STATE_FORMAT_VERSION, "workflow": STOCK.convert(workflow)}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_spiff._json_default)


def _written(workflow: Any) -> str:
    return _spiff.decompress_state(_spiff.dump_state(workflow)).decode("utf-8")


def _deployments(clock: FakeClock) -> dict[str, Deployment]:
    sources, _ = read_folder(BASIC)
    services = Services(sandbox=Sandbox(), clock=clock, calendar=china())
    return {source.process_id: build_deployment(source, services) for source in sources}


#: Completion data for every user task: nested values, Chinese text, floats, a list to merge.
STEP_DATA: dict[str, Any] = {
    "reply": "已答复，路灯已修复",
    "resolved": True,
    "rating": "满意",
    "note": {"by": "张三", "scores": [1, 2.5, -3], "nested": {"ok": None}},
    "handled_count": 2,
}


def _drive(
    deployment: Deployment, clock: FakeClock, start: dict[str, Any], offset: int
) -> list[tuple[str, str]]:
    """Run a workflow step by step; return (written, stock) texts after every step.

    Two of three steps complete a ready user task, the third lets time limits run out or sends a message;
    ``offset`` shifts that rhythm (2: time runs out first).
    """
    return [(_written(w), _stock_text(w)) for w in steps(deployment, clock, start, STEP_DATA, offset)]


@pytest.mark.parametrize("offset", [0, 2], ids=["work-first", "time-first"])
@pytest.mark.parametrize("process_id", ["fx_ten", "fx_handle", "fx_rating", "fx_nested"])
def test_every_step_is_written_as_the_stock_converters_write_it(process_id: str, offset: int) -> None:
    """At every step (user tasks, scripts, gateways, timers, a subprocess) the saved text is identical."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = _deployments(clock)[process_id]
    texts = _drive(deployment, clock, {"title": "路灯不亮", "unit": "市住建局"}, offset)
    assert len(texts) > 1
    for written, stock in texts:
        assert written == stock


@pytest.mark.parametrize(
    ("value", "same"),
    [
        pytest.param(float("nan"), math.isnan, id="nan"),
        pytest.param(float("inf"), lambda v: v == float("inf"), id="infinity"),
        pytest.param(2**70, lambda v: v == 2**70, id="huge-int"),
        pytest.param({"nested": [float("-inf")]}, lambda v: v["nested"][0] == float("-inf"), id="nested-inf"),
        pytest.param(
            datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ),
            lambda v: v == "2025-09-26 10:00:00+08:00",
            id="datetime-as-text",
        ),
    ],
)
def test_values_orjson_would_change_take_the_stdlib_path(value: Any, same: Any) -> None:
    """NaN, infinities, huge integers and datetimes are written by the stdlib, as before, and read back."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = _deployments(clock)["fx_ten"]
    workflow = deployment.new_workflow()
    workflow.get_next_task(state=TaskState.READY).data.update({"odd": value})
    workflow.do_engine_steps()
    assert _written(workflow) == _stock_text(workflow)
    loaded = _spiff.load_state(
        _spiff.dump_state(workflow), deployment.spec, deployment.subprocess_specs, deployment.script_engine
    )
    [ready] = [t for t in loaded.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    assert same(ready.data["odd"])


def test_non_string_keys_take_the_stdlib_path() -> None:
    """A dict with integer keys is written as the stdlib writes it (keys as text)."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = _deployments(clock)["fx_ten"].new_workflow()
    workflow.get_next_task(state=TaskState.READY).data.update({"by_year": {2025: "a", 2026: "b"}})
    workflow.do_engine_steps()
    assert _written(workflow) == _stock_text(workflow)
    assert '"by_year":{"2025":"a","2026":"b"}' in _written(workflow)


def test_settled_tasks_are_written_once_and_rewritten_when_they_change() -> None:
    """Predicted and finished tasks keep their JSON piece between saves; a change to one is written."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = _deployments(clock)["fx_ten"].new_workflow()
    workflow.do_engine_steps()
    for _ in range(3):
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update({"note": "ok"})
        task.run()
        workflow.do_engine_steps()
    assert _written(workflow) == _stock_text(workflow)
    first = dict(workflow.ef_pieces)
    settled = TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.FINISHED_MASK
    expected = {
        id(t)
        for t in workflow.tasks.values()
        if t.state & settled and (t.parent is None or t.parent.state & settled)
    }
    assert set(first) == expected
    assert len(expected) >= len(workflow.tasks) - 2  # all but the ready task and its predicted child
    assert _written(workflow) == _stock_text(workflow)
    assert all(workflow.ef_pieces[key] is entry for key, entry in first.items())  # reused, not rebuilt

    # A finished task's data replaced (not changed in place): its piece is rebuilt, the text is right.
    done = next(t for t in workflow.tasks.values() if t.task_spec.name == "Task_02")
    done.data = {**done.data, "note": "改过"}
    assert _written(workflow) == _stock_text(workflow)
    assert workflow.ef_pieces[id(done)] is not first[id(done)]
    assert '"note":"改过"' in _written(workflow)


def test_a_simulated_month_saves_exactly_what_the_stock_converters_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every state the engine saves while a month of the shipped processes runs equals the stock text."""
    from efficacy_flow.engine import _persist
    from efficacy_flow.testing import ScenarioPlan, Simulation, make_test_engine

    saves = []

    def checked_dump(workflow: Any) -> bytes:
        state = _spiff.dump_state(workflow)
        assert _spiff.decompress_state(state).decode("utf-8") == _stock_text(workflow)
        saves.append(len(state))
        return state

    monkeypatch.setattr(_persist, "dump_state", checked_dump)
    calendar = china()
    plan = ScenarioPlan(seed=11, tickets=12, window_cases=4, start=date(2025, 9, 22), end=date(2025, 10, 14))
    clock = FakeClock(datetime(2025, 9, 22, tzinfo=CHINA_TZ))
    processes = Path(__file__).resolve().parents[2] / "processes"
    engine = make_test_engine(tmp_path, processes, clock=clock, calendar=calendar)
    try:
        Simulation(engine, clock, calendar, plan).run()
    finally:
        engine.store.close()
    assert len(saves) > 100


def _ready_fx_ten(completion: dict[Any, Any]) -> Any:
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = _deployments(clock)["fx_ten"].new_workflow()
    workflow.do_engine_steps()
    for _ in range(2):
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update(completion)
        task.run()
        workflow.do_engine_steps()
    return workflow


def test_the_workflow_fields_are_written_as_the_stock_converters_write_them() -> None:
    """Empty workflow fields are written without converting them; any other value takes the general path.
    Nothing is cached there: every change shows in the next save, and going back to empty does too."""
    workflow = _ready_fx_ten({"note": "ok"})
    last = workflow.last_task
    assert last is not None
    variants: list[tuple[str, Any]] = [
        ("data", {"owner": "张三", "scores": [1, 2.5]}),
        ("correlations", {"case": {"ticket": "T-1"}}),
        ("bpmn_events", [_spiff.message_event("催办", {"by": "李四"})]),
        ("success", False),
        ("completed", True),
        ("last_task", None),
        ("data", {}),
        ("correlations", {}),
        ("bpmn_events", []),
        ("success", True),
        ("completed", False),
        ("last_task", last),
    ]
    texts = {_written(workflow)}
    for name, value in variants:
        setattr(workflow, name, value)
        assert _spiff._WORKFLOWS.encoded(workflow) is not None  # all native: the piece path
        written = _written(workflow)
        assert written == _stock_text(workflow), name
        texts.add(written)
    assert len(texts) == len(variants)  # every step changed the text; the last one restored the first


def test_a_task_of_another_class_found_late_takes_the_whole_dict_path() -> None:
    """The task class is checked while the pieces are written: a later task of another class means None."""

    class OtherTask(Task):  # type: ignore[misc]
        pass

    workflow = _ready_fx_ten({"note": "ok"})
    assert _spiff._WORKFLOWS.encoded(workflow) is not None
    before = dict(workflow.ef_pieces)
    last = list(workflow.tasks.values())[-1]
    last.__class__ = OtherTask
    try:
        assert _spiff._WORKFLOWS.encoded(workflow) is None
        assert workflow.ef_pieces == before  # the cache is left as it was
    finally:
        last.__class__ = Task
    assert _written(workflow) == _stock_text(workflow)


def test_a_task_piece_is_the_task_dict_as_orjson_writes_it() -> None:
    """Each task's piece is its converted dict as orjson writes it, or None when that is not native: here
    with non-text keys, not native in a dict (updates) but native in a list (deletions)."""
    workflow = _ready_fx_ten({"note": "ok", 7: "seven"})
    ready = workflow.get_next_task(state=TaskState.READY, manual=True)
    del ready.data[7]
    ready.data[7.5] = "odd"
    converter, ids, tasks = _spiff._WORKFLOWS.tasks, _spiff._ids(workflow), workflow.tasks
    seen = set()
    for key, task in tasks.items():
        item, native = converter.task_dict(task, ids, tasks)
        piece = converter.piece(task, key, tasks.get(task._parent), ids, "Task")
        if native:
            item["typename"] = "Task"
            assert piece == b'"' + str(key).encode() + b'":' + orjson.dumps(item)
        else:
            assert piece is None
        seen.add((native, json.dumps(item["delta"].get("deletions"))))
    assert (False, "[7]") in seen  # the ready task: a float key in its updates
    assert (True, '["note", 7.5]') in seen  # its predicted child: deletions only


def test_internal_data_the_registry_converts_is_written_as_the_stock_converters_write_it() -> None:
    """Internal data the registry converts (datetimes, UUIDs), and changes to it, in the piece path."""
    workflow = _ready_fx_ten({"note": "ok"})
    ready = workflow.get_next_task(state=TaskState.READY, manual=True)
    ready.internal_data["ef_when"] = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
    ready.internal_data["ef_ref"] = ready.id
    assert _spiff._WORKFLOWS.encoded(workflow) is not None
    assert _written(workflow) == _stock_text(workflow)
    assert '"typename":"datetime"' in _written(workflow)
    ready.internal_data["ef_ref"] = "plain"
    assert _written(workflow) == _stock_text(workflow)
    ready.internal_data["ef_ratio"] = float("nan")  # not native: the whole-dict path
    assert _spiff._WORKFLOWS.encoded(workflow) is None
    assert _written(workflow) == _stock_text(workflow)
    ready.internal_data.clear()
    assert _written(workflow) == _stock_text(workflow)
