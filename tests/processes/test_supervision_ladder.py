"""The supervision ladder (000_187e340a21ee818c.txt §二(三)) on the engine; the step comes from DMN."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.processes._drive import Desk, at

from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidData

INSPECTOR = Actor("inspector-1", ["效能督查员"])
OFFICE = Actor("efficiency-office-1", ["效能办"])
UNIT = Actor("housing-1", ["责任单位"], unit="市住建局")
FINDING = {"unit": "市住建局", "finding": "窗口工作人员脱岗", "period": "2025年度"}


def _open(tmp_path: Path, count: int) -> Desk:
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 9, 26, 10))
    desk.start({**FINDING, "findings_in_period": count}, INSPECTOR)
    return desk


@pytest.mark.parametrize(
    ("count", "step", "task", "deduction"),
    [
        pytest.param(1, "告知提醒", "Task_Remind", 0, id="first"),
        pytest.param(2, "通报预警", "Task_Circulate", 0, id="second"),
        pytest.param(3, "考评运用", "Task_Deduct", 1, id="third"),
        pytest.param(6, "考评运用", "Task_Deduct", 1, id="sixth"),
    ],
)
def test_ladder_step_by_count(tmp_path: Path, count: int, step: str, task: str, deduction: int) -> None:
    """The unit's count in the period picks the step; 考评运用 carries the score deduction."""
    desk = _open(tmp_path, count)
    data = desk.view.data
    assert data["ladder_step"] == step
    assert data["score_deduction"] == deduction
    assert desk.ready() == [task]
    assert desk.task(task).role == "效能办"


def test_a_count_below_one_is_refused_at_start(tmp_path: Path) -> None:
    """findings_in_period includes the finding itself: 0 fails the start schema and nothing is stored."""
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 9, 26, 10))
    with pytest.raises(InvalidData):
        desk.start({**FINDING, "findings_in_period": 0}, INSPECTOR)


def test_rectification_is_urged_at_the_limit_and_verified(tmp_path: Path) -> None:
    """15 working days from Friday 09-26 end 24:00 on 10-23 (National Day skipped; 09-28, 10-11 count)."""
    desk = _open(tmp_path, 2)
    desk.do("Task_Circulate", {"circular": "全市通报"}, OFFICE)
    rectify = desk.task("Task_Rectify")
    assert rectify.unit == "市住建局"
    assert rectify.due_at == at(2025, 10, 24)
    assert desk.tick(at(2025, 10, 23, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 24)) == ["Timer_RectificationLimit"]
    desk.do("Task_Urge", {"urge_note": "三日内反馈"}, OFFICE)
    desk.do("Task_Rectify", {"rectification_report": "已调整排班"}, UNIT)
    desk.do("Task_Verify", {"rectification_verified": False, "verification_opinion": "仍有脱岗"}, OFFICE)
    desk.do("Task_Rectify", {"rectification_report": "已纳入考勤"}, UNIT)
    view = desk.do("Task_Verify", {"rectification_verified": True}, OFFICE)
    assert view.status == "completed"
    assert view.data["ladder_step"] == "通报预警"
