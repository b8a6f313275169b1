"""Records built from a real engine (SQLite, SpiffWorkflow, the shipped processes) driven with a FakeClock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.metrics import (
    MetricsConfig,
    appraise,
    collect_records,
    counted_rating,
    is_closed_on_time,
    unit_indicators,
)
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
DESK = Actor("hotline", ["受理员", "审核员", "督办员", "办理不满意专区"])
UNIT = Actor("chengguan", ["承办单位"], unit="市城管局")
LEADER = Actor("chengguan-head", ["单位负责人"], unit="市城管局")
OFFICE = Actor("office", ["效能办", "被问责对象", "效能建设领导小组"])
TICKET = {"title": "路灯不亮", "content": "小区路灯已坏一周"}


def at(month: int, day: int, hour: int = 10) -> datetime:
    """An instant of 2025 in Beijing."""
    return datetime(2025, month, day, hour, tzinfo=CHINA_TZ)


@pytest.fixture
def clock() -> FakeClock:
    """Friday 2025-09-26 10:00, two days before the make-up Sunday."""
    return FakeClock(at(9, 26))


@pytest.fixture
def engine(tmp_path: Path, clock: FakeClock) -> Engine:
    """The shipped processes on a fresh SQLite file."""
    return Engine(f"sqlite:///{tmp_path / 'metrics.db'}", PROCESSES, clock=clock)


def _do(engine: Engine, instance_id: str, element_id: str, data: dict[str, object], actor: Actor) -> None:
    (task,) = [t for t in engine.tasks(instance_id) if t.element_id == element_id]
    engine.complete(task.id, data, actor)


def _handle_and_reply(engine: Engine, instance_id: str) -> None:
    _do(engine, instance_id, "Task_Handle", {"reply": "已修复"}, UNIT)
    _do(engine, instance_id, "Task_SignOff", {"signed_off": True}, LEADER)
    _do(engine, instance_id, "Task_Review", {"review_passed": True}, DESK)
    _do(engine, instance_id, "Task_Reply", {"reply_channel": "电话"}, DESK)


def _dispatched(engine: Engine) -> str:
    view = engine.start("complaint_closure", TICKET, DESK, business_key="GD1")
    _do(engine, view.id, "Task_Dispatch", {"unit": "市城管局"}, DESK)
    _do(engine, view.id, "Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    return view.id


def test_late_reworked_ticket(engine: Engine, clock: FakeClock) -> None:
    """A ticket whose 5 working days ran out (across National Day: due 2025-10-11 00:00), rated 不满意,
    reworked and then rated 满意: one limit missed (the warning is not one), two ratings in order, one rework,
    closed but not on time."""
    instance_id = _dispatched(engine)
    clock.set(at(10, 11, 1))
    assert sorted(f.element_id for f in engine.tick()) == ["Timer_HandlingLimit", "Timer_HandlingWarning"]
    _do(engine, instance_id, "Task_Supervise", {"supervision_opinion": "请立即办理"}, DESK)
    _handle_and_reply(engine, instance_id)
    first_reply = clock.now()
    clock.set(at(10, 11, 15))
    engine.message("rating", {"rating": "不满意"}, {"business_key": "GD1"})
    _do(engine, instance_id, "Task_ReworkDispatch", {"rework_note": "再次办理"}, DESK)
    _handle_and_reply(engine, instance_id)
    clock.set(at(10, 13, 9))
    engine.message("rating", {"rating": "满意"}, {"business_key": "GD1"})

    (record,) = collect_records(engine, [instance_id]).cases
    assert record.unit == "市城管局"
    assert record.received_at == at(9, 26)
    assert record.replied_at == first_reply
    assert record.closed_at == at(10, 13, 9)
    assert record.limits_missed == 1
    assert [(r.value, r.defaulted) for r in record.ratings] == [("不满意", False), ("满意", False)]
    assert record.reworks == 1
    assert not is_closed_on_time(record)
    (row,) = unit_indicators([record])
    assert (row.received, row.closed, row.closed_on_time, row.rated, row.satisfied) == (1, 1, 0, 1, 1)


def test_unrated_ticket_gets_a_defaulted_rating(engine: Engine, clock: FakeClock) -> None:
    """No 回访 within its working day and no rating within 3 working days after: the default rating is
    recorded as defaulted, not counted as 参评."""
    instance_id = _dispatched(engine)
    _handle_and_reply(engine, instance_id)
    clock.set(at(9, 29, 1))
    assert "Timer_Callback" in [f.element_id for f in engine.tick()]  # due 09-29 00:00 (09-28 worked)
    clock.set(at(10, 11, 1))
    assert "Timer_RatingPeriod" in [f.element_id for f in engine.tick()]  # 09-30, 10-09, 10-10

    (record,) = collect_records(engine, [instance_id]).cases
    assert [(r.value, r.defaulted) for r in record.ratings] == [("满意", True)]
    assert record.closed_at == at(10, 11, 1)
    assert record.limits_missed == 0
    assert counted_rating(record) is None


def test_a_rating_given_on_the_callback_is_the_requesters(engine: Engine, clock: FakeClock) -> None:
    """回访 (Task_Callback, the binding's rating_task): the rating the requester gives on the phone is their
    own, in the records and in the SQL figures (ef_case_facts); 非常不满意 is reworked, then 满意 closes."""
    caller = Actor("callback-1", ["回访员"])
    instance_id = _dispatched(engine)
    _handle_and_reply(engine, instance_id)
    _do(engine, instance_id, "Task_Callback", {"rating": "非常不满意", "solved": False}, caller)
    _do(engine, instance_id, "Task_ReworkDispatch", {"rework_note": "仍未修好"}, DESK)
    _handle_and_reply(engine, instance_id)
    clock.set(at(9, 28, 10))
    _do(engine, instance_id, "Task_Callback", {"rating": "满意", "solved": True}, caller)

    (record,) = collect_records(engine, [instance_id]).cases
    assert [(r.value, r.defaulted) for r in record.ratings] == [("非常不满意", False), ("满意", False)]
    assert record.reworks == 1
    counted = counted_rating(record)
    assert counted is not None
    assert counted.value == "满意"
    since, until = datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2025, 11, 1, tzinfo=CHINA_TZ)
    (row,) = appraise(engine, since, until)
    assert (row.received, row.closed, row.rated, row.satisfied, row.bad) == (1, 1, 1, 1, 0)
    assert (row.solved_answered, row.solved) == (1, 1)
    # The first rating, if that is what counts: 非常不满意, the requester's own (not a deemed rating).
    (first,) = appraise(engine, since, until, config=MetricsConfig(rating_basis="first"))
    assert (first.rated, first.bad) == (1, 1)


def test_a_callback_after_a_deemed_rating_is_counted(engine: Engine, clock: FakeClock) -> None:
    """No 回访 and no rating: the default (here 不满意) is deemed and reworked; the next 回访's 满意 is the
    requester's own, so the SQL figures count it (deemed ratings are not counted by default)."""
    caller = Actor("callback-1", ["回访员"])
    view = engine.start("complaint_closure", {**TICKET, "default_rating": "不满意"}, DESK, business_key="GD1")
    _do(engine, view.id, "Task_Dispatch", {"unit": "市城管局"}, DESK)
    _do(engine, view.id, "Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    _handle_and_reply(engine, view.id)
    clock.set(at(9, 29, 1))
    assert "Timer_Callback" in [f.element_id for f in engine.tick()]
    clock.set(at(10, 11, 1))
    assert "Timer_RatingPeriod" in [f.element_id for f in engine.tick()]
    _do(engine, view.id, "Task_ReworkDispatch", {"rework_note": "默认不满意，再次办理"}, DESK)
    _handle_and_reply(engine, view.id)
    _do(engine, view.id, "Task_Callback", {"rating": "满意", "solved": True}, caller)

    (record,) = collect_records(engine, [view.id]).cases
    assert [(r.value, r.defaulted) for r in record.ratings] == [("不满意", True), ("满意", False)]
    since, until = datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2025, 11, 1, tzinfo=CHINA_TZ)
    (row,) = appraise(engine, since, until)
    assert (row.closed, row.rated, row.satisfied, row.bad) == (1, 1, 1, 0)


def test_accountability_record_and_unbound_processes(engine: Engine) -> None:
    """An admonition decided on a person admonished once before: the record carries the decision, the
    count the process made (2) and the table's cap (不称职); a process without a binding is skipped."""
    case = engine.start(
        "accountability",
        {
            "subject_type": "个人",
            "subject_name": "王某",
            "unit": "市住建局",
            "clue": "多次不满意",
            "admonitions_this_year": 1,
        },
        OFFICE,
    )
    _do(engine, case.id, "Task_Investigate", {"facts": "查实", "violation_found": True}, OFFICE)
    _do(engine, case.id, "Task_NotifyFacts", {"notice": "已告知"}, OFFICE)
    subject = Actor("wang", ["被问责对象"], unit="市住建局")  # the subject answers for itself (unit_lanes)
    _do(engine, case.id, "Task_StateDefence", {"statement": "无异议"}, subject)
    _do(engine, case.id, "Task_Decide", {"decision": "效能告诫", "decision_basis": "001 §四(五)"}, OFFICE)
    other = engine.start(
        "supervision_ladder", {"unit": "市住建局", "finding": "迟到", "findings_in_period": 1}, OFFICE
    )

    records = collect_records(engine, [case.id, other.id], reader=OFFICE)
    (record,) = records.accountability
    assert records.skipped == (other.id,)
    assert (record.subject_type, record.subject_name, record.unit) == ("个人", "王某", "市住建局")
    assert engine.history(case.id, unmasked=True, actor=OFFICE)[-1].kind == "unmasked_data_read"
    (masked,) = collect_records(engine, [case.id]).accountability  # no reader: the name is masked
    assert masked.subject_name == "王*"
    assert record.decision == "效能告诫"
    assert record.decided_at == at(9, 26)
    assert record.admonitions_this_year == 2
    assert record.grade_cap == "不称职"
    assert record.closed_at is None
