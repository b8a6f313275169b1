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

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import STATE_FORMAT_VERSION, Actor, Engine
from efficacy_flow.engine._definitions import DEFINITION_FORMAT, DefinitionSource, Services, build_deployment
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine.runtime import Workflow, formats, serializer
from efficacy_flow.errors import StoreError
from efficacy_flow.testing import FakeClock

GOLDEN = Path(__file__).parent / "golden"
BASIC = Path(__file__).parent / "fixtures" / "basic"
#: The wait states kept as golden files of every format: (process, start data, first completion).
CASES = {
    "fx_handle_waiting": ("fx_handle", {"title": "路灯不亮", "unit": "市住建局"}, None),
    "fx_rating_message_wait": ("fx_rating", {}, {"reply": "已答复"}),
}
FORMATS = list(range(1, STATE_FORMAT_VERSION + 1))


def _write(make_engine: Callable[..., Engine], target: Path) -> None:
    engine = make_engine()
    for case, (process_id, data, first_completion) in CASES.items():
        name = f"format{STATE_FORMAT_VERSION}_{case}"
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
            "state": json.loads(serializer.decompress_state(record.state)),
        }
        (target / f"{name}.json").write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")


def test_current_format_writes_what_the_golden_files_hold(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """Today's writer produces the committed files' format, definition and state shape (ids aside)."""
    target = GOLDEN if os.environ.get("EFFICACY_FLOW_WRITE_GOLDEN") == "1" else tmp_path
    _write(make_engine, target)
    for case in CASES:
        name = f"format{STATE_FORMAT_VERSION}_{case}"
        fresh = json.loads((target / f"{name}.json").read_text(encoding="utf-8"))
        golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
        assert fresh["format_version"] == golden["format_version"]
        # Today's definitions are DEFINITION_FORMAT; the committed files keep the format they were written in.
        assert fresh["definition"]["format"] == DEFINITION_FORMAT >= golden["definition"]["format"]
        assert {**fresh["definition"], "format": None} == {**golden["definition"], "format": None}
        assert sorted(fresh["state"]) == sorted(golden["state"])


def _load(name: str, clock: FakeClock) -> tuple[dict[str, Any], Workflow]:
    body = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    source = DefinitionSource.from_content(json.dumps(body["definition"]).encode())
    services = Services(sandbox=Sandbox(), clock=clock, calendar=china())
    dep = build_deployment(source, services)
    state = zlib.compress(json.dumps(body["state"]).encode())  # zlib: as the first releases wrote states
    return body, dep.runtime.load(state, "golden")


@pytest.mark.parametrize("version", FORMATS, ids=[f"format{v}" for v in FORMATS])
def test_golden_waiting_instance_runs_to_completion(version: int) -> None:
    """The instance waiting at Task_Handle, saved by each format, keeps its data and due time and
    completes."""
    clock = FakeClock(datetime(2025, 9, 27, 9, 0, tzinfo=CHINA_TZ))
    body, workflow = _load(f"format{version}_fx_handle_waiting", clock)
    assert body["format_version"] == version
    snapshot = workflow.snapshot(clock.now())
    assert [t.element_id for t in snapshot.tasks] == ["Task_Handle"]
    assert json.loads(workflow.data_json())["title"] == "路灯不亮"
    timers = {t.element_id: t.due.due_at for t in snapshot.timers}
    assert timers["Timer_HandlingLimit"] == datetime(2025, 10, 1, tzinfo=CHINA_TZ)
    workflow.complete(snapshot.tasks[0].id, {"reply": "好", "resolved": True}, clock.now())
    assert workflow.completed


@pytest.mark.parametrize("version", FORMATS, ids=[f"format{v}" for v in FORMATS])
def test_golden_message_wait_fires_on_message(version: int) -> None:
    """The instance waiting for a rating, saved by each format, continues when the message arrives."""
    clock = FakeClock(datetime(2025, 9, 27, 9, 0, tzinfo=CHINA_TZ))
    _, workflow = _load(f"format{version}_fx_rating_message_wait", clock)
    assert workflow.waits_for("rating")
    workflow.catch("rating", {"rating": "满意"}, clock.now())
    assert workflow.completed
    assert json.loads(workflow.data_json())["rating"] == "满意"


def test_upgrade_chain_applies_each_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a format 3 declared, a format-1 state passes through UPGRADES[1] and [2] and is stamped 3."""
    monkeypatch.setattr(formats, "STATE_FORMAT_VERSION", 3)
    monkeypatch.setitem(formats.UPGRADES, 2, lambda body: {**body, "upgraded": True})
    assert formats.upgrade({"format_version": 1, "workflow": {}}) == {
        "format_version": 3,
        "workflow": {},
        "upgraded": True,
    }


def test_upgrade_one_to_two_rewrites_what_timers_count() -> None:
    """Format 1's ``ef_kind`` and ``wd:N``/``s:N`` become format 2's period unit and ``"<n> <unit>"`` texts,
    inside subprocesses too; other internal data is left as it is."""
    body = {
        "format_version": 1,
        "workflow": {
            "tasks": {
                "a": {
                    "internal_data": {"ef_kind": "working_days", "ef_remaining": "wd:3", "event_value": "x"}
                },
                "b": {"internal_data": {"ef_kind": "elapsed", "ef_remaining": "s:61"}},
                "c": {"internal_data": {"ef_ready_at": "2025-09-26T10:00:00+08:00"}},
            },
            "subprocesses": {"s": {"tasks": {"d": {"internal_data": {"ef_kind": "elapsed"}}}}},
        },
    }
    upgraded = formats.upgrade(body)
    tasks = upgraded["workflow"]["tasks"]  # type: ignore[index]
    assert tasks["a"]["internal_data"] == {
        "ef_period": "working_days",
        "ef_remaining": "3 working_days",
        "event_value": "x",
    }
    assert tasks["b"]["internal_data"] == {"ef_period": "minutes", "ef_remaining": "2 minutes"}
    assert tasks["c"]["internal_data"] == {"ef_ready_at": "2025-09-26T10:00:00+08:00"}
    sub = upgraded["workflow"]["subprocesses"]["s"]["tasks"]["d"]  # type: ignore[index]
    assert sub["internal_data"] == {"ef_period": "minutes"}


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
        formats.upgrade(body)
