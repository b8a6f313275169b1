"""Saved-state upgrades: golden saved instances of every format load into a store and run to completion.

tests/engine/golden/format1_fx_durable_*.json are fx_durable instances (fixtures/durable: timers, parallel
branches, a call activity, a message) saved by format 1 at five wait states. Each file holds everything the
store keeps of one instance — the definition, the instance row with its saved state (decompressed, so a
review sees it), its task, deadline and audit rows — exactly as a running database holds them. The tests
copy each into a fresh store (SQLite and PostgreSQL) and drive it to the end through the public API; every
later format adds its own files here and the old ones stay (never regenerate an old format's files: they are
what running databases hold). Write the current format's files with
``EFFICACY_FLOW_WRITE_GOLDEN=1 pytest tests/engine/test_upgrades.py -k writes``.

SpiffWorkflow 3.2.0's own migration of saved serializations (``BpmnWorkflowSerializer.migrate``) fails on
serializer versions 1.3 and 1.4 whenever the state holds a sub-process or call activity: the loops in
``update_mi_states`` and ``update_event_gateway_children`` iterate ``for up in ...`` and then read ``sp``
(design.md, SpiffWorkflow section). The engine never runs those migrations — its states carry their own
``format_version`` and are restored by the engine's converter — and a bare SpiffWorkflow serialization (no
``format_version``) is refused with ``StoreError``. The last tests reproduce the bug and show both facts.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import STATE_FORMAT_VERSION, Actor, Engine
from efficacy_flow.engine._definitions import DEFINITION_FORMAT
from efficacy_flow.engine.runtime import serializer
from efficacy_flow.errors import StoreError
from efficacy_flow.store import AuditRecord, DeadlineRecord, InstanceRecord, Store, TaskRecord
from efficacy_flow.store._converters import time_limit_from_text, time_limit_text
from efficacy_flow.store._migrations import remaining_v2
from efficacy_flow.testing import FakeClock

GOLDEN = Path(__file__).parent / "golden"
DURABLE = Path(__file__).parent / "fixtures" / "durable"
#: Friday 2025-09-26 10:00 in Beijing, the moment every golden instance was started.
STARTED = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
ALL_ROLES = Actor("zb-01", {"受理员", "承办单位", "审核员", "督办员"})
#: The completion data each fx_durable user task accepts (fixtures/durable/schemas.yaml).
FITTING: dict[str, dict[str, Any]] = {
    "Task_Handle": {"reply": "已办"},
    "Task_Check": {"approved": True},
    "Task_Notify": {"notified": True},
    "Task_Confirm": {"confirmed": True},
    "Task_Escalate": {},
}


# -- writing the golden files --------------------------------------------------------------------------------


def _at_handle(engine: Engine, instance_id: str) -> None:
    """Waiting at Task_Handle with both its timers pending."""


def _parallel_half(engine: Engine, instance_id: str) -> None:
    """Task_Handle and Task_Check done: the parallel join waits for Task_Notify."""
    _complete(engine, instance_id, "Task_Handle")
    _complete(engine, instance_id, "Task_Check")


def _in_call_activity(engine: Engine, instance_id: str) -> None:
    """Inside the call activity at Task_Confirm, its reminder and the call's own time limit pending."""
    _parallel_half(engine, instance_id)
    _complete(engine, instance_id, "Task_Notify")


def _message_wait(engine: Engine, instance_id: str) -> None:
    """After the call activity (its reminder fired first), waiting for the rating message."""
    _in_call_activity(engine, instance_id)
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(hours=3))
    fired = [f.element_id for f in engine.tick() if f.instance_id == instance_id]
    assert fired == ["Timer_Remind"]
    _complete(engine, instance_id, "Task_Confirm")


def _suspended(engine: Engine, instance_id: str) -> None:
    """Suspended (暂停计时) at Task_Handle: its timers keep what remained and have no due time."""
    engine.suspend(instance_id, "听证", ALL_ROLES)


#: name -> (how to reach the wait state, the ready user tasks there, the pending timers there)
CASES: dict[str, tuple[Callable[[Engine, str], None], list[str], list[str]]] = {
    "at_handle": (_at_handle, ["Task_Handle"], ["Timer_Limit", "Timer_Warn"]),
    "parallel_half": (_parallel_half, ["Task_Notify"], []),
    "in_call_activity": (
        _in_call_activity,
        ["Task_Confirm"],
        ["Timer_Confirm", "Timer_Remind"],
    ),
    "message_wait": (_message_wait, [], []),
    "suspended": (_suspended, ["Task_Handle"], ["Timer_Limit", "Timer_Warn"]),
}
#: Every released format whose golden files are kept (never delete one: running databases hold them).
FORMATS = list(range(1, STATE_FORMAT_VERSION + 1))


