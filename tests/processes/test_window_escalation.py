"""The "办不成事" window (003_e63eaf9f19ff150c.txt §三 优化办理流程) on the engine, across National Day 2025.

2025's notice: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are make-up working days. A working-day limit
ends at 24:00 of its last working day, the day the task became ready not counted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.processes._drive import Desk, at

from efficacy_flow.engine import Actor

COORDINATOR = Actor("coordinator-1", ["窗口协调员"])
ADMIN = Actor("service-admin-1", ["政务服务管理部门"])
LEAD = Actor("task-force-lead", ["协调专班组长"])
OFFICE = Actor("efficiency-office-1", ["效能办"])
START = {"matter": "股权变更因法院查封无法办理", "applicant_type": "企业", "unit": "市场监管局"}


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = Desk(tmp_path, "window_escalation", at(2025, 9, 26, 10))
    desk.start(START, COORDINATOR)
    return desk


def test_solved_on_the_spot_closes(desk: Desk) -> None:
    """A matter solved at the window closes at once, with no accountability request."""
    assert desk.ready() == ["Task_OnSpot"]
    view = desk.do("Task_OnSpot", {"solved_on_spot": True, "on_spot_result": "当场办结"}, COORDINATOR)
    assert view.status == "completed"
    assert view.data["accountability_requested"] is False
    assert view.first_responder == "coordinator-1"


def test_coordinator_has_three_working_days_across_the_make_up_sunday(desk: Desk) -> None:
    """Ready Friday 09-26: 09-28 (make-up), 09-29, 09-30 are the three days; due at 24:00 on 09-30."""
    desk.do("Task_OnSpot", {"solved_on_spot": False}, COORDINATOR)
    task = desk.task("Task_Coordinate")
    assert task.due_at == at(2025, 10, 1)
    assert task.role == "窗口协调员"
    view = desk.do(
        "Task_Coordinate", {"coordination_result": "已解决", "feedback": "已协调办结"}, COORDINATOR
    )
    assert view.status == "completed"
    assert view.data["coordination_overdue"] is False


def test_coordination_overdue_goes_to_case_conference_then_extension(desk: Desk) -> None:
    """At the 3-day limit the case goes to 一事一议 (5 working days over the holiday), +10 if approved."""
    desk.do("Task_OnSpot", {"solved_on_spot": False}, COORDINATOR)
    assert desk.tick(at(2025, 9, 30, 23, 59, 59)) == []
    assert desk.ready() == ["Task_Coordinate"]
    assert desk.tick(at(2025, 10, 1)) == ["Timer_CoordinationLimit"]
    conference = desk.task("Task_CaseConference")
    # Ready 10-01 (a holiday): 10-09, 10-10, 10-11 (make-up Saturday), 10-13, 10-14.
    assert conference.due_at == at(2025, 10, 15)
    assert desk.view.data["coordination_overdue"] is True

    desk.clock.set(at(2025, 10, 9, 10))
    desk.do("Task_CaseConference", {"conference_result": "特别复杂", "feedback": "涉法院查封"}, ADMIN)
    desk.do("Task_ApproveExtension", {"extension_approved": True}, LEAD)
    complex_task = desk.task("Task_ComplexHandling")
    # Ready Thursday 10-09: ten working days are 10-10, 10-11, 10-13..10-17, 10-20..10-22.
    assert complex_task.due_at == at(2025, 10, 23)
    desk.do("Task_ComplexHandling", {"handling_result": "已解决", "feedback": "协调法院解封"}, ADMIN)

    view = desk.do("Task_EfficiencyCheck", {"shirking_found": False, "delay_found": True}, OFFICE)
    assert view.status == "completed"
    assert view.data["accountability_requested"] is True


def test_case_conference_limit_marks_overdue_and_goes_to_efficiency_check(desk: Desk) -> None:
    """A 一事一议 not answered within 5 working days is marked and goes to 效能督办核查."""
    desk.do("Task_OnSpot", {"solved_on_spot": False}, COORDINATOR)
    desk.clock.set(at(2025, 9, 29, 9))
    desk.do("Task_Coordinate", {"coordination_result": "难以协调", "feedback": "部门意见不一"}, COORDINATOR)
    conference = desk.task("Task_CaseConference")
    # Ready Monday 09-29: 09-30, 10-09, 10-10, 10-11 (make-up Saturday), 10-13.
    assert conference.due_at == at(2025, 10, 14)
    assert desk.tick(at(2025, 10, 13, 23, 59)) == []
    assert desk.tick(at(2025, 10, 14)) == ["Timer_ConferenceLimit"]
    assert desk.ready() == ["Task_EfficiencyCheck"]
    assert desk.view.data["conference_overdue"] is True
    view = desk.do("Task_EfficiencyCheck", {"shirking_found": False, "delay_found": False}, OFFICE)
    assert view.status == "completed"
    assert view.data["accountability_requested"] is False


@pytest.mark.parametrize(
    ("shirking", "delay", "requested"),
    [
        pytest.param(True, False, True, id="推诿扯皮"),
        pytest.param(False, True, True, id="办事拖拉"),
        pytest.param(False, False, False, id="neither"),
    ],
)
def test_extension_refused_then_efficiency_check(
    desk: Desk, shirking: bool, delay: bool, requested: bool
) -> None:
    """A refused extension goes straight to the check; 推诿扯皮 or 办事拖拉 requests accountability."""
    desk.do("Task_OnSpot", {"solved_on_spot": False}, COORDINATOR)
    desk.do("Task_Coordinate", {"coordination_result": "难以协调", "feedback": "需研究"}, COORDINATOR)
    desk.do("Task_CaseConference", {"conference_result": "特别复杂", "feedback": "需延期"}, ADMIN)
    desk.do("Task_ApproveExtension", {"extension_approved": False, "approval_opinion": "不予延期"}, LEAD)
    assert desk.ready() == ["Task_EfficiencyCheck"]
    view = desk.do("Task_EfficiencyCheck", {"shirking_found": shirking, "delay_found": delay}, OFFICE)
    assert view.data["accountability_requested"] is requested


def test_only_the_lane_role_may_complete(desk: Desk) -> None:
    """The lane is the role: the efficiency office cannot do the window coordinator's step."""
    from efficacy_flow.errors import NotAuthorized

    with pytest.raises(NotAuthorized):
        desk.do("Task_OnSpot", {"solved_on_spot": True}, OFFICE)
