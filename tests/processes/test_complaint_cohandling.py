"""主办/协办, the extension request and the repeat link of complaint_closure, across National Day 2025.

Dispatched on the make-up Sunday 2025-09-28 (10-01..10-08 off; 10-11 a make-up working Saturday).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.processes._drive import Desk, at

from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidState, NotAuthorized

OPERATOR = Actor("operator-7", ["受理员"])
LEAD = Actor("chengguan-1", ["承办单位"], unit="市城管局")
WATER = Actor("water-1", ["承办单位"], unit="市水务局")
DISTRICT = Actor("district-1", ["承办单位"], unit="区城管局")
REVIEWER = Actor("reviewer-1", ["审核员"])
SUPERVISOR = Actor("supervisor-1", ["督办员"])
CENTRE = Actor("centre-1", ["热线中心"])
TICKET = {"title": "小区积水", "content": "幸福小区雨后积水，路灯也不亮", "requester_name": "张三"}


def _open(tmp_path: Path, **extra: object) -> Desk:
    desk = Desk(tmp_path, "complaint_closure", at(2025, 9, 28, 9))
    desk.start({**TICKET, **extra}, OPERATOR)
    desk.do("Task_Dispatch", {"unit": "市城管局"}, OPERATOR)
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, LEAD)
    return desk


def _co_tasks(desk: Desk) -> dict[str, str]:
    return {t.unit or "": t.id for t in desk.engine.tasks(desk.id) if t.element_id == "Task_CoHandle"}


def test_each_co_handling_unit_has_its_own_step_beside_the_lead(tmp_path: Path) -> None:
    """Two co-handling units: one 协办 step each, only that unit's; the lead's 办理 alone has the limit; the
    lead merges the replies after its own 办理 and every 协办 are done."""
    desk = _open(tmp_path, co_units="市水务局、区城管局，市城管局")  # the lead itself is not a co-handler
    assert desk.ready() == ["Task_CoHandle", "Task_CoHandle", "Task_Handle"]
    co = _co_tasks(desk)
    assert set(co) == {"市水务局", "区城管局"}
    handle = desk.task("Task_Handle")
    assert (handle.unit, handle.due_at) == ("市城管局", at(2025, 10, 12))
    assert all(t.due_at is None for t in desk.engine.tasks(desk.id) if t.element_id == "Task_CoHandle")
    with pytest.raises(NotAuthorized):
        desk.engine.complete(co["市水务局"], {"co_reply": "已疏通"}, DISTRICT)
    desk.engine.complete(co["市水务局"], {"co_reply": "已疏通排水管"}, WATER)
    desk.do("Task_Handle", {"reply": "路灯已修复"}, LEAD)
    assert desk.ready() == ["Task_CoHandle"]  # the join waits for the last co-handling unit
    desk.engine.complete(_co_tasks(desk)["区城管局"], {"co_reply": "已清理积水"}, DISTRICT)
    merge = desk.task("Task_MergeReplies")
    assert merge.unit == "市城管局"
    with pytest.raises(NotAuthorized):
        desk.do("Task_MergeReplies", {"reply": "x"}, WATER)
    desk.do("Task_MergeReplies", {"reply": "路灯已修复，积水已清理，排水管已疏通"}, LEAD)
    assert desk.ready() == ["Task_SignOff"]  # the lead unit's leader signs the merged reply off
    assert desk.task("Task_SignOff").unit == "市城管局"
    assert desk.view.data["unit"] == "市城管局"
    assert desk.view.data["reply"] == "路灯已修复，积水已清理，排水管已疏通"
    replies = [
        (e.actor, e.after["data"]["co_reply"])
        for e in desk.engine.history(desk.id)
        if e.kind == "task_completed" and e.after.get("element_id") == "Task_CoHandle"
    ]
    assert sorted(replies) == [("district-1", "已清理积水"), ("water-1", "已疏通排水管")]


def test_an_overdue_lead_is_supervised_while_co_handling_runs_on(tmp_path: Path) -> None:
    """The lead's limit runs out on 10-12 00:00: 督办 sends it back to the lead's 办理 (5 working days anew);
    the co-handling step is untouched, and the merge still waits for both."""
    desk = _open(tmp_path, co_units="市水务局")
    assert desk.tick(at(2025, 10, 12)) == ["Timer_HandlingLimit", "Timer_HandlingWarning"]
    assert desk.ready() == ["Task_CoHandle", "Task_Supervise"]
    desk.clock.set(at(2025, 10, 13, 9))
    desk.do("Task_Supervise", {"supervision_opinion": "限期办结"}, SUPERVISOR)
    assert desk.ready() == ["Task_CoHandle", "Task_Handle"]
    assert desk.task("Task_Handle").due_at == at(2025, 10, 21)
    desk.do("Task_Handle", {"reply": "已办"}, LEAD)
    desk.do("Task_CoHandle", {"co_reply": "已协办"}, WATER)
    assert desk.ready() == ["Task_MergeReplies"]
    assert desk.view.data["overdue_count"] == 1


def test_no_co_units_keeps_the_single_unit_path(tmp_path: Path) -> None:
    """Without co_units (or naming only the lead) 办理 goes straight to 领导签发, then 审核答复."""
    desk = _open(tmp_path, co_units="市城管局")
    assert desk.ready() == ["Task_Handle"]
    desk.do("Task_Handle", {"reply": "已办"}, LEAD)
    assert desk.ready() == ["Task_SignOff"]
    desk.sign_off()
    assert desk.ready() == ["Task_Review"]


def test_co_units_given_at_dispatch(tmp_path: Path) -> None:
    """The operator may name the co-handling units at 转办派单."""
    desk = Desk(tmp_path, "complaint_closure", at(2025, 9, 28, 9))
    desk.start(TICKET, OPERATOR)
    desk.do("Task_Dispatch", {"unit": "市城管局", "co_units": "区城管局"}, OPERATOR)
    desk.do("Task_Acknowledge", {"ack_decision": "签收"}, LEAD)
    assert set(_co_tasks(desk)) == {"区城管局"}


def _request_extension(desk: Desk) -> None:
    desk.deliver(
        "extension_request", {"extension_reason": "需协调供电部门", "extension_requested": "5个工作日"}
    )


def test_an_approved_extension_is_applied_by_the_host_and_the_requester_told(tmp_path: Path) -> None:
    """Requested on 10-10 before the limit (10-12 00:00), approved by the hotline centre with 5个工作日: the
    host's engine.extend moves 办理 to 10-18 00:00 (10-13..10-17); the requester is told."""
    desk = _open(tmp_path)
    desk.clock.set(at(2025, 10, 10, 10))
    _request_extension(desk)
    assert desk.ready() == ["Task_ApproveExtension", "Task_Handle"]
    approve = desk.task("Task_ApproveExtension")
    assert approve.role == "热线中心"
    with pytest.raises(NotAuthorized):
        desk.do("Task_ApproveExtension", {"extension_approved": True}, LEAD)
    grant = {"extension_approved": True, "extension_granted": "5个工作日", "approval_opinion": "同意"}
    desk.do("Task_ApproveExtension", grant, CENTRE)
    # The host applies what was approved to the lead's 办理.
    handle = desk.task("Task_Handle").id
    extended = desk.engine.extend(handle, grant["extension_granted"], "需协调供电部门", CENTRE)
    assert extended.due_at == at(2025, 10, 18)
    assert desk.ready() == ["Task_Handle", "Task_NotifyExtension"]
    desk.do("Task_NotifyExtension", {"notify_channel": "短信", "notice": "办理期限延至10月17日"}, CENTRE)
    assert desk.ready() == ["Task_Handle"]
    assert desk.tick(at(2025, 10, 12)) == []  # the warning moved with the deadline
    # Both moved 5 working days (10-13..10-17), so they fall together.
    assert desk.tick(at(2025, 10, 18)) == ["Timer_HandlingLimit", "Timer_HandlingWarning"]
    kinds = desk.history_kinds()
    assert "extended" in kinds
    told = [e for e in desk.engine.history(desk.id) if e.after.get("element_id") == "Task_NotifyExtension"]
    assert told