def _file(version: int, case: str) -> str:
    return f"format{version}_fx_durable_{case}"


def _complete(engine: Engine, instance_id: str, element_id: str) -> None:
    (task,) = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == element_id]
    engine.complete(task.id, FITTING[element_id], ALL_ROLES)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return time_limit_text(value) if isinstance(value, TimeLimit) else value


def _jsonable(record: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)}


def _dump(engine: Engine, instance_id: str) -> dict[str, Any]:
    """Everything the store holds of one instance, as JSON."""
    with engine.store.transaction() as tx:
        record = tx.get_instance(instance_id)
        assert record is not None
        definition = tx.get_definition(record.definition_hash)
        audit = tx.audit_of(instance_id)
        closed_ids = [json.loads(a.after or "{}").get("task_id") for a in audit if a.kind == "task_completed"]
        task_rows = tx.ready_tasks(instance_id=instance_id) + [tx.get_task(i) for i in closed_ids if i]
        deadline_rows = tx.deadlines_of(instance_id)
    assert definition is not None
    instance = _jsonable(record)
    instance["state"] = json.loads(serializer.decompress_state(record.state))
    return {
        "format_version": record.format_version,
        "definition": {"hash": record.definition_hash, "content": json.loads(definition)},
        "instance": instance,
        # Ordered by element id: row ids are random, the order must not be.
        "tasks": sorted((_jsonable(t) for t in task_rows if t is not None), key=lambda t: t["element_id"]),
        "deadlines": sorted((_jsonable(d) for d in deadline_rows), key=lambda d: d["element_id"]),
        "audit": [_jsonable(a) for a in audit],
    }


def _write(make_engine: Callable[..., Engine], target: Path) -> None:
    for case, (reach, _, _) in CASES.items():
        engine = make_engine(DURABLE, clock=FakeClock(STARTED))
        # One database holds every case: each its own business key (one open instance per key, schema 3).
        instance_id = engine.start(
            "fx_durable", {"title": "路灯不亮"}, Actor("op", {"受理员"}), f"12345-{case}"
        ).id
        reach(engine, instance_id)
        body = _dump(engine, instance_id)
        name = _file(STATE_FORMAT_VERSION, case)
        (target / f"{name}.json").write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", "utf-8")


#: Columns later store schemas added to the rows (2: incident_id; 4: a task's assignee and urges), which
#: the golden files' rows do not all hold.
_LATER_COLUMNS = frozenset({"incident_id", "assignee", "urges", "last_urged_at"})


def _columns(row: dict[str, Any]) -> list[str]:
    """A row's column names, without those of later store schemas than the golden files'."""
    return sorted(row.keys() - _LATER_COLUMNS)


