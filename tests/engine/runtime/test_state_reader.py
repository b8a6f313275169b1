"""The runtime's fast state reader (engine/runtime/serializer.py ``restore_tasks``, a fast path) restores
exactly what its stock path — SpiffWorkflow's own ``TaskConverter.from_dict`` through the registry — restores:
the same tasks in the same order, with the same states, links, spec, flags, internal data and data, the same
waiting catch events, and so the same saved text — at every step of every fixture process."""

from __future__ import annotations

import pickle
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from tests.engine._stepping import deployments, steps

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine.runtime import serializer
from efficacy_flow.testing import FakeClock

FIXTURES = Path(__file__).parents[1] / "fixtures"
STEP_DATA: dict[str, Any] = {
    "reply": "已答复",
    "resolved": True,
    "rating": "满意",
    "note": {"by": "张三", "scores": [1, 2.5e-05, -3], "typenames": ["not a converter's"]},
}
CASES = [
    ("basic", "fx_ten"),
    ("basic", "fx_handle"),
    ("basic", "fx_rating"),
    ("basic", "fx_nested"),
    ("durable", "fx_durable"),
    ("steps", "fx_cohandle"),
]


def _fingerprint(workflow: Any) -> list[tuple[Any, ...]]:
    """Every attribute of each task, in task order (restore_tasks builds a task without Task.__init__, so
    an attribute the stock path sets and the fast one does not — or sets otherwise — shows here), and which
    data values a task shares with its parent (the stock merge copies lists and dicts one level deep)."""
    rows = []
    for key, task in workflow.tasks.items():
        attributes = dict(vars(task))
        assert attributes.pop("workflow") is workflow
        attributes["task_spec"] = attributes["task_spec"].name
        parent = workflow.tasks.get(task._parent)
        shared = sorted(k for k, v in task.data.items() if parent is not None and parent.data.get(k) is v)
        rows.append((key, sorted(attributes.items()), shared))
    return rows


def _loaded(state: bytes, deployment: Any, fast: bool) -> Any:
    runtime = deployment.runtime
    writer = serializer.StateWriter() if fast else None
    return serializer.load_state(
        state, runtime._spec, runtime._subprocess_specs, runtime._engine, "i", writer
    )


@pytest.mark.parametrize("offset", [0, 2], ids=["work-first", "time-first"])
@pytest.mark.parametrize(("folder", "process_id"), CASES, ids=[c[1] for c in CASES])
def test_every_saved_step_reads_back_as_the_stock_converters_read_it(
    folder: str, process_id: str, offset: int
) -> None:
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = deployments(FIXTURES / folder, clock)[process_id]
    start: dict[str, Any] = {"title": "路灯不亮", "unit": "市住建局"}
    if process_id == "fx_cohandle":  # one step per unit: "unit" is each step's own item
        start = {"units": ["市住建局", "市水务局"]}
    checked = 0
    for handle in steps(deployment, clock, start, STEP_DATA, offset):
        state = handle.dump()
        fast, stock = _loaded(state, deployment, True), _loaded(state, deployment, False)
        assert _fingerprint(fast) == _fingerprint(stock)
        assert set(fast.event_manager.tasks) == set(stock.event_manager.tasks)
        assert fast.task_tree.id == stock.task_tree.id
        assert (fast.last_task.id if fast.last_task else None) == (
            stock.last_task.id if stock.last_task else None
        )
        assert serializer.dump_state_stock(fast) == serializer.dump_state_stock(stock)
        checked += 1
    assert checked > 1


def test_a_registry_value_in_the_data_takes_the_registry_path() -> None:
    """A data value the registry converts (a dict naming a converter's ``typename``) is restored by the
    registry, as the stock path does; plain JSON is taken as parsed."""
    assert serializer._plain({"a": [1, {"b": None}], "c": "typename"})
    assert not serializer._plain({"a": [{"typename": "datetime", "value": "2025-01-01"}]})
    assert not serializer._plain([{"typename": "x"}])


@pytest.mark.parametrize(
    "text",
    [
        "6f1c2a5e-9c1b-4d3a-8f0e-1a2b3c4d5e6f",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "6F1C2A5E9C1B4D3A8F0E1A2B3C4D5E6F",
    ],
)
def test_the_reader_makes_the_uuid_the_stock_parse_makes(text: str) -> None:
    """``uuid_of`` gives what ``UUID(int=int(text.replace("-", ""), 16))`` gives: equal, the same hash, text,
    version, ``is_safe`` and pickled form; text beyond 128 bits or not hexadecimal is refused alike."""
    ours, stock = serializer.uuid_of(text), UUID(int=int(text.replace("-", ""), 16))
    assert type(ours) is UUID
    assert ours == stock
    assert hash(ours) == hash(stock)
    assert (str(ours), ours.version, ours.is_safe, ours.hex) == (
        str(stock),
        stock.version,
        stock.is_safe,
        stock.hex,
    )
    assert pickle.loads(pickle.dumps(ours)) == stock
    for bad, problem in (("1" + "f" * 32, "out of range"), ("not-a-uuid", "invalid literal")):
        with pytest.raises(ValueError, match=problem):
            serializer.uuid_of(bad)
        with pytest.raises(ValueError, match=problem):
            UUID(int=int(bad.replace("-", ""), 16))


def test_a_link_written_in_upper_case_finds_its_task_as_the_stock_reader_does() -> None:
    """A parent id written otherwise than its task's key (upper case: the same UUID) still names that task,
    so the child's data is merged from the parent's delta exactly as the stock reader merges it."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    deployment = deployments(FIXTURES / "basic", clock)["fx_ten"]
    handle = next(iter(steps(deployment, clock, {"title": "路灯不亮"}, STEP_DATA, 0)))
    body = orjson.loads(serializer.decompress_state(handle.dump()))
    tasks = body["workflow"]["tasks"]
    children = [t for t in tasks.values() if t["parent"] is not None and t["delta"]]
    assert children
    for task in children:
        task["parent"] = task["parent"].upper()
    state = serializer.compress_state(orjson.dumps(body))
    fast, stock = _loaded(state, deployment, True), _loaded(state, deployment, False)
    assert [t.data for t in fast.tasks.values()] == [t.data for t in stock.tasks.values()]
    assert any(t.data for t in fast.tasks.values() if t._parent is not None)
    assert _fingerprint(fast) == _fingerprint(stock)
