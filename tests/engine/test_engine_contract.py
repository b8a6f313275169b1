"""The engine's contract (issue 4), run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import zstandard

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import (
    ConcurrentUpdate,
    InvalidData,
    InvalidState,
    NotAuthorized,
    StoreError,
    UnknownInstance,
    UnknownProcess,
    UnknownTask,
)
from efficacy_flow.testing import FakeClock

OPERATOR = Actor("op-1", {"受理员"})
HANDLER = Actor("h-1", {"承办单位"}, unit="市住建局")
OTHER_UNIT = Actor("h-2", {"承办单位"}, unit="市交通局")
REVIEWER = Actor("r-1", {"审核员"})
SUPERVISOR = Actor("s-1", {"督办员"})
START = {"title": "路灯不亮", "unit": "市住建局", "requester_phone": "13812345678"}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)  # type: ignore[misc]


def only_task(engine: Engine, instance_id: str):  # type: ignore[no-untyped-def]
    tasks = engine.tasks(instance_id=instance_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_start_records_first_responder_and_version(engine: Engine) -> None:
    """start() returns version 1, status active, the starter as first responder, and the schema's defaults."""
    inst = engine.start("fx_handle", START, OPERATOR, business_key="12345-0001")
    assert (inst.status, inst.version, inst.first_responder) == ("active", 1, "op-1")
    assert inst.business_key == "12345-0001"
    assert inst.data["urgency"] == "一般"
    assert engine.instance(inst.id).first_responder == "op-1"
    assert engine.history(inst.id)[0].actor == "op-1"


def test_ready_task_carries_role_unit_and_due_time(engine: Engine) -> None:
    """A ready task has its lane as role, the process unit, the ready instant and the working-day due time."""
    inst = engine.start("fx_handle", START, OPERATOR)
    task = only_task(engine, inst.id)
    assert (task.element_id, task.name, task.role, task.unit) == (
        "Task_Handle",
        "办理诉求",
        "承办单位",
        "市住建局",
    )
    assert task.ready_at == at(2025, 9, 26, 10, 0)
    assert task.due_at == at(2025, 10, 1, 0, 0)
    assert engine.tasks(role="承办单位", unit="市住建局") == [task]
    assert engine.tasks(role="审核员") == []
    assert engine.tasks(unit="市交通局") == []


def test_complete_runs_gateway_and_script(engine: Engine) -> None:
    """Completing with resolved=True takes the conditional flow, runs the script, and ends the instance."""
    inst = engine.start("fx_handle", START, OPERATOR)
    task = only_task(engine, inst.id)
    done = engine.complete(task.id, {"reply": "已修复", "resolved": True}, HANDLER)
    assert done.status == "completed"
    assert done.version == 2
    assert done.data["handled_count"] == 3
    assert engine.tasks(instance_id=inst.id) == []


def test_returned_view_lists_ready_tasks(engine: Engine) -> None:
    """start() and complete() return the instance's ready tasks, the same as engine.tasks() lists."""
    inst = engine.start("fx_handle", START, OPERATOR)
    assert list(inst.tasks) == engine.tasks(instance_id=inst.id)
    after = engine.complete(inst.tasks[0].id, {"reply": "转办", "resolved": False}, HANDLER)
    assert [t.element_id for t in after.tasks] == ["Task_Review"]
    assert list(after.tasks) == engine.tasks(instance_id=inst.id) == list(engine.instance(inst.id).tasks)


def test_default_flow_leads_to_review(engine: Engine) -> None:
    """resolved=False takes the gateway's default flow to the reviewer's task."""
    inst = engine.start("fx_handle", START, OPERATOR)
    engine.complete(only_task(engine, inst.id).id, {"reply": "转办", "resolved": False}, HANDLER)
    assert only_task(engine, inst.id).element_id == "Task_Review"


def test_process_data_survives_save_and_load(engine: Engine) -> None:
    """Start data and completion data are both in the process data after several stored steps."""
    inst = engine.start("fx_handle", START, OPERATOR)
    engine.complete(only_task(engine, inst.id).id, {"reply": "转办", "resolved": False}, HANDLER)
    data = engine.instance(inst.id).data
    assert (data["title"], data["unit"], data["reply"], data["resolved"]) == (
        "路灯不亮",
        "市住建局",
        "转办",
        False,
    )