def _golden(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return body


@pytest.mark.parametrize("case", list(CASES))
def test_current_format_writes_what_the_golden_files_hold(
    make_engine: Callable[..., Engine], tmp_path: Path, case: str
) -> None:
    """Today's writer produces the committed files' format, definition and row shapes (ids aside); with
    EFFICACY_FLOW_WRITE_GOLDEN=1 it writes the current format's files (an older format's are never
    rewritten)."""
    name = _file(STATE_FORMAT_VERSION, case)
    target = GOLDEN if os.environ.get("EFFICACY_FLOW_WRITE_GOLDEN") == "1" else tmp_path
    if target == GOLDEN or not (target / f"{name}.json").exists():
        _write(make_engine, target)
    fresh = json.loads((target / f"{name}.json").read_text(encoding="utf-8"))
    golden = _golden(name)
    assert fresh["format_version"] == golden["format_version"]
    # The definition as stored, but for its content format: today's is DEFINITION_FORMAT (2), and the
    # committed files keep the format they were written in (running databases hold format-1 definitions).
    fresh_content, golden_content = fresh["definition"]["content"], golden["definition"]["content"]
    assert fresh_content["format"] == DEFINITION_FORMAT >= golden_content["format"]
    assert {**fresh_content, "format": None} == {**golden_content, "format": None}
    assert _columns(fresh["instance"]) == _columns(golden["instance"])
    assert sorted(fresh["instance"]["state"]) == sorted(golden["instance"]["state"])
    for rows in ("tasks", "deadlines", "audit"):
        assert [_columns(r) for r in fresh[rows]] == [_columns(r) for r in golden[rows]]
        assert [r.get("element_id") or r.get("kind") for r in fresh[rows]] == [
            r.get("element_id") or r.get("kind") for r in golden[rows]
        ]


# -- loading the golden files and running them to the end ----------------------------------------------------

_INSTANTS = {
    "created_at",
    "updated_at",
    "suspended_at",
    "ready_at",
    "due_at",
    "closed_at",
    "fired_at",
    "lease_until",
    "at",
}


def _record(cls: type[Any], row: dict[str, Any], **extra: Any) -> Any:
    values = {k: datetime.fromisoformat(v) if k in _INSTANTS and v is not None else v for k, v in row.items()}
    if cls is DeadlineRecord:
        values.update(_deadline_columns(values))
    return cls(**{**values, **extra})


def _deadline_columns(row: dict[str, Any]) -> dict[str, Any]:
    """A deadline row's ``kind`` and ``remaining`` as the store holds them since schema 2: a schema-1 row's
    are converted as the store's upgrade does (tests/store/test_store_migrations.py runs that upgrade on real
    schema-1 databases)."""
    kind, remaining = row.get("kind"), row.get("remaining")
    if isinstance(remaining, str):
        remaining = time_limit_from_text(remaining_v2(remaining) if ":" in remaining else remaining)
    return {"kind": "minutes" if kind == "elapsed" else kind, "remaining": remaining}


def _restore(store: Store, body: dict[str, Any]) -> str:
    """Put a golden instance into a store, row for row, as the database that saved it held it."""
    instance = dict(body["instance"])
    state = json.dumps(instance.pop("state"), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    record: InstanceRecord = _record(InstanceRecord, instance, state=serializer.compress_state(state))
    definition = json.dumps(body["definition"]["content"], ensure_ascii=False).encode("utf-8")
    with store.transaction() as tx:
        tx.put_definition(body["definition"]["hash"], record.process_id, definition, record.created_at)
        tx.insert_instance(record)
        rows = [_record(TaskRecord, t) for t in body["tasks"]]
        # Inserted as they are (status included): the call writes rows it does not know yet verbatim.
        tx.sync_tasks(record.id, rows, closed_status="cancelled", at=record.updated_at, by=None, previous=[])
        deadlines = [_record(DeadlineRecord, d) for d in body["deadlines"]]
        tx.replace_deadlines(record.id, deadlines, previous=[])
        for event in body["audit"]:
            tx.append_audit(_record(AuditRecord, event))
    return record.id


def _drive(engine: Engine, clock: FakeClock, instance_id: str, let_lapse: frozenset[str]) -> list[str]:
    """Run an instance to its end: resume it if suspended, complete a ready task (the first by element id)
    unless it is one to ``let_lapse``, send the rating when it waits for nothing else, or else move the clock
    to its next due time and tick. Returns the steps taken."""
    steps: list[str] = []
    for _ in range(20):
        view = engine.instance(instance_id)
        if view.status == "completed":
            return steps
        if view.status == "suspended":
            engine.resume(instance_id, ALL_ROLES)
            steps.append("resume")
            continue
        workable = sorted(
            (t for t in view.tasks if t.element_id not in let_lapse), key=lambda t: t.element_id
        )
        if workable:
            task = workable[0]
            engine.complete(task.id, FITTING[task.element_id], ALL_ROLES)
            steps.append(task.element_id)
            continue
        with engine.store.transaction() as tx:
            due = sorted(d.due_at for d in tx.deadlines_of(instance_id) if d.due_at is not None)
        if not due and not view.tasks:
            engine.message("rating", {"rating": "满意"}, {"business_key": view.business_key})
            steps.append("rating")
            continue
        clock.set(due[0])
        fired = sorted(f.element_id for f in engine.tick() if f.instance_id == instance_id)
        steps.append("tick:" + "+".join(fired))
    pytest.fail(f"instance did not complete: {steps}")


#: name -> (the clock when the saved instance is loaded again, the steps that run it to its end; in the first
#: case Task_Handle is left to lapse so that both its timers fire after loading)
RUNS: dict[str, tuple[datetime, list[str]]] = {
    "at_handle": (
        datetime(2025, 9, 26, 11, 0, tzinfo=CHINA_TZ),
        ["tick:Timer_Warn", "tick:Timer_Limit", "Task_Escalate"],
    ),
    "parallel_half": (
        datetime(2025, 9, 26, 11, 0, tzinfo=CHINA_TZ),
        ["Task_Notify", "Task_Confirm", "rating"],
    ),
    "in_call_activity": (
        datetime(2025, 9, 26, 11, 0, tzinfo=CHINA_TZ),
        ["Task_Confirm", "rating"],
    ),
    "message_wait": (datetime(2025, 9, 27, 9, 0, tzinfo=CHINA_TZ), ["rating"]),
    # Resumed after the National Day holiday: the warning had run out (it fires on resume), the time limit
    # still had its 2 working days.
    "suspended": (
        datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ),
        ["resume", "Task_Handle", "Task_Check", "Task_Notify", "Task_Confirm", "rating"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("version", FORMATS, ids=[f"format{v}" for v in FORMATS])
def test_golden_instance_loads_and_runs_to_completion(
    make_engine: Callable[..., Engine], version: int, case: str
) -> None:
    """An instance saved by each released format, copied into a fresh store (definition from the store,
    nothing deployed), shows the wait state it was saved in, runs to its end through the public API, and
    keeps its history: the saved events are the unchanged start of the chain, and the whole chain and store
    verify."""
    name = _file(version, case)
    body = _golden(name)
    assert body["format_version"] == version
    at, expected_steps = RUNS[case]
    clock = FakeClock(at)
    engine = make_engine(None, clock=clock)
    instance_id = _restore(engine.store, body)
    _, ready, pending = CASES[case]
    view = engine.instance(instance_id)
    assert sorted(t.element_id for t in view.tasks) == ready
    assert [t.id for t in engine.tasks(instance_id=instance_id)] == [
        t["id"] for t in body["tasks"] if t["status"] == "ready"
    ]
    with engine.store.transaction() as tx:
        assert sorted(d.element_id for d in tx.deadlines_of(instance_id)) == pending
    report = engine.check_consistency()
    assert report.ok, report.summary()

    let_lapse = frozenset({"Task_Handle"}) if case == "at_handle" else frozenset()
    assert _drive(engine, clock, instance_id, let_lapse) == expected_steps

    final = engine.instance(instance_id)
    assert final.status == "completed"
    assert final.first_responder == "op"
    assert engine.verify_history(instance_id).ok
    history = engine.history(instance_id)
    assert [e.kind for e in history[: len(body["audit"])]] == [a["kind"] for a in body["audit"]]
    with engine.store.transaction() as tx:
        chain = tx.audit_of(instance_id)
    assert [a.hash for a in chain[: len(body["audit"])]] == [a["hash"] for a in body["audit"]]
    assert history[-1].kind == "instance_completed"
    report = engine.check_consistency()
    assert report.ok, report.summary()


# -- SpiffWorkflow 3.2.0's migration bug: saved 3.0/3.1 states with sub-processes ----------------------------

#: A call activity (the shape of state that trips the bug) on stock SpiffWorkflow: no engine classes.
CALLING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_fx_caller"
    targetNamespace="http://efficacy-flow.test/fixtures">
  <bpmn:process id="fx_caller" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Call_Sub"/>
    <bpmn:callActivity id="Call_Sub" calledElement="fx_called"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Call_Sub" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>
  </bpmn:process>
  <bpmn:process id="fx_called" isExecutable="true">
    <bpmn:startEvent id="StartEvent_2"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="StartEvent_2" targetRef="Task_Sub"/>
    <bpmn:userTask id="Task_Sub"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_Sub" targetRef="EndEvent_2"/>
    <bpmn:endEvent id="EndEvent_2"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _bare_saved_state(serializer_version: str) -> tuple[str, Any, Any]:
    """A workflow waiting inside a call activity, saved by SpiffWorkflow's own serializer and labelled with
    an older serializer version. The relabelling is faithful: the 1.3 -> 1.4 -> 1.5 changes concern only
    multi-instance and event-based-gateway tasks, which this process has none of."""
    parser = CamundaParser()
    parser.add_bpmn_str(CALLING.encode("utf-8"))
    spec, subprocess_specs = parser.get_spec("fx_caller"), parser.get_subprocess_specs("fx_caller")
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.do_engine_steps()
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY)] == ["Task_Sub"]
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    saved = json.loads(serializer.serialize_json(workflow))
    assert saved["subprocesses"], "the state must hold a sub-process to meet the bug"
    saved["serializer_version"] = serializer_version
    return json.dumps(saved), spec, subprocess_specs


@pytest.mark.parametrize("version", ["1.3", "1.4"], ids=["serializer-1.3", "serializer-1.4"])
def test_spiffworkflow_migration_of_older_states_with_subprocesses_crashes(version: str) -> None:
    """The bug itself (SpiffWorkflow 3.2.0, design.md): migrating a saved 1.3/1.4 state that holds a
    sub-process raises NameError ``sp`` — a crash, not a readable error. If this test starts failing,
    SpiffWorkflow fixed it: revisit the engine's refusal below."""
    text, _, _ = _bare_saved_state(version)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    with pytest.raises(NameError, match="'sp'"):
        serializer.deserialize_json(text)


def test_spiffworkflow_reads_the_same_state_at_its_current_version() -> None:
    """The contrast: labelled 1.5 (no migration), the same state loads and waits at Task_Sub."""
    text, _, _ = _bare_saved_state("1.5")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    workflow = serializer.deserialize_json(text)
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY)] == ["Task_Sub"]


