"""engine.check_consistency() (issue 7): empty on a consistent store, and every kind of damage is named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import CHECKS, Actor, ConsistencyReport, Engine
from efficacy_flow.testing import FakeClock

OPERATOR = Actor("op-1", {"受理员"})
HANDLER = Actor("h-1", {"承办单位"}, unit="市住建局")
START = {"title": "路灯不亮", "unit": "市住建局"}


def _populate(engine: Engine, clock: FakeClock) -> list[str]:
    """Five instances in different shapes: waiting, completed a task, suspended, fired timers, rated."""
    ids = [engine.start("fx_handle", START, OPERATOR).id for _ in range(4)]
    task = engine.tasks(instance_id=ids[1])[0]
    engine.complete(task.id, {"reply": "已修复", "resolved": True}, HANDLER)
    engine.suspend(ids[2], "补正材料", OPERATOR)
    clock.set(datetime(2025, 10, 2, tzinfo=CHINA_TZ))
    assert engine.tick()  # ids[0] and ids[3] escalate
    engine.history(ids[3], unmasked=True, actor=OPERATOR)
    return ids


def test_consistent_store_reports_nothing(engine: Engine, clock: FakeClock) -> None:
    """After starts, completions, a suspension, fired timers and an audited read, nothing is found."""
    ids = _populate(engine, clock)
    report = engine.check_consistency(batch_size=2)  # several batches
    assert (report.instances, report.findings, report.problems, report.ok) == (4, (), {}, True)
    assert set(report.versions) == set(ids)
    assert "consistent" in report.summary()


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.store.transaction() as tx:
        tx.execute(statement, params)


def _damage_state(engine: Engine, ids: list[str]) -> str:
    _sql(engine, "UPDATE ef_instances SET state = :s WHERE id = :i", s=b"garbage", i=ids[0])
    return ids[0]


def _damage_task_row(engine: Engine, ids: list[str]) -> str:
    _sql(engine, "DELETE FROM ef_tasks WHERE instance_id = :i AND status = 'ready'", i=ids[0])
    return ids[0]


def _extra_task_row(engine: Engine, ids: list[str]) -> str:
    _sql(
        engine, "UPDATE ef_tasks SET status = 'ready' WHERE instance_id = :i AND status <> 'ready'", i=ids[1]
    )
    return ids[1]


def _damage_due_time(engine: Engine, ids: list[str]) -> str:
    victim = engine.start("fx_handle", START, OPERATOR).id
    _sql(
        engine,
        "UPDATE ef_deadlines SET due_at = :t WHERE instance_id = :i",
        t=datetime(2030, 1, 1, tzinfo=CHINA_TZ),
        i=victim,
    )
    return victim


def _lost_deadline(engine: Engine, ids: list[str]) -> str:
    engine.start("fx_handle", START, OPERATOR)
    victim = engine.start("fx_handle", START, OPERATOR).id
    _sql(engine, "DELETE FROM ef_deadlines WHERE instance_id = :i", i=victim)
    return victim


def _fired_flag(engine: Engine, ids: list[str]) -> str:
    victim = engine.start("fx_handle", START, OPERATOR).id
    _sql(
        engine,
        "UPDATE ef_deadlines SET fired_at = :t WHERE instance_id = :i",
        t=datetime(2025, 10, 2, tzinfo=CHINA_TZ),
        i=victim,
    )
    return victim


def _altered_audit(engine: Engine, ids: list[str]) -> str:
    _sql(engine, "UPDATE ef_audit_events SET actor = 'mallory' WHERE instance_id = :i AND seq = 1", i=ids[1])
    return ids[1]


def _removed_audit(engine: Engine, ids: list[str]) -> str:
    _sql(engine, "DELETE FROM ef_audit_events WHERE instance_id = :i AND kind = 'task_completed'", i=ids[1])
    return ids[1]


def _completed_status(engine: Engine, ids: list[str]) -> str:
    _sql(engine, "UPDATE ef_instances SET status = 'completed' WHERE id = :i", i=ids[0])
    return ids[0]


def _version_zero(engine: Engine, ids: list[str]) -> str:
    _sql(engine, "UPDATE ef_instances SET version = 0 WHERE id = :i", i=ids[0])
    return ids[0]


def _orphan_rows(engine: Engine, ids: list[str]) -> str:
    _sql(engine, "DELETE FROM ef_instances WHERE id = :i", i=ids[2])
    return ids[2]


def _completion_row(engine: Engine, ids: list[str]) -> str:
    _sql(
        engine,
        "UPDATE ef_tasks SET closed_by = 'someone-else' WHERE instance_id = :i AND status = 'completed'",
        i=ids[1],
    )
    return ids[1]


DAMAGE: list[tuple[str, Callable[[Engine, list[str]], str], str]] = [
    ("garbage-state", _damage_state, "state_unreadable"),
    ("ready-row-deleted", _damage_task_row, "task_rows"),
    ("closed-row-reopened", _extra_task_row, "task_rows"),
    ("due-time-moved", _damage_due_time, "deadline_rows"),
    ("deadline-deleted", _lost_deadline, "deadline_rows"),
    ("fired-still-pending", _fired_flag, "fired_pending"),
    ("audit-altered", _altered_audit, "audit_chain"),
    ("audit-removed", _removed_audit, "audit_chain"),
    ("status-completed-early", _completed_status, "status"),
    ("version-zero", _version_zero, "version"),
    ("instance-deleted", _orphan_rows, "orphan_rows"),
    ("completion-actor-differs", _completion_row, "completion"),
]


@pytest.mark.parametrize(("damage", "check"), [(d, c) for _, d, c in DAMAGE], ids=[i for i, _, _ in DAMAGE])
def test_damage_is_reported_against_its_instance(
    engine: Engine, clock: FakeClock, damage: Callable[[Engine, list[str]], str], check: str
) -> None:
    """Each kind of damage yields a finding of its check, naming the damaged instance (and no other)."""
    victim = damage(engine, _populate(engine, clock))
    report = engine.check_consistency()
    assert check in CHECKS
    assert not report.ok
    assert {f.check for f in report.findings if f.instance_id == victim} >= {check}
    assert set(report.problems) == {victim}, report.problems


def test_duplicated_timer_event_is_reported(engine: Engine, clock: FakeClock) -> None:
    """Two timer_fired events for one timer (appended with a valid chain) are a duplicate_event finding."""
    from efficacy_flow.engine._audit import audit_record

    inst = engine.start("fx_handle", START, OPERATOR)
    clock.set(datetime(2025, 9, 30, 0, 0, tzinfo=CHINA_TZ))
    assert [f.element_id for f in engine.tick()] == ["Timer_Warning"]
    with engine.store.transaction() as tx:
        row = tx.get_instance(inst.id)
        assert row is not None
        fired = tx.audit_of(inst.id)[-1]
        assert fired.kind == "timer_fired"
        import json

        event = ("timer_fired", None, None, json.loads(fired.after or "{}"))
        again = audit_record(inst.id, row.audit_seq, row.audit_head, event, clock.now())
        tx.append_audit(again)
        tx.advance_audit_head(inst.id, row.audit_seq, again.seq, again.hash)
    report = engine.check_consistency()
    assert [(f.instance_id, f.check) for f in report.findings] == [(inst.id, "duplicate_event")]


def test_version_going_back_is_reported_against_a_previous_report(engine: Engine, clock: FakeClock) -> None:
    """With ``previous``, an instance whose version is lower than before is a version finding."""
    ids = _populate(engine, clock)
    first = engine.check_consistency()
    assert first.ok
    _sql(engine, "UPDATE ef_instances SET version = version - 1 WHERE id = :i", i=ids[1])
    assert engine.check_consistency().ok  # on its own, a lower version is still plausible
    report = engine.check_consistency(previous=first)
    assert [(f.instance_id, f.check) for f in report.findings] == [(ids[1], "version")]


def test_only_the_named_instances_are_checked(engine: Engine, clock: FakeClock) -> None:
    """``instance_ids`` limits the check: damage elsewhere is not read, unknown ids are skipped."""
    ids = _populate(engine, clock)
    _damage_state(engine, ids)
    report = engine.check_consistency(instance_ids=["0-unknown", *ids[1:3]], batch_size=1)
    assert (report.instances, report.ok) == (2, True)
    assert isinstance(engine.check_consistency(instance_ids=[ids[0]]), ConsistencyReport)
    assert not engine.check_consistency(instance_ids=[ids[0]]).ok


def test_checker_never_writes(make_engine: Callable[..., Engine], clock: FakeClock) -> None:
    """The checker loads states fresh and writes nothing: versions and audit heads are unchanged."""
    engine = make_engine()
    ids = _populate(engine, clock)
    before = {i: (engine.instance(i).version, len(engine.history(i))) for i in ids}
    clock.advance(timedelta(days=30))
    make_engine().check_consistency()
    assert {i: (engine.instance(i).version, len(engine.history(i))) for i in ids} == before