@pytest.mark.parametrize(
    ("actor", "problem"),
    [
        pytest.param(REVIEWER, "role", id="wrong-role"),
        pytest.param(OTHER_UNIT, "unit", id="other-unit"),
    ],
)
def test_not_authorized(engine: Engine, actor: Actor, problem: str) -> None:
    """An actor without the lane's role, or of another unit, cannot complete the task; nothing changes."""
    inst = engine.start("fx_handle", START, OPERATOR)
    task = only_task(engine, inst.id)
    with pytest.raises(NotAuthorized) as caught:
        engine.complete(task.id, {"reply": "x", "resolved": True}, actor)
    assert problem in caught.value.message
    assert engine.instance(inst.id).version == 1


def test_actor_without_unit_is_not_restricted_by_unit(engine: Engine) -> None:
    """A hotline-centre actor (no unit) with the role may complete any unit's task."""
    inst = engine.start("fx_handle", START, OPERATOR)
    centre = Actor("centre", {"承办单位"})
    assert (
        engine.complete(only_task(engine, inst.id).id, {"reply": "好", "resolved": True}, centre).version == 2
    )


def test_second_completion_is_a_concurrent_update(engine: Engine) -> None:
    """Two completions of one task: the first wins, the second gets ConcurrentUpdate and changes nothing."""
    inst = engine.start("fx_handle", START, OPERATOR)
    task = only_task(engine, inst.id)
    engine.complete(task.id, {"reply": "a", "resolved": False}, HANDLER)
    with pytest.raises(ConcurrentUpdate):
        engine.complete(task.id, {"reply": "b", "resolved": True}, HANDLER)
    assert engine.instance(inst.id).version == 2
    assert only_task(engine, inst.id).element_id == "Task_Review"
    with engine.store.transaction() as tx:
        closed = tx.get_task(task.id)
    assert closed is not None
    assert (closed.status, closed.closed_by) == ("completed", "h-1")


def test_two_engines_on_one_store_one_wins(make_engine: Callable[..., Engine]) -> None:
    """Two engines (as two processes would) complete the same task: exactly one succeeds."""
    first, second = make_engine(), make_engine()
    inst = first.start("fx_handle", START, OPERATOR)
    task = only_task(first, inst.id)
    first.complete(task.id, {"reply": "a", "resolved": False}, HANDLER)
    with pytest.raises(ConcurrentUpdate):
        second.complete(task.id, {"reply": "b", "resolved": False}, HANDLER)
    assert [e.kind for e in second.history(inst.id)] == ["started", "task_completed"]


def test_a_cached_task_row_is_trusted_only_at_its_version(make_engine: Callable[..., Engine]) -> None:
    """``complete`` takes its task's row from the engine's cache only while the instance is at the cached
    version: after another engine moved the instance on (suspend and resume), the row is read again, and after
    another engine completed the task the late completion is a ConcurrentUpdate."""
    first, second = make_engine(), make_engine()
    inst = first.start("fx_handle", START, OPERATOR)  # first's cache: the instance at version 1
    task = only_task(first, inst.id)
    second.suspend(inst.id, "待补材料", SUPERVISOR)
    second.resume(inst.id, SUPERVISOR)
    view = first.complete(task.id, {"reply": "a", "resolved": False}, HANDLER)
    assert view.version == 4
    review = only_task(first, inst.id)
    assert review.element_id == "Task_Review"
    first.instance(inst.id)  # cached again, with Task_Review ready at version 4
    second.complete(review.id, {"approved": True}, REVIEWER)
    with pytest.raises(ConcurrentUpdate, match="already completed"):
        first.complete(review.id, {"approved": False}, REVIEWER)
    completed = [e.after["element_id"] for e in first.history(inst.id) if e.kind == "task_completed"]
    assert completed == ["Task_Handle", "Task_Review"]


