"""engine.cancel (撤销/作废, issue 13) on SQLite and PostgreSQL: a voided case has no ready task and no
deadline, nothing of it fires or completes afterwards, its business key is free, the store stays consistent,
the metrics leave it out by default; refusals are typed and write nothing; cancel racing complete has one
winner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from efficacy_flow import shipped_processes
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import ConcurrentUpdate, InvalidInput, InvalidState, NotAuthorized, UnknownInstance
from efficacy_flow.metrics import collect_records
from efficacy_flow.testing import FakeClock

OPERATOR = Actor("op-1", {"受理员"})
HANDLER = Actor("h-1", {"承办单位"}, unit="市住建局")
HEAD = Actor("head-1", {"单位负责人"}, unit="市住建局")  # may suspend (processes/settings.yaml permissions)
START = {"title": "路灯不亮", "unit": "市住建局"}


def _rows(engine: Engine, instance_id: str) -> tuple[list[str], int]:
    with engine.store.read() as reader:
        statuses = [
            str(r[0])
            for r in reader.execute(
                "SELECT status FROM ef_tasks WHERE instance_id = :i ORDER BY id", {"i": instance_id}
            )
        ]
        deadlines = int(
            reader.execute("SELECT count(*) FROM ef_deadlines WHERE instance_id = :i", {"i": instance_id})[0][
                0
            ]
        )
    return statuses, deadlines


def test_a_duplicate_ticket_is_voided(engine: Engine, clock: FakeClock) -> None:
    """重复工单: the second ticket is cancelled as a duplicate of the first. It keeps no ready task or
    deadline, its timers never fire, its old task cannot be completed, the history records why, the key is
    free again and check_consistency finds nothing."""
    first = engine.start("fx_handle", START, OPERATOR, business_key="12345-0001")
    second = engine.start("fx_handle", START, OPERATOR, business_key="12345-0002")
    task = engine.tasks(instance_id=second.id)[0]
    assert _rows(engine, second.id)[1] > 0
    view = engine.cancel(second.id, "重复工单", OPERATOR, duplicate_of=first.id)
    assert (view.status, view.tasks, view.version) == ("cancelled", (), second.version + 1)
    assert _rows(engine, second.id) == (["cancelled"], 0)
    assert engine.tasks(instance_id=second.id) == []
    event = engine.history(second.id)[-1]
    assert (event.kind, event.actor) == ("cancelled", "op-1")
    assert event.after == {"reason": "重复工单", "duplicate_of": first.id, "status_before": "active"}
    clock.advance(timedelta(days=60))
    assert [f for f in engine.tick() if f.instance_id == second.id] == []
    with pytest.raises(ConcurrentUpdate, match="already cancelled"):
        engine.complete(task.id, {"reply": "已修复", "resolved": True}, HANDLER)
    again = engine.start("fx_handle", START, OPERATOR, business_key="12345-0002")
    assert again.status == "active"
    report = engine.check_consistency()
    assert report.ok, report.summary()


def test_a_suspended_case_can_be_cancelled_and_metrics_leave_it_out(
    make_engine: Callable[..., Engine],
) -> None:
    """A suspended 12345 ticket (the shipped complaint_closure) is cancelled too (its suspension ends with
    it); collect_records lists it under ``cancelled`` and records it as a case only when asked to count
    cancelled ones."""
    engine = make_engine(shipped_processes())
    case = engine.start("complaint_closure", {"title": "噪音扰民", "content": "夜间施工"}, OPERATOR)
    engine.suspend(case.id, "待核实", HEAD)
    view = engine.cancel(case.id, "无效工单", OPERATOR)
    assert (view.status, view.suspended_at) == ("cancelled", None)
    assert engine.history(case.id)[-1].after["status_before"] == "suspended"
    left_out = collect_records(engine, [case.id])
    assert (left_out.cases, left_out.cancelled) == ((), (case.id,))
    counted = collect_records(engine, [case.id], count_cancelled=True)
    assert [c.instance_id for c in counted.cases] == [case.id]
    assert counted.cases[0].closed_at == view.updated_at
    assert engine.check_consistency().ok


@pytest.mark.parametrize(
    ("call", "error", "problem"),
    [
        pytest.param(lambda e, i, o: e.cancel(i, "", OPERATOR), InvalidInput, "reason", id="empty-reason"),
        pytest.param(lambda e, i, o: e.cancel(i, "x", "op"), InvalidInput, "actor", id="not-an-actor"),
        pytest.param(lambda e, i, o: e.cancel("nope", "x", OPERATOR), UnknownInstance, "nope", id="unknown"),
        pytest.param(
            lambda e, i, o: e.cancel(i, "x", OPERATOR, duplicate_of="nope"),
            UnknownInstance,
            "nope",
            id="unknown-original",
        ),
        pytest.param(
            lambda e, i, o: e.cancel(i, "x", OPERATOR, duplicate_of=i), InvalidState, "itself", id="itself"
        ),
        pytest.param(
            lambda e, i, o: e.cancel(o, "x", OPERATOR), InvalidState, "already cancelled", id="twice"
        ),
    ],
)
def test_refusals_are_typed_and_write_nothing(
    engine: Engine, call: Callable[[Engine, str, str], object], error: type[Exception], problem: str
) -> None:
    case = engine.start("fx_handle", START, OPERATOR)
    gone = engine.start("fx_handle", START, OPERATOR)
    engine.cancel(gone.id, "重复工单", OPERATOR)
    before = [(e.kind, e.seq) for i in (case.id, gone.id) for e in engine.history(i)]
    with pytest.raises(error, match=problem):
        call(engine, case.id, gone.id)
    assert [(e.kind, e.seq) for i in (case.id, gone.id) for e in engine.history(i)] == before
    assert engine.instance(case.id).status == "active"


def test_a_completed_case_cannot_be_cancelled(engine: Engine) -> None:
    case = engine.start("fx_ten", {}, OPERATOR)
    view = case
    clerk = Actor("clerk", {"受理员"})
    while view.tasks:
        view = engine.complete(view.tasks[0].id, {"note": "ok"}, clerk)
    with pytest.raises(InvalidState, match="already completed"):
        engine.cancel(case.id, "撤回", OPERATOR)


def test_cancel_racing_complete_has_one_winner(make_engine: Callable[..., Engine]) -> None:
    """Two engines (as two processes would): one completes the task while the other cancels, in either order
    of commit — exactly one call changes the instance and the other is refused with a typed error."""
    for first_cancels in (True, False):
        a, b = make_engine(), make_engine()
        case = a.start("fx_handle", START, OPERATOR)
        task = a.tasks(instance_id=case.id)[0]
        b.instance(case.id)  # b's cache holds the instance too: it goes stale when a wins
        if first_cancels:
            a.cancel(case.id, "重复工单", OPERATOR)
            with pytest.raises(ConcurrentUpdate):
                b.complete(task.id, {"reply": "已修复", "resolved": True}, HANDLER)
        else:
            a.complete(task.id, {"reply": "已修复", "resolved": False}, HANDLER)
            view = b.cancel(case.id, "申请人撤回", OPERATOR)
            assert view.status == "cancelled"
            assert [e.kind for e in b.history(case.id)][-2:] == ["task_completed", "cancelled"]
        assert a.check_consistency(instance_ids=[case.id]).ok


def test_a_duplicate_12345_ticket_is_voided_on_the_shipped_process(
    make_engine: Callable[..., Engine],
) -> None:
    """重复工单 on the shipped complaint_closure: the second call about the same lamp is cancelled as a
    duplicate of the first by the operator (settings.yaml lets 受理员 cancel; a unit may not); the first goes
    on, and the metrics count one ticket."""
    engine = make_engine(shipped_processes())
    first = engine.start("complaint_closure", {"title": "路灯不亮", "content": "幸福小区3号楼"}, OPERATOR)
    second = engine.start("complaint_closure", {"title": "路灯不亮", "content": "幸福小区3号楼前"}, OPERATOR)
    with pytest.raises(NotAuthorized):
        engine.cancel(second.id, "重复工单", HANDLER)
    view = engine.cancel(second.id, "重复工单", OPERATOR, duplicate_of=first.id)
    assert (view.status, view.tasks) == ("cancelled", ())
    assert [t.element_id for t in engine.tasks(instance_id=first.id)] == ["Task_Dispatch"]
    records = collect_records(engine, [first.id, second.id])
    assert ([c.instance_id for c in records.cases], records.cancelled) == ([first.id], (second.id,))
    assert [e.kind for e in engine.events(limit=10_000)][-2:] == ["task_cancelled", "cancelled"]