def test_a_refused_extension_leaves_the_limit(tmp_path: Path) -> None:
    """Refused: the branch ends (不予延期), nobody is told and 办理 is still due 10-12 00:00."""
    desk = _open(tmp_path)
    _request_extension(desk)
    desk.do("Task_ApproveExtension", {"extension_approved": False, "approval_opinion": "理由不充分"}, CENTRE)
    assert desk.ready() == ["Task_Handle"]
    assert desk.task("Task_Handle").due_at == at(2025, 10, 12)
    assert desk.tick(at(2025, 10, 12)) == ["Timer_HandlingLimit", "Timer_HandlingWarning"]


def test_no_extension_request_after_the_limit(tmp_path: Path) -> None:
    """Once the limit has run out 办理 has gone to 督办: a request is refused (before the limit only)."""
    desk = _open(tmp_path)
    assert desk.tick(at(2025, 10, 12)) == ["Timer_HandlingLimit", "Timer_HandlingWarning"]
    with pytest.raises(InvalidState):
        _request_extension(desk)


def test_a_repeat_complaint_keeps_its_link(tmp_path: Path) -> None:
    """repeat_of (the earlier ticket's business key) is kept in the data the host and the appraisal read."""
    desk = _open(tmp_path, repeat_of="GD0001")
    assert desk.view.data["repeat_of"] == "GD0001"