@pytest.mark.parametrize("version", ["1.3", "1.4"], ids=["serializer-1.3", "serializer-1.4"])
def test_engine_load_path_refuses_a_bare_spiffworkflow_state_with_store_error(version: str) -> None:
    """The engine's load path never runs SpiffWorkflow's migrations: a bare 3.0/3.1 serialization has no
    ``format_version`` and is refused with StoreError naming it (not NameError)."""
    text, spec, subprocess_specs = _bare_saved_state(version)
    with pytest.raises(StoreError, match="format_version") as raised:
        serializer.load_state(zlib.compress(text.encode("utf-8")), spec, subprocess_specs, None, "i-1")
    assert raised.value.fields == {"format_version": None, "instance_id": "i-1"}


def test_engine_load_path_ignores_the_serializer_version_inside_its_own_format() -> None:
    """Inside an engine state (format 1) the workflow is restored by the engine's converter, which reads the
    task tree without calling SpiffWorkflow's migrate: a stray serializer_version 1.4 there cannot trigger
    the bug, and the workflow still waits inside its call activity."""
    text, spec, subprocess_specs = _bare_saved_state("1.4")
    body = zlib.compress(json.dumps({"format_version": 1, "workflow": json.loads(text)}).encode("utf-8"))
    workflow = serializer.load_state(body, spec, subprocess_specs, None, "i-1")
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY)] == ["Task_Sub"]
    assert workflow.subprocesses


