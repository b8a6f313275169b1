"""Golden saved instances: states written by earlier formats must load and run to completion.

Every run writes the current format's states to a temporary folder and checks that the committed files are
what the current format writes. Regenerate (only when adding a NEW format; never overwrite an old one) with
``EFFICACY_FLOW_WRITE_GOLDEN=1 pytest tests/engine/test_engine_golden.py``.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine, _spiff
from efficacy_flow.engine._definitions import DefinitionSource, Services, build_deployment
from efficacy_flow.engine._formats import UPGRADES, upgrade
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.errors import StoreError
from efficacy_flow.testing import FakeClock

GOLDEN = Path(__file__).parent / "golden"
BASIC = Path(__file__).parent / "fixtures" / "basic"
CASES = {
    "format1_fx_handle_waiting": ("fx_handle", {"title": "路灯不亮", "unit": "市住建局"}, None),
    "format1_fx_rating_message_wait": ("fx_rating", {}, {"reply": "已答复"}),
}


def _write(make_engine: Callable[..., Engine], target: Path) -> None:
    engine = make_engine()
    for name, (process_id, data, first_completion) in CASES.items():
        inst = engine.start(process_id, data, Actor("op", {"受理员"}))
        if first_completion is not None:
            task = engine.tasks(instance_id=inst.id)[0]
            engine.complete(task.id, first_completion, Actor("h", {"承办单位"}))
        with engine.store.transaction() as tx:
            record = tx.get_instance(inst.id)
            assert record is not None
            content = tx.get_definition(record.definition_hash)
        assert content is not None
        body = {
            "format_version": record.format_version,
            "definition": json.loads(content),
            # Stored decompressed so that a review sees the saved state itself.
            "state": json.loads(_spiff.decompress_state(record.state)),
        }
        (target / f"{name}.json").write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")


def test_current_format_writes_what_the_golden_files_hold(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """Today's writer produces the committed files' format, definition and state shape (ids aside)."""
    target = GOLDEN if os.environ.get("EFFICACY_FLOW_WRITE_GOLDEN") == "1" else tmp_path
    _write(make_engine, target)
    for name in CASES:
        fresh = json.loads((target / f"{name}.json").read_text(encoding="utf-8"))
        golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
        assert fresh["format_version"] == golden["format_version"]
        assert fresh["definition"] == golden["definition"]
        assert sorted(fresh["state"]) == sorted(golden["state"])


def _load(name: str, clock: FakeClock) -> Any:
    body = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    source = DefinitionSource.from_content(json.dumps(body["definition"]).encode())
    services = Services(sandbox=Sandbox(), clock=clock, calendar=china())
    dep = build_deployment(source, services)
    workflow = _spiff.load_state(
        zlib.compress(json.dumps(body["state"]).encode()), dep.spec, dep.subprocess_specs, dep.script_engine
    )
    return body, workflow


def test_golden_waiting_instance_runs_to_completion() -> None:
    """The format-1 instance waiting at Task_Handle keeps its data and due time and completes."""
    clock = FakeClock(datetime(2025, 9, 27, 9, 0, tzinfo=CHINA_TZ))
    body, workflow = _load("format1_fx_handle_waiting", clock)
    assert body["format_version"] == 1
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert [t.task_spec.bpmn_id for t in ready] == ["Task_Handle"]
    assert ready[0].data["title"] == "路灯不亮"
    timers = {t.task_spec.bpmn_id: t.internal_data["event_value"] for t in _spiff.waiting_timers(workflow)}
    assert timers["Timer_HandlingLimit"] == "2025-10-01T00:00:00+08:00"
    ready[0].data.update({"reply": "好", "resolved": True})
    ready[0].run()
    workflow.do_engine_steps()
    assert workflow.completed


def test_golden_message_wait_fires_on_message() -> None:
    """The format-1 instance waiting for a rating continues when the message arrives."""
    clock = FakeClock(datetime(2025, 9, 27, 9, 0, tzinfo=CHINA_TZ))
    _, workflow = _load("format1_fx_rating_message_wait", clock)
    workflow.catch(_spiff.message_event("rating", {"rating": "满意"}))
    workflow.do_engine_steps()
    assert workflow.completed
    assert workflow.last_task.data["rating"] == "满意"


def test_upgrade_chain_applies_each_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a format 2 declared, a format-1 state passes through UPGRADES[1] and is stamped 2."""
    monkeypatch.setattr(_spiff, "STATE_FORMAT_VERSION", 2)
    monkeypatch.setitem(UPGRADES, 1, lambda body: {**body, "upgraded": True})
    assert upgrade({"format_version": 1, "workflow": {}}) == {
        "format_version": 2,
        "workflow": {},
        "upgraded": True,
    }


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"workflow": {}}, id="missing"),
        pytest.param({"format_version": 0}, id="zero"),
        pytest.param({"format_version": 99}, id="newer"),
    ],
)
def test_unreadable_formats_raise(body: dict[str, Any]) -> None:
    """A state without a valid format, or from a newer release, raises StoreError."""
    with pytest.raises(StoreError):
        upgrade(body)