def test_concurrent_completions_in_threads(make_engine: Callable[..., Engine]) -> None:
    """Two threads (each with its own engine) complete one task at the same time: one wins, one is refused."""
    first, second = make_engine(), make_engine()
    inst = first.start("fx_handle", START, OPERATOR)
    task = only_task(first, inst.id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(engine: Engine, reply: str) -> None:
        barrier.wait()
        try:
            engine.complete(task.id, {"reply": reply, "resolved": False}, HANDLER)
            outcomes.append("won")
        except ConcurrentUpdate:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(e, r)) for e, r in ((first, "a"), (second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "won"]
    assert first.instance(inst.id).version == 2
    assert [e.kind for e in first.history(inst.id)] == ["started", "task_completed"]
    assert first.verify_history(inst.id).ok


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param(b"x", id="neither-zstd-nor-zlib"),
        pytest.param(b"\x28\xb5\x2f\xfd\x20\x10garbage-garbage", id="zstd-garbage"),
        pytest.param(zstandard.compress(b"{}")[:-3], id="zstd-truncated"),
        pytest.param(b"\x28\xb5\x2f\xfd\x80\x00\x00\x00\x00\x80", id="zstd-size-of-2-GB"),
        pytest.param(b"\x28\xb5\x2f\xfd", id="zstd-magic-only"),
        pytest.param(b"\x78\x01garbage", id="zlib-garbage"),
    ],
)
def test_unreadable_state_is_a_store_error(engine: Engine, damaged: bytes) -> None:
    """A saved state that cannot be read raises StoreError (not a bare zstd, zlib or JSON error)."""
    inst = engine.start("fx_handle", START, OPERATOR)
    with engine.store.transaction() as tx:
        statement = "UPDATE ef_instances SET state = :s, version = 5 WHERE id = :i"
        tx.execute(statement, {"s": damaged, "i": inst.id})
    with pytest.raises(StoreError):
        engine.instance(inst.id)


def test_expected_version_mismatch(engine: Engine) -> None:
    """A completion that names an outdated version is refused."""
    inst = engine.start("fx_handle", START, OPERATOR)
    task = only_task(engine, inst.id)
    with pytest.raises(ConcurrentUpdate) as caught:
        engine.complete(task.id, {"reply": "a", "resolved": True}, HANDLER, expected_version=7)
    assert caught.value.fields["expected_version"] == 7
    assert (
        engine.complete(task.id, {"reply": "a", "resolved": True}, HANDLER, expected_version=1).version == 2
    )


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        pytest.param({"unit": "x"}, {"title"}, id="missing-required"),
        pytest.param({**START, "requester_phone": "12345"}, {"requester_phone"}, id="bad-pattern"),
        pytest.param({**START, "urgency": "特急"}, {"urgency"}, id="not-in-enum"),
        pytest.param({**START, "colour": "red"}, {"colour"}, id="unknown-field"),
        pytest.param({"title": "", "urgency": "x", "extra": 1}, {"urgency", "extra"}, id="several"),
    ],
)
def test_invalid_start_data_names_each_field_and_stores_nothing(
    engine: Engine, data: dict[str, object], fields: set[str]
) -> None:
    """Invalid start data raises InvalidData listing every bad field; no instance is stored."""
    with pytest.raises(InvalidData) as caught:
        engine.start("fx_handle", data, OPERATOR)
    assert fields <= {e["field"] for e in caught.value.errors}
    with engine.store.transaction() as tx:
        assert tx.count_instances() == 0


def test_invalid_completion_data_changes_nothing(engine: Engine) -> None:
    """A completion failing the task schema leaves the task ready and the version unchanged."""
    inst = engine.start("fx_handle", START, OPERATOR)
    task = only_task(engine, inst.id)
    with pytest.raises(InvalidData) as caught:
        engine.complete(task.id, {"reply": ""}, HANDLER)
    assert {e["field"] for e in caught.value.errors} == {"reply", "resolved"}
    assert only_task(engine, inst.id).id == task.id
    assert engine.instance(inst.id).version == 1


def test_unknown_process_task_and_instance(engine: Engine) -> None:
    """Unknown ids raise the typed NotFound errors."""
    with pytest.raises(UnknownProcess):
        engine.start("no_such_process", {}, OPERATOR)
    with pytest.raises(UnknownTask):
        engine.complete("00000000-0000-0000-0000-000000000000", {}, HANDLER)
    with pytest.raises(UnknownInstance):
        engine.instance("nope")


