"""The runtime's fast state writer (engine/runtime/serializer.py ``dump_state``) writes exactly what its stock
path — SpiffWorkflow's own converters and the stdlib JSON encoder (``dump_state_stock``) — writes: same keys,
same order, same values, same bytes, at every step of every fixture process, on a month of the shipped
processes, and for values it cannot write itself (it hands those to the stock path)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from tests.engine._stepping import deployments, steps

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._definitions import Deployment
from efficacy_flow.engine.runtime import serializer
from efficacy_flow.engine.runtime.specs import message_event
from efficacy_flow.engine.runtime.workflow import SpiffWorkflow
from efficacy_flow.testing import FakeClock

BASIC = Path(__file__).parents[1] / "fixtures" / "basic"


def _stock_text(workflow: Any) -> str:
    return serializer.decompress_state(serializer.dump_state_stock(workflow)).decode("utf-8")


def _written(workflow: Any, writer: serializer.StateWriter) -> str:
    return serializer.decompress_state(serializer.dump_state(workflow, writer)).decode("utf-8")


def _deployments(clock: FakeClock) -> dict[str, Deployment]:
    return deployments(BASIC, clock)


def _inner(handle: SpiffWorkflow) -> Any:
    return handle._workflow  # the SpiffWorkflow object behind the seam (what the fast path writes)


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
    ``offset`` shifts that rhythm (2: time runs out first). One writer across the steps, as a cached handle
    keeps it.
    """
    texts = []
    writer = serializer.StateWriter()
    for handle in steps(deployment, clock, start, STEP_DATA, offset):
        workflow = _inner(handle)
        texts.append((_written(workflow, writer), _stock_text(workflow)))
    return texts


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


def _fresh_fx_ten(clock: FakeClock) -> Any:
    handle = _deployments(clock)["fx_ten"].runtime.new("i")
    assert isinstance(handle, SpiffWorkflow)
    handle.start({}, clock.now())
    return _inner(handle)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="infinity"),
        pytest.param(2**70, id="huge-int"),
        pytest.param({"nested": [float("-inf")]}, id="nested-inf"),
        pytest.param({2025: "a", 2026: "b"}, id="int-keys"),
    ],
)
def test_values_the_fast_path_cannot_write_go_to_the_stock_path(value: Any) -> None:
    """Values the runtime never lets into process data (the JSON check refuses them at the step that makes
    them), put there behind its back: the fast path declines them and the stock path writes them."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = _fresh_fx_ten(clock)
    workflow.get_next_task(state=TaskState.READY, manual=True).data["odd"] = value
    writer = serializer.StateWriter()
    assert serializer._WORKFLOWS.encoded(workflow, writer) is None
    assert _written(workflow, writer) == _stock_text(workflow)


def test_settled_tasks_are_written_once_and_rewritten_when_they_change() -> None:
    """Predicted and finished tasks keep their JSON piece between saves; a change to one is written."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = _fresh_fx_ten(clock)
    for _ in range(3):
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update({"note": "ok"})
        task.run()
        workflow.do_engine_steps()
    writer = serializer.StateWriter()
    assert _written(workflow, writer) == _stock_text(workflow)
    first = dict(writer.pieces)
    settled = TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.FINISHED_MASK
    expected = {
        id(t)
        for t in workflow.tasks.values()
        if t.state & settled and (t.parent is None or t.parent.state & settled)
    }
    assert set(first) == expected
    assert len(expected) >= len(workflow.tasks) - 2  # all but the ready task and its predicted child
    assert _written(workflow, writer) == _stock_text(workflow)
    assert all(writer.pieces[key] is entry for key, entry in first.items())  # reused, not rebuilt

    # A finished task's data replaced (not changed in place): its piece is rebuilt, the text is right.
    done = next(t for t in workflow.tasks.values() if t.task_spec.name == "Task_02")
    done.data = {**done.data, "note": "改过"}
    assert _written(workflow, writer) == _stock_text(workflow)
    assert writer.pieces[id(done)] is not first[id(done)]
    assert '"note":"改过"' in _written(workflow, writer)


