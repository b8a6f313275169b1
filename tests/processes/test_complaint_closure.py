"""The 12345 closed loop on the engine, dispatched on the make-up Sunday 2025-09-28, across National Day.

2025's notice: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are make-up working days.
Limits: handling 5个工作日 (济南 第二十四条), warning one working day earlier ([setting]),
return within 24小时 (安阳 第五十条), extension +5个工作日 (安阳 第五十条),
rating within 3个工作日 ([setting]), 紧急 2小时 ([secondary]).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.processes._drive import LEADER, Desk, at

from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidData, InvalidTimeLimit, NotAuthorized

OPERATOR = Actor("operator-7", ["受理员"])
UNIT = Actor("chengguan-1", ["承办单位"], unit="市城管局")
OTHER_UNIT = Actor("water-1", ["承办单位"], unit="市水务局")
REVIEWER = Actor("reviewer-1", ["审核员"])
SUPERVISOR = Actor("supervisor-1", ["督办员"])
UNSATISFIED_DESK = Actor("unsatisfied-desk-1", ["办理不满意专区"])
TICKET = {
    "title": "小区路灯不亮",
    "content": "幸福小区3号楼前路灯已坏一周",
    "requester_name": "张三",
    "requester_phone": "13812345678",
}
REPLY = {"reply": "已派员更换灯具，路灯恢复照明", "resolved": True}


def _open(tmp_path: Path, start_at: object = None, **extra: object) -> Desk:
    desk = Desk(tmp_path, "complaint_closure", at(2025, 9, 28, 9))
    desk.start({**TICKET, **extra}, OPERATOR)
    desk.do("Task_Dispatch", {"unit": "市城管局", "dispatch_note": "属路灯维护职责"}, OPERATOR)
    return desk


def _handle_and_reply(desk: Desk) -> None:
    desk.do("Task_Handle", REPLY, UNIT)
    desk.sign_off(LEADER)
    desk.do("Task_Review", {"review_passed": True}, REVIEWER)
    desk.do("Task_Reply", {"reply_channel": "电话"}, OPERATOR)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return _open(tmp_path)


def test_closed_loop_on_time_and_satisfied(desk: Desk) -> None:
    """受理—派单—签收—办理—审核—反馈—评价—办结; the 5 working days skip National Day and count 10-11."""
    assert desk.view.first_responder == "operator-7"
    assert desk.view.data["handling_limit"] == "5个工作日"
    acknowledge = desk.task("Task_Acknowledge")
    assert acknowledge.unit == "市城管局"
    assert acknowledge.due_at == at(2025, 9, 29, 9)  # 24小时, wall clock
    desk.clock.set(at(2025, 9, 28, 9, 30))
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    handle = desk.task("Task_Handle")
    # Ready on the make-up Sunday: 09-29, 09-30, 10-09, 10-10, 10-11 (make-up Saturday).
    assert handle.due_at == at(2025, 10, 12)
    assert handle.role == "承办单位"
    assert handle.unit == "市城管局"
    assert desk.tick(at(2025, 10, 10, 15)) == []
    _handle_and_reply(desk)
    assert desk.ready() == ["Task_Callback"]  # 回访; the requester may still rate by message first
    view = desk.deliver("rating", {"rating": "满意", "rating_comment": "很快"})
    assert view.status == "completed"
    assert view.data["rating"] == "满意"
    assert view.data["rework_count"] == 0
    assert view.data["overdue_count"] == 0
    assert "timer_fired" not in desk.history_kinds()


def test_warning_then_limit_then_supervision_restarts_the_period(desk: Desk) -> None:
    """Warning at 24:00 on 10-10, 督办 at 24:00 on 10-11; back with the unit, a fresh 5 working days."""
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    assert desk.tick(at(2025, 10, 10, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 11)) == ["Timer_HandlingWarning"]
    assert desk.ready() == ["Task_Handle"]
    fired = [e.after["element_id"] for e in desk.engine.history(desk.id) if e.kind == "timer_fired"]
    assert fired == ["Timer_HandlingWarning"]
    assert desk.tick(at(2025, 10, 11, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 12)) == ["Timer_HandlingLimit"]
    assert desk.ready() == ["Task_Supervise"]
    assert desk.view.data["overdue_count"] == 1
    desk.clock.set(at(2025, 10, 13, 9))
    desk.do("Task_Supervise", {"supervision_opinion": "限两日内办结"}, SUPERVISOR)
    # Ready Monday 10-13: 10-14, 10-15, 10-16, 10-17, 10-20.
    assert desk.task("Task_Handle").due_at == at(2025, 10, 21)


def test_approved_extension_adds_five_working_days(desk: Desk) -> None:
    """engine.extend with the table's complaint_extension moves 10-12 00:00 to 10-18 00:00 (10-13..10-17)."""
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    handle = desk.task("Task_Handle")
    extended = desk.engine.extend(
        handle.id, "5个工作日", "需协调供电部门", approved_by=Actor("head", ["单位负责人"])
    )
    assert extended.due_at == at(2025, 10, 18)
    assert desk.tick(at(2025, 10, 12)) == []
    assert "extended" in desk.history_kinds()


