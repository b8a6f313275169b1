"""领导签发 and 回访 of complaint_closure, across National Day 2025 (10-01..10-08 off; 10-11 worked).

The reply goes to the handling unit's leader before 审核答复 ([local] 蚌埠 蚌政热线〔2017〕10号); after
反馈诉求人 the hotline's 回访员 calls the requester back within the working day after the reply ([local];
time_limits.yaml ``callback``, 1个工作日), and records the rating given on the phone. A requester may still
rate by message (SMS) meanwhile. Both steps are start-data flags (``leader_sign_off``, ``callback``;
settings.yaml).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.processes._drive import CALLER, LEADER, Desk, at

from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidData, NotAuthorized

OPERATOR = Actor("operator-7", ["受理员"])
UNIT = Actor("chengguan-1", ["承办单位"], unit="市城管局")
WATER = Actor("water-1", ["承办单位"], unit="市水务局")
OTHER_LEADER = Actor("water-head", ["单位负责人"], unit="市水务局")
REVIEWER = Actor("reviewer-1", ["审核员"])
UNSATISFIED_DESK = Actor("unsatisfied-desk-1", ["办理不满意专区"])
SUPERVISOR = Actor("supervisor-1", ["督办员"])
TICKET = {"title": "小区路灯不亮", "content": "幸福小区3号楼前路灯已坏一周", "requester_name": "张三"}
REPLY = {"reply": "已派员更换灯具，路灯恢复照明", "resolved": True}


def _open(tmp_path: Path, **extra: object) -> Desk:
    desk = Desk(tmp_path, "complaint_closure", at(2025, 9, 28, 9))
    desk.start({**TICKET, **extra}, OPERATOR)
    desk.do("Task_Dispatch", {"unit": "市城管局"}, OPERATOR)
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, UNIT)
    return desk


def _to_reply(desk: Desk) -> None:
    """办理, 领导签发, 审核 and 反馈 on 2025-09-30 at 10:00, the last working day before the holiday."""
    desk.clock.set(at(2025, 9, 30, 9))
    desk.do("Task_Handle", REPLY, UNIT)
    desk.do("Task_SignOff", {"signed_off": True, "sign_off_opinion": "同意"}, LEADER)
    desk.do("Task_Review", {"review_passed": True}, REVIEWER)
    desk.clock.set(at(2025, 9, 30, 10))
    desk.do("Task_Reply", {"reply_channel": "电话"}, OPERATOR)


def test_the_unit_leader_signs_off_the_reply_before_review(tmp_path: Path) -> None:
    """领导签发 is the handling unit's leader's: another unit's leader, or the unit's staff, may not sign."""
    desk = _open(tmp_path)
    desk.do("Task_Handle", REPLY, UNIT)
    assert desk.ready() == ["Task_SignOff"]
    sign = desk.task("Task_SignOff")
    assert (sign.role, sign.unit, sign.due_at) == ("单位负责人", "市城管局", None)
    assert [(f.id, f.required) for f in sign.form] == [("signed_off", True), ("sign_off_opinion", False)]
    for wrong in (OTHER_LEADER, UNIT):
        with pytest.raises(NotAuthorized):
            desk.do("Task_SignOff", {"signed_off": True}, wrong)
    with pytest.raises(InvalidData):
        desk.do("Task_SignOff", {"sign_off_opinion": "同意"}, LEADER)  # signed_off is required
    desk.do("Task_SignOff", {"signed_off": True, "sign_off_opinion": "同意签发"}, LEADER)
    assert desk.ready() == ["Task_Review"]
    assert desk.view.data["sign_off_opinion"] == "同意签发"


def test_a_reply_not_signed_off_goes_back_to_the_leads_handling(tmp_path: Path) -> None:
    """Refused on 09-30: back to the lead's 办理, whose limit counts afresh from the next working day
    (10-09, 10-10, 10-11, 10-13, 10-14: due at 24:00 on 10-14), as after a review's 退回."""
    desk = _open(tmp_path)
    desk.clock.set(at(2025, 9, 30, 9))
    desk.do("Task_Handle", {"reply": "已收悉"}, UNIT)
    desk.do("Task_SignOff", {"signed_off": False, "sign_off_opinion": "答复过简，重拟"}, LEADER)
    assert desk.ready() == ["Task_Handle"]
    assert desk.task("Task_Handle").due_at == at(2025, 10, 15)
    desk.do("Task_Handle", REPLY, UNIT)
    assert desk.ready() == ["Task_SignOff"]
    desk.do("Task_SignOff", {"signed_off": True}, LEADER)
    assert desk.ready() == ["Task_Review"]
    assert desk.view.data["reply"] == REPLY["reply"]