def test_a_simulated_month_saves_exactly_what_the_stock_converters_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every state the engine saves while a month of the shipped processes runs equals the stock text."""
    from efficacy_flow.calendar import china
    from efficacy_flow.engine.runtime import workflow as runtime_workflow
    from efficacy_flow.testing import ScenarioPlan, Simulation, make_test_engine

    saves = []

    def checked_dump(workflow: Any, writer: serializer.StateWriter) -> bytes:
        state = serializer.dump_state(workflow, writer)
        assert serializer.decompress_state(state).decode("utf-8") == _stock_text(workflow)
        saves.append(len(state))
        return state

    monkeypatch.setattr(runtime_workflow, "dump_state", checked_dump)
    calendar = china()
    plan = ScenarioPlan(seed=11, tickets=12, window_cases=4, start=date(2025, 9, 22), end=date(2025, 10, 14))
    clock = FakeClock(datetime(2025, 9, 22, tzinfo=CHINA_TZ))
    processes = Path(__file__).resolve().parents[3] / "processes"
    engine = make_test_engine(tmp_path, processes, clock=clock, calendar=calendar)
    try:
        Simulation(engine, clock, calendar, plan).run()
    finally:
        engine.store.close()
    assert len(saves) > 100


def _ready_fx_ten(completion: dict[Any, Any]) -> Any:
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    workflow = _fresh_fx_ten(clock)
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
    writer = serializer.StateWriter()
    last = workflow.last_task
    assert last is not None
    variants: list[tuple[str, Any]] = [
        ("data", {"owner": "张三", "scores": [1, 2.5]}),
        ("correlations", {"case": {"ticket": "T-1"}}),
        ("bpmn_events", [message_event("催办", {"by": "李四"})]),
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
    texts = {_written(workflow, writer)}
    for name, value in variants:
        setattr(workflow, name, value)
        assert serializer._WORKFLOWS.encoded(workflow, writer) is not None  # all native: the piece path
        written = _written(workflow, writer)
        assert written == _stock_text(workflow), name
        texts.add(written)
    assert len(texts) == len(variants)  # every step changed the text; the last one restored the first


def test_a_task_of_another_class_found_late_takes_the_stock_path() -> None:
    """The task class is checked while the pieces are written: a later task of another class means None."""

    class OtherTask(Task):  # type: ignore[misc]
        pass

    workflow = _ready_fx_ten({"note": "ok"})
    writer = serializer.StateWriter()
    assert serializer._WORKFLOWS.encoded(workflow, writer) is not None
    before = dict(writer.pieces)
    last = list(workflow.tasks.values())[-1]
    last.__class__ = OtherTask
    try:
        assert serializer._WORKFLOWS.encoded(workflow, writer) is None
        assert writer.pieces == before  # the cache is left as it was
    finally:
        last.__class__ = Task
    assert _written(workflow, writer) == _stock_text(workflow)


def test_a_task_piece_is_the_task_dict_as_orjson_writes_it() -> None:
    """Each task's piece is its converted dict as orjson writes it, or None when that is not native: here
    with non-text keys, not native in a dict (updates) but native in a list (deletions)."""
    workflow = _ready_fx_ten({"note": "ok", 7: "seven"})
    ready = workflow.get_next_task(state=TaskState.READY, manual=True)
    del ready.data[7]
    ready.data[7.5] = "odd"
    converter, ids, tasks = serializer._WORKFLOWS.tasks, {}, workflow.tasks
    assert converter is not None
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
    writer = serializer.StateWriter()
    ready = workflow.get_next_task(state=TaskState.READY, manual=True)
    ready.internal_data["ef_when"] = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
    ready.internal_data["ef_ref"] = ready.id
    assert serializer._WORKFLOWS.encoded(workflow, writer) is not None
    assert _written(workflow, writer) == _stock_text(workflow)
    assert '"typename":"datetime"' in _written(workflow, writer)
    ready.internal_data["ef_ref"] = "plain"
    assert _written(workflow, writer) == _stock_text(workflow)
    ready.internal_data["ef_ratio"] = float("nan")  # not native: the stock path
    assert serializer._WORKFLOWS.encoded(workflow, writer) is None
    assert _written(workflow, writer) == _stock_text(workflow)
    ready.internal_data.clear()
    assert _written(workflow, writer) == _stock_text(workflow)


@pytest.mark.parametrize("process_id", ["fx_ten", "fx_handle", "fx_rating", "fx_nested"])
def test_a_saved_state_loads_back_to_the_same_state(process_id: str) -> None:
    """What either path writes loads back into a workflow that writes the same text again (round trip)."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = _deployments(clock)[process_id]
    for handle in steps(deployment, clock, {"title": "路灯不亮", "unit": "市住建局"}, STEP_DATA, 0):
        state = handle.dump()
        loaded = deployment.runtime.load(state, "i")
        assert isinstance(loaded, SpiffWorkflow)
        assert _stock_text(_inner(loaded)) == _stock_text(_inner(handle))