def test_scenario_working_days_across_national_day(engine: Engine, clock: FakeClock) -> None:
    """Issue 4's scenario: ready Friday 2025-09-26 with working_days(3) escalates at the end of 2025-09-30.

    The 28th is a make-up Sunday (a working day), so the three working days are 28, 29 and 30 September.
    Not one second before 2025-10-01 00:00.
    """
    inst = engine.start("fx_handle", START, OPERATOR)
    clock.set(at(2025, 9, 30, 23, 59, 59))
    fired = engine.tick()
    assert [f.element_id for f in fired] == ["Timer_Warning"]  # the 2-working-day warning is already due
    assert only_task(engine, inst.id).element_id == "Task_Handle"
    clock.advance(timedelta(seconds=1))
    fired = engine.tick()
    assert [(f.element_id, f.due_at) for f in fired] == [("Timer_HandlingLimit", at(2025, 10, 1))]
    escalation = only_task(engine, inst.id)
    assert (escalation.element_id, escalation.role) == ("Task_Escalate", "督办员")
    with engine.store.transaction() as tx:
        interrupted = tx.ready_tasks(instance_id=inst.id)
        handle = tx.get_task(inst.tasks[0].id)
    assert [t.element_id for t in interrupted] == ["Task_Escalate"]
    assert handle is not None
    assert (handle.status, handle.closed_by) == ("cancelled", None)
    kinds = [(e.kind, (e.after or {}).get("element_id")) for e in engine.history(inst.id)]
    assert kinds == [
        ("started", None),
        ("timer_fired", "Timer_Warning"),
        ("timer_fired", "Timer_HandlingLimit"),
    ]


def test_early_warning_does_not_interrupt(engine: Engine, clock: FakeClock) -> None:
    """The non-interrupting warning fires at the end of its 2 working days and the task stays ready."""
    inst = engine.start("fx_handle", START, OPERATOR)
    clock.set(at(2025, 9, 29, 23, 59))
    assert engine.tick() == []
    clock.set(at(2025, 9, 30, 0, 0))
    assert [f.element_id for f in engine.tick()] == ["Timer_Warning"]
    assert only_task(engine, inst.id).element_id == "Task_Handle"
    assert engine.tick() == []


def test_tick_touches_nothing_not_due(engine: Engine, clock: FakeClock) -> None:
    """tick() before anything is due changes no instance (versions stay, no audit events)."""
    ids = [engine.start("fx_handle", START, OPERATOR).id for _ in range(3)]
    clock.advance(timedelta(days=1))
    assert engine.tick() == []
    assert [engine.instance(i).version for i in ids] == [1, 1, 1]


def test_tick_never_loads_instances_that_are_not_due(
    make_engine: Callable[..., Engine], clock: FakeClock
) -> None:
    """tick() reads only due instances: the others' saved state could be garbage and tick would not notice."""
    engine = make_engine()
    due = engine.start("fx_handle", START, OPERATOR)
    clock.set(at(2025, 9, 30, 10, 0))
    others = [engine.start("fx_handle", START, OPERATOR).id for _ in range(3)]
    with engine.store.transaction() as tx:
        for other in others:
            tx.execute("UPDATE ef_instances SET state = :s WHERE id = :i", {"s": b"garbage", "i": other})
    clock.set(at(2025, 10, 1))
    worker = make_engine()  # a separate worker: nothing cached in memory
    assert {(f.instance_id, f.element_id) for f in worker.tick()} == {
        (due.id, "Timer_Warning"),
        (due.id, "Timer_HandlingLimit"),
    }


def test_completed_task_cancels_its_timers(engine: Engine, clock: FakeClock) -> None:
    """Completing a task in time removes its deadlines: a later tick fires nothing."""
    inst = engine.start("fx_handle", START, OPERATOR)
    engine.complete(only_task(engine, inst.id).id, {"reply": "ok", "resolved": False}, HANDLER)
    clock.set(at(2025, 10, 20))
    assert engine.tick() == []
    assert only_task(engine, inst.id).element_id == "Task_Review"


def test_message_is_validated_and_merged(engine: Engine) -> None:
    """A rating message continues the instance waiting for it; its payload drives the gateway."""
    inst = engine.start("fx_rating", {}, OPERATOR, business_key="BK-1")
    engine.complete(only_task(engine, inst.id).id, {"reply": "已答复"}, HANDLER)
    with pytest.raises(InvalidData):
        engine.message("rating", {"rating": "很好"}, {"business_key": "BK-1"})
    after = engine.message("rating", {"rating": "不满意"}, {"business_key": "BK-1"})
    assert after.data["rating"] == "不满意"
    assert only_task(engine, inst.id).element_id == "Task_Rework"
    with pytest.raises(InvalidState):
        engine.message("rating", {"rating": "满意"}, {"instance_id": inst.id})