def test_a_merged_reply_not_signed_off_goes_back_to_the_merge(tmp_path: Path) -> None:
    """Co-handled: the leader sends the merged reply back to 汇总答复; the co-handling replies stand."""
    desk = _open(tmp_path, co_units="市水务局")
    (co,) = [t.id for t in desk.engine.tasks(desk.id) if t.element_id == "Task_CoHandle"]
    desk.engine.complete(co, {"co_reply": "已疏通排水管"}, WATER)
    desk.do("Task_Handle", {"reply": "路灯已修复"}, UNIT)
    desk.do("Task_MergeReplies", {"reply": "已处理"}, UNIT)
    desk.do("Task_SignOff", {"signed_off": False, "sign_off_opinion": "未写明排水情况"}, LEADER)
    assert desk.ready() == ["Task_MergeReplies"]
    desk.do("Task_MergeReplies", {"reply": "路灯已修复，排水管已疏通"}, UNIT)
    desk.do("Task_SignOff", {"signed_off": True}, LEADER)
    assert desk.ready() == ["Task_Review"]
    done = [e for e in desk.engine.history(desk.id) if e.kind == "task_completed"]
    assert [e.after["element_id"] for e in done].count("Task_CoHandle") == 1  # 协办 did not run again


def test_no_sign_off_where_the_jurisdiction_has_none(tmp_path: Path) -> None:
    """leader_sign_off false: the reply goes from 办理 straight to 审核答复."""
    desk = _open(tmp_path, leader_sign_off=False)
    desk.do("Task_Handle", REPLY, UNIT)
    assert desk.ready() == ["Task_Review"]
    assert "Task_SignOff" not in {
        e.after.get("element_id") for e in desk.engine.history(desk.id) if isinstance(e.after, dict)
    }


def test_callback_is_due_the_working_day_after_the_reply_across_national_day(tmp_path: Path) -> None:
    """Replied 09-30: 回访 is due at the end of 10-09, the first working day after the holiday; the rating
    given on the phone closes the ticket, counted as the requester's own."""
    desk = _open(tmp_path)
    _to_reply(desk)
    callback = desk.task("Task_Callback")
    assert (callback.role, callback.due_at) == ("回访员", at(2025, 10, 10))
    assert desk.tick(at(2025, 10, 9, 23, 59, 59)) == []
    with pytest.raises(InvalidData):
        desk.do("Task_Callback", {"solved": True}, CALLER)  # the rating is required
    view = desk.do("Task_Callback", {"rating": "非常满意", "solved": True}, CALLER)
    assert view.status == "completed"
    assert (view.data["rating"], view.data["solved"]) == ("非常满意", True)
    assert view.data["rating_defaulted"] is False


def test_a_very_dissatisfied_callback_goes_to_rework(tmp_path: Path) -> None:
    """非常不满意 on the phone takes the dissatisfied path: 不满意件再次转办, then the unit handles again."""
    desk = _open(tmp_path)
    _to_reply(desk)
    desk.do("Task_Callback", {"rating": "非常不满意", "solved": False}, CALLER)
    assert desk.ready() == ["Task_ReworkDispatch"]
    assert desk.view.data["rework_count"] == 1
    desk.do("Task_ReworkDispatch", {"rework_note": "诉求人称路灯仍不亮"}, UNSATISFIED_DESK)
    assert desk.ready() == ["Task_Handle"]


def test_a_message_rating_before_the_callback_stands(tmp_path: Path) -> None:
    """The requester rates by SMS on 10-02 (a holiday), before the call: the rating stands, no 回访."""
    desk = _open(tmp_path)
    _to_reply(desk)
    desk.clock.set(at(2025, 10, 2, 20))
    view = desk.deliver("rating", {"rating": "基本满意", "solved": True})
    assert view.status == "completed"
    assert view.data["rating"] == "基本满意"
    assert desk.ready() == []
    fired = [e for e in desk.engine.history(desk.id) if e.kind == "timer_fired"]
    assert fired == []


def test_no_callback_in_time_leaves_the_requester_to_rate(tmp_path: Path) -> None:
    """Not called back by 24:00 on 10-09: the ticket waits for a message rating for 3 working days from
    then (10-11, 10-13, 10-14: 10-10 itself, the day it starts waiting, does not count), then the default."""
    desk = _open(tmp_path)
    _to_reply(desk)
    assert desk.tick(at(2025, 10, 10)) == ["Timer_Callback"]
    assert desk.ready() == []
    assert desk.tick(at(2025, 10, 14, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 15)) == ["Timer_RatingPeriod"]
    view = desk.view
    assert view.status == "completed"
    assert (view.data["rating"], view.data["rating_defaulted"]) == ("满意", True)


def test_a_message_after_the_missed_callback_is_still_the_requesters(tmp_path: Path) -> None:
    """After a missed 回访 the requester's message rating is caught by 回访评价: 不满意 goes to rework."""
    desk = _open(tmp_path)
    _to_reply(desk)
    desk.tick(at(2025, 10, 10, 8))
    view = desk.deliver("rating", {"rating": "不满意"})
    assert desk.ready() == ["Task_ReworkDispatch"]
    assert view.data["rating"] == "不满意"


def test_no_callback_where_the_jurisdiction_has_none(tmp_path: Path) -> None:
    """callback false: after 反馈 the ticket waits for the requester's own rating (rating_period from the
    reply on 09-30: 10-09, 10-10, 10-11, then the default at 24:00 on 10-11)."""
    desk = _open(tmp_path, callback=False)
    _to_reply(desk)
    assert desk.ready() == []
    assert desk.tick(at(2025, 10, 11, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 12)) == ["Timer_RatingPeriod"]
    assert desk.view.data["rating_defaulted"] is True