def _fresh_pieces(workflow: Any) -> dict[int, bytes]:
    """Every settled task's piece as a writer that has seen nothing writes it (by ``id()`` of the task)."""
    writer = serializer.StateWriter()
    assert serializer._WORKFLOWS.encoded(workflow, writer) is not None
    return {key: entry[3] for key, entry in writer.pieces.items()}


@pytest.mark.parametrize("offset", [0, 2], ids=["work-first", "time-first"])
@pytest.mark.parametrize("process_id", ["fx_ten", "fx_handle", "fx_rating", "fx_nested"])
def test_a_loaded_workflow_keeps_the_pieces_it_was_read_from(process_id: str, offset: int) -> None:
    """A load keeps each settled task's entry of the saved text as its piece (so the first save after a load
    rewrites only what changed): at every step, those pieces are exactly the ones a fresh writer makes for
    the loaded tasks, and what the loaded workflow writes — at once and after its next step — is the stock
    text."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = _deployments(clock)[process_id]
    seeded = 0
    for handle in steps(deployment, clock, {"title": "路灯不亮", "unit": "市住建局"}, STEP_DATA, offset):
        state = handle.dump()
        loaded = deployment.runtime.load(state, "i")
        assert isinstance(loaded, SpiffWorkflow)
        kept = {key: entry[3] for key, entry in loaded._writer.pieces.items()}
        text = serializer.decompress_state(state)
        if serializer._task_pieces(text, json.loads(text)["workflow"]) is None:
            assert kept == {}  # e.g. a message kept as a pending event: not the common layout
        else:
            assert kept == _fresh_pieces(_inner(loaded))
        seeded += len(kept)
        assert _written(_inner(loaded), loaded._writer) == _stock_text(_inner(loaded))
        ready = loaded.snapshot(clock.now()).tasks
        if ready:
            loaded.complete(ready[0].id, dict(STEP_DATA), clock.now())
            assert _written(_inner(loaded), loaded._writer) == _stock_text(_inner(loaded))
    # A workflow with subprocesses (fx_nested's embedded one) is not the common layout: it keeps none.
    assert (seeded > 0) is (process_id != "fx_nested")


def test_a_state_not_laid_out_as_the_fast_path_writes_it_keeps_no_piece() -> None:
    """Text the entries cannot be told apart in — a data dict whose last key is a ``typename`` of ``Task``
    (the engine refuses that key in process data, but a state could hold it), an older format, a state
    written with other separators — gives no pieces; the state as the fast path writes it gives one per
    task."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    handle = _deployments(clock)["fx_ten"].runtime.new("i")
    assert isinstance(handle, SpiffWorkflow)
    handle.start({}, clock.now())
    text = serializer.decompress_state(handle.dump())
    body = json.loads(text)
    pieces = serializer._task_pieces(text, body["workflow"])
    assert pieces is not None
    assert len(pieces) == len(body["workflow"]["tasks"])
    for piece, key in zip(pieces, body["workflow"]["tasks"], strict=True):
        assert piece.startswith(b'"' + key.encode() + b'":{"id":"')
        assert piece.endswith(b'"typename":"Task"}')
        assert json.loads(b"{" + piece + b"}")[key] == body["workflow"]["tasks"][key]
    assert b'"data":{}' in text
    smuggled = text.replace(b'"data":{}', b'"data":{"x":{"a":1,"typename":"Task"},"y":2}', 1)
    assert serializer._task_pieces(smuggled, json.loads(smuggled)["workflow"]) is None
    spaced = json.dumps(body).encode("utf-8")  # ", " and ": " separators
    assert serializer._task_pieces(spaced, json.loads(spaced)["workflow"]) is None
    body["format_version"] = 1
    older = orjson.dumps(body)
    assert serializer._task_pieces(older, json.loads(older)["workflow"]) is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), json_values, max_size=4))
def test_any_json_data_is_written_as_the_stock_path_writes_it(data: dict[str, Any]) -> None:
    """Whatever JSON data a task completes with — floats of every magnitude included (orjson and the stdlib
    write 2.5e-05 differently: the fast path leaves those to the stock path) — the fast path's bytes are the
    stock path's, before and after the next step."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    handle = _deployments(clock)["fx_ten"].runtime.new("i")
    assert isinstance(handle, SpiffWorkflow)
    handle.start({}, clock.now())
    writer = serializer.StateWriter()
    for _ in range(2):
        (task,) = handle.snapshot(clock.now()).tasks
        handle.complete(task.id, data, clock.now())
        workflow = _inner(handle)
        assert _written(workflow, writer) == _stock_text(workflow)