def test_message_to_instance_not_waiting(engine: Engine) -> None:
    """A message the instance is not waiting for is refused with InvalidState."""
    inst = engine.start("fx_rating", {}, OPERATOR)
    with pytest.raises(InvalidState):
        engine.message("rating", {"rating": "满意"}, {"instance_id": inst.id})
    with pytest.raises(UnknownInstance):
        engine.message("rating", {"rating": "满意"}, {"business_key": "nobody"})


def test_suspend_and_resume_keep_remaining_working_days(engine: Engine, clock: FakeClock) -> None:
    """Suspended Monday 09-29 with working day 09-30 left; resumed 10-13, the limit ends at the end of 10-14.

    While suspended nothing fires, even long after the original due time.
    """
    inst = engine.start("fx_handle", START, OPERATOR)
    clock.set(at(2025, 9, 29, 15, 0))
    suspended = engine.suspend(inst.id, "听证", SUPERVISOR)
    assert suspended.status == "suspended"
    assert only_task(engine, inst.id).due_at is None
    clock.set(at(2025, 10, 13, 9, 0))
    assert engine.tick() == []
    with pytest.raises(InvalidState):
        engine.complete(only_task(engine, inst.id).id, {"reply": "x", "resolved": True}, HANDLER)
    resumed = engine.resume(inst.id, SUPERVISOR)
    assert resumed.status == "active"
    assert only_task(engine, inst.id).due_at == at(2025, 10, 15)
    clock.set(at(2025, 10, 14, 23, 59, 59))
    assert [f.element_id for f in engine.tick()] == ["Timer_Warning"]
    clock.set(at(2025, 10, 15))
    assert [f.element_id for f in engine.tick()] == ["Timer_HandlingLimit"]
    kinds = [e.kind for e in engine.history(inst.id)]
    assert kinds[:3] == ["started", "suspended", "resumed"]


def test_suspend_twice_and_resume_active_are_invalid(engine: Engine) -> None:
    """suspend() needs an active instance, resume() a suspended one."""
    inst = engine.start("fx_handle", START, OPERATOR)
    with pytest.raises(InvalidState):
        engine.resume(inst.id, SUPERVISOR)
    engine.suspend(inst.id, "听证", SUPERVISOR)
    with pytest.raises(InvalidState):
        engine.suspend(inst.id, "again", SUPERVISOR)


def test_extend_moves_the_deadline_and_is_audited(engine: Engine, clock: FakeClock) -> None:
    """An approved extension of 2 working days moves 09-30 (end) to 10-10 (end), past the National Day
    break."""
    inst = engine.start("fx_handle", START, OPERATOR)
    task = only_task(engine, inst.id)
    extended = engine.extend(task.id, "2个工作日", "情况复杂", SUPERVISOR)
    assert extended.due_at == at(2025, 10, 11)
    event = engine.history(inst.id)[-1]
    assert event.kind == "extended"
    assert event.actor == "s-1"
    assert event.before == {
        "due": {
            "Timer_HandlingLimit": "2025-10-01T00:00:00+08:00",
            "Timer_Warning": "2025-09-30T00:00:00+08:00",
        }
    }
    assert event.after["reason"] == "情况复杂"
    clock.set(at(2025, 10, 1))
    assert engine.tick() == []


def test_history_masks_personal_data_unless_asked(engine: Engine) -> None:
    """History masks phone and ID numbers; unmasked reading needs an actor and is itself audited."""
    inst = engine.start("fx_handle", {**START, "requester_id": "110105199001011234"}, OPERATOR)
    shown = engine.history(inst.id)[0].after["data"]
    assert shown["requester_phone"] == "138****5678"
    assert shown["requester_id"] == "110105********1234"
    raw = engine.history(inst.id, unmasked=True, actor=SUPERVISOR)[0].after["data"]
    assert raw["requester_phone"] == "13812345678"
    assert engine.history(inst.id)[-1].kind == "unmasked_history_read"
    assert engine.verify_history(inst.id).ok


def test_verify_history_detects_altered_event(engine: Engine) -> None:
    """Changing a stored event through SQL breaks the chain and is reported."""
    inst = engine.start("fx_handle", START, OPERATOR)
    engine.complete(only_task(engine, inst.id).id, {"reply": "a", "resolved": False}, HANDLER)
    assert engine.verify_history(inst.id)
    with engine.store.transaction() as tx:
        tx.execute(
            "UPDATE ef_audit_events SET actor = 'mallory' WHERE instance_id = :i AND seq = 1", {"i": inst.id}
        )
    check = engine.verify_history(inst.id)
    assert not check.ok
    assert check.problems == ("event 1 (started) was altered",)