def test_a_second_extension_is_refused(desk: Desk) -> None:
    """complaint_handling allows one extension of at most 5个工作日 (安阳 第五十条; once: [setting]): a
    second, or a first longer than 5个工作日, is refused and the deadline stays."""
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    handle = desk.task("Task_Handle")
    head = Actor("head", ["单位负责人"])
    with pytest.raises(InvalidTimeLimit) as caught:
        desk.engine.extend(handle.id, "6个工作日", "需协调供电部门", approved_by=head)
    assert caught.value.entry == "complaint_handling"
    desk.engine.extend(handle.id, "3个工作日", "需协调供电部门", approved_by=head)
    with pytest.raises(InvalidTimeLimit) as caught:
        desk.engine.extend(handle.id, "2个工作日", "仍需协调", approved_by=head)
    assert (caught.value.entry, caught.value.max_extensions) == ("complaint_handling", 1)
    assert desk.history_kinds().count("extended") == 1


def test_return_within_24_hours_is_redispatched(desk: Desk) -> None:
    """A unit returns a ticket outside its duty with reasons; accepted, it is dispatched to another unit."""
    desk.do("Task_Acknowledge", {"ack_decision": "退单", "return_reason": "供水管网不属本单位"}, UNIT)
    desk.do("Task_ReviewReturn", {"return_approved": True}, OPERATOR)
    desk.do("Task_Dispatch", {"unit": "市水务局"}, OPERATOR)
    assert desk.task("Task_Acknowledge").unit == "市水务局"
    with pytest.raises(NotAuthorized):
        desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, OTHER_UNIT)
    assert desk.task("Task_Handle").unit == "市水务局"


def test_rejected_return_stays_with_the_unit(desk: Desk) -> None:
    """A return the operator does not accept sends the ticket on to 办理 by the same unit."""
    desk.do("Task_Acknowledge", {"ack_decision": "退单", "return_reason": "理由不充分"}, UNIT)
    desk.do("Task_ReviewReturn", {"return_approved": False, "return_opinion": "属路灯维护职责"}, OPERATOR)
    assert desk.task("Task_Handle").unit == "市城管局"


def test_silence_for_24_hours_is_deemed_acknowledgement(desk: Desk) -> None:
    """No 签收 and no 退单 within 24 hours: deemed acknowledged; handling runs from 09-29 09:00."""
    assert desk.tick(at(2025, 9, 29, 8, 59, 59)) == []
    assert desk.tick(at(2025, 9, 29, 9)) == ["Timer_ReturnWindow"]
    assert desk.view.data["deemed_acknowledged"] is True
    # Ready Monday 09-29: 09-30, 10-09, 10-10, 10-11 (make-up Saturday), 10-13.
    assert desk.task("Task_Handle").due_at == at(2025, 10, 14)


def test_urgent_ticket_has_two_wall_clock_hours_on_a_holiday(tmp_path: Path) -> None:
    """紧急 tier: 2小时 elapsed, holidays included; the warning comes after 1小时."""
    desk = Desk(tmp_path, "complaint_closure", at(2025, 10, 1, 10))
    desk.start({**TICKET, "urgency": "紧急"}, OPERATOR)
    assert desk.view.data["handling_limit"] == "2小时"
    desk.do("Task_Dispatch", {"unit": "市城管局"}, OPERATOR)
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    assert desk.task("Task_Handle").due_at == at(2025, 10, 1, 12)
    assert desk.tick(at(2025, 10, 1, 11)) == ["Timer_HandlingWarning"]
    assert desk.tick(at(2025, 10, 1, 12)) == ["Timer_HandlingLimit"]


def test_poor_reply_goes_back_to_the_unit(desk: Desk) -> None:
    """The reviewer sends an off-the-point reply (答非所问) back to 办理."""
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    desk.do("Task_Handle", {"reply": "已收悉"}, UNIT)
    desk.sign_off()
    desk.do("Task_Review", {"review_passed": False, "review_opinion": "答非所问"}, REVIEWER)
    assert desk.ready() == ["Task_Handle"]