def test_engine_with_a_bare_spiffworkflow_row_refuses_it_and_reports_it(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    """An instance row holding a bare SpiffWorkflow 3.1 state (e.g. imported from a system that stored
    SpiffWorkflow's JSON): reading it raises StoreError; in tick() it is the instance's failed step (logged,
    recorded for a retry, its timers held) while other instances still fire; and the consistency checker
    reports it as ``state_unreadable``."""
    clock = FakeClock(STARTED)
    engine = make_engine(DURABLE, clock=clock)
    broken = engine.start("fx_durable", {"title": "导入的旧案"}, Actor("op", {"受理员"})).id
    healthy = engine.start("fx_durable", {"title": "新案"}, Actor("op", {"受理员"})).id
    text, _, _ = _bare_saved_state("1.4")
    with engine.store.transaction() as tx:
        record = tx.get_instance(broken)
        assert record is not None
        tx.update_instance(broken, record.version, state=zlib.compress(text.encode("utf-8")))
    reader = make_engine(DURABLE, clock=clock)  # a fresh engine: nothing cached
    with pytest.raises(StoreError, match="format_version"):
        reader.instance(broken)
    clock.set(datetime(2025, 9, 26, 14, 0, tzinfo=CHINA_TZ))
    fired = reader.tick()
    assert [(f.instance_id, f.element_id) for f in fired] == [(healthy, "Timer_Warn")]
    assert any(broken in r.getMessage() for r in caplog.records)
    (failing,) = [i for i in reader.instances() if i.id == broken]
    assert failing.incident_id is not None  # a retry is scheduled; its timers wait for it
    with reader.store.read() as tx:
        incident = tx.get_incident(failing.incident_id)
    assert incident is not None
    assert (incident.status, incident.error, incident.attempts) == ("retrying", "StoreError", 1)
    report = reader.check_consistency()
    assert {(f.instance_id, f.check) for f in report.findings} == {(broken, "state_unreadable")}