@pytest.mark.parametrize(
    "seq", [pytest.param(1, id="first"), pytest.param(2, id="middle"), pytest.param(3, id="last")]
)
def test_verify_history_detects_removed_event(engine: Engine, seq: int) -> None:
    """Deleting any event, including the newest, is detected."""
    inst = engine.start("fx_handle", START, OPERATOR)
    engine.complete(only_task(engine, inst.id).id, {"reply": "a", "resolved": False}, HANDLER)
    engine.complete(only_task(engine, inst.id).id, {}, REVIEWER)
    assert engine.verify_history(inst.id).events == 4
    with engine.store.transaction() as tx:
        tx.execute(
            "DELETE FROM ef_audit_events WHERE instance_id = :i AND seq = :s", {"i": inst.id, "s": seq}
        )
    assert not engine.verify_history(inst.id).ok


def test_new_deployment_does_not_disturb_running_instances(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """A redeployed process with a different limit applies to new instances; a running one keeps its
    version."""
    source = Path(__file__).parent / "fixtures" / "basic"
    changed = tmp_path / "v2"
    changed.mkdir()
    for file in source.iterdir():
        body = file.read_text(encoding="utf-8").replace("working_days(3)", "working_days(10)")
        (changed / file.name).write_text(body, encoding="utf-8")
    engine = make_engine()
    old = engine.start("fx_handle", START, OPERATOR)
    hashes = engine.deploy(changed)
    new = engine.start("fx_handle", START, OPERATOR)
    assert new.definition_hash == hashes["fx_handle"] != old.definition_hash
    assert only_task(engine, old.id).due_at == at(2025, 10, 1)
    assert only_task(engine, new.id).due_at == at(2025, 10, 17)
    fresh = make_engine(processes=changed)  # a restarted engine still runs the old instance on its definition
    fresh.complete(only_task(fresh, old.id).id, {"reply": "a", "resolved": False}, HANDLER)
    assert only_task(fresh, old.id).element_id == "Task_Review"


def test_stored_state_is_small(engine: Engine) -> None:
    """The stored state of an instance at a wait state stays under 4 KB and does not embed the definition."""
    inst = engine.start("fx_ten", {}, OPERATOR)
    for _ in range(5):
        engine.complete(only_task(engine, inst.id).id, {"note": "ok"}, Actor("c", {"受理员"}))
    with engine.store.transaction() as tx:
        record = tx.get_instance(inst.id)
    assert record is not None
    assert len(record.state) <= 4096
    assert b"Task_10" not in record.state  # compressed, and the spec is not in it


def test_task_inside_subprocess_completes(engine: Engine) -> None:
    """A user task inside an embedded sub-process is listed with its lane and completes to the next."""
    inst = engine.start("fx_nested", {}, OPERATOR)
    inner = only_task(engine, inst.id)
    assert (inner.element_id, inner.role) == ("Task_Inner", "承办单位")
    after = engine.complete(inner.id, {}, HANDLER)
    assert [t.element_id for t in after.tasks] == ["Task_After"]


def test_timer_on_subprocess_interrupts_it(engine: Engine, clock: FakeClock) -> None:
    """working_days(1) on the sub-process (ready Fri 09-26) fires at the end of 09-28, a make-up Sunday."""
    inst = engine.start("fx_nested", {}, OPERATOR)
    clock.set(at(2025, 9, 28, 23, 59, 59))
    assert engine.tick() == []
    clock.set(at(2025, 9, 29))
    assert [f.element_id for f in engine.tick()] == ["Timer_Sub"]
    assert only_task(engine, inst.id).element_id == "Task_Late"


def test_interrupting_message_withdraws(engine: Engine, clock: FakeClock) -> None:
    """A withdrawal message on the sub-process cancels its task and timer and ends the instance."""
    inst = engine.start("fx_nested", {}, OPERATOR)
    done = engine.message("withdraw", {}, {"instance_id": inst.id})
    assert done.status == "completed"
    assert done.tasks == ()
    clock.set(at(2025, 12, 1))
    assert engine.tick() == []