def test_no_rating_within_the_period_gives_the_default(tmp_path: Path) -> None:
    """No 回访 (callback false): replied Friday 10-10 16:00, no rating by 24:00 on 10-14 (10-11, 10-13,
    10-14): 满意 by default."""
    desk = _open(tmp_path, callback=False)
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    desk.clock.set(at(2025, 10, 10, 16))
    _handle_and_reply(desk)
    assert desk.tick(at(2025, 10, 14, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 15)) == ["Timer_RatingPeriod"]
    view = desk.view
    assert view.status == "completed"
    assert view.data["rating"] == "满意"
    assert view.data["rating_defaulted"] is True


def test_dissatisfied_rating_is_reworked_then_escalated_to_accountability(desk: Desk) -> None:
    """Two reworks via the 办理不满意专区 (max_rework 2); a third 不满意 goes to 督办 and accountability."""
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    for round_ in (1, 2):
        _handle_and_reply(desk)
        desk.deliver("rating", {"rating": "不满意"})
        rework = desk.task("Task_ReworkDispatch")
        assert rework.role == "办理不满意专区"
        assert desk.view.data["rework_count"] == round_
        desk.do("Task_ReworkDispatch", {"rework_note": "群众反映路灯仍不亮"}, UNSATISFIED_DESK)
    _handle_and_reply(desk)
    desk.deliver("rating", {"rating": "不满意"})
    assert desk.ready() == ["Task_EscalateUnsatisfied"]
    view = desk.do(
        "Task_EscalateUnsatisfied",
        {"supervision_opinion": "三次不满意，启动问责", "refer_accountability": True},
        SUPERVISOR,
    )
    assert view.status == "completed"
    assert view.data["accountability_requested"] is True
    assert view.data["rework_count"] == 2


def test_a_rating_outside_the_scale_is_refused(desk: Desk) -> None:
    """The rating message's payload is validated against schemas.yaml."""
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    _handle_and_reply(desk)
    with pytest.raises(InvalidData):
        desk.deliver("rating", {"rating": "非常好"})
    assert desk.view.status == "active"


@pytest.mark.parametrize(
    ("category", "label", "warning", "due"),
    [
        # Ready on the make-up Sunday 09-28: 09-29, 09-30, then 10-09 after National Day.
        ("咨询", "3个工作日", at(2025, 10, 1), at(2025, 10, 10)),
        ("求助", "3个工作日", at(2025, 10, 1), at(2025, 10, 10)),
        # 09-29, 09-30, 10-09, 10-10, 10-11 (make-up Saturday), 10-13 .. 10-17, 10-20, 10-21, 10-22.
        ("建议", "13个工作日", at(2025, 10, 22), at(2025, 10, 23)),
        ("投诉举报", "13个工作日", at(2025, 10, 22), at(2025, 10, 23)),
        # Any other category (and none) keeps the general 5个工作日.
        ("路灯", "5个工作日", at(2025, 10, 11), at(2025, 10, 12)),
    ],
)
def test_the_category_chooses_the_handling_limit(
    tmp_path: Path, category: str, label: str, warning: datetime, due: datetime
) -> None:
    """咨询/求助 3个工作日, 建议/投诉举报 13个工作日 ([local]); the warning one working day before; the DMN's
    handling_limit says the same as the timer."""
    desk = _open(tmp_path, category=category)
    assert desk.view.data["handling_limit"] == label
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    assert desk.task("Task_Handle").due_at == due
    assert desk.tick(warning - timedelta(seconds=1)) == []
    assert desk.tick(warning) == ["Timer_HandlingWarning"]
    assert desk.tick(due) == ["Timer_HandlingLimit"]
    assert desk.ready() == ["Task_Supervise"]


def test_an_urgent_enquiry_keeps_the_urgency_limit(tmp_path: Path) -> None:
    """The urgency tiers are tried before the categories: 紧急 咨询 is 2小时, not 3个工作日."""
    desk = Desk(tmp_path, "complaint_closure", at(2025, 10, 1, 10))
    desk.start({**TICKET, "urgency": "紧急", "category": "咨询"}, OPERATOR)
    assert desk.view.data["handling_limit"] == "2小时"
    desk.do("Task_Dispatch", {"unit": "市城管局"}, OPERATOR)
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    assert desk.task("Task_Handle").due_at == at(2025, 10, 1, 12)
