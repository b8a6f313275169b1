"""The supervision ladder (000_187e340a21ee818c.txt §二(三)) on the engine; the step comes from DMN.

The count of findings per unit and period is the engine's durable counter supervision_findings
(processes/counters.yaml), not start data from the host.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml
from tests.processes._drive import Desk, at
from tests.processes._model import PROCESSES, yaml_file

from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidData

INSPECTOR = Actor("inspector-1", ["效能督查员"])
OFFICE = Actor("efficiency-office-1", ["效能办"])
UNIT = Actor("housing-1", ["责任单位"], unit="市住建局")
FINDING = {"unit": "市住建局", "finding": "窗口工作人员脱岗", "period": "2025年度"}
OTHER_UNIT = {**FINDING, "unit": "市教育局"}


def _open(tmp_path: Path, count: int) -> Desk:
    """A desk whose last instance is the unit's ``count``-th finding of 2025 (the earlier ones on the days
    before)."""
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 9, 26, 10))
    for _ in range(count):
        desk.start(FINDING, INSPECTOR)
    return desk


def _steps(desk: Desk, starts: list[tuple[datetime, dict[str, str]]]) -> list[tuple[int, str]]:
    """Start each finding at its instant; return (findings_in_period, ladder_step) of each."""
    out = []
    for when, data in starts:
        desk.clock.set(when)
        view = desk.start(data, INSPECTOR)
        out.append((view.data["findings_in_period"], view.data["ladder_step"]))
    return out


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
    """The unit's durable count in the period picks the step; 考评运用 carries the score deduction."""
    desk = _open(tmp_path, count)
    data = desk.view.data
    assert data["findings_in_period"] == count
    assert data["ladder_step"] == step
    assert data["score_deduction"] == deduction
    assert desk.ready() == [task]
    assert desk.task(task).role == "效能办"


def test_three_findings_climb_the_ladder_and_other_units_count_apart(tmp_path: Path) -> None:
    """告知提醒 → 通报预警 → 考评运用 by the durable count of one unit; another unit's finding starts at 1
    and does not move the first unit's count."""
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 3, 3, 9))
    steps = _steps(
        desk,
        [
            (at(2025, 3, 3, 9), FINDING),
            (at(2025, 6, 9, 9), FINDING),
            (at(2025, 9, 26, 10), OTHER_UNIT),
            (at(2025, 11, 3, 9), FINDING),
        ],
    )
    assert steps == [(1, "告知提醒"), (2, "通报预警"), (1, "告知提醒"), (3, "考评运用")]
    assert desk.engine.counter("supervision_findings", "市住建局") == 3
    assert desk.engine.counter("supervision_findings", "市教育局") == 1
    assert "counter_incremented" in desk.history_kinds()
    assert desk.engine.verify_history(desk.id).ok


def test_a_new_calendar_year_resets_the_count(tmp_path: Path) -> None:
    """Two findings in 2025, the third at 00:00 on 1 January 2026 Beijing time: it is the first of 2026."""
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 12, 1, 9))
    steps = _steps(
        desk,
        [(at(2025, 12, 1, 9), FINDING), (at(2025, 12, 31, 23, 59, 59), FINDING), (at(2026, 1, 1), FINDING)],
    )
    assert steps == [(1, "告知提醒"), (2, "通报预警"), (1, "告知提醒")]


def test_rolling_12_months_counts_across_the_year_end(tmp_path: Path) -> None:
    """With period rolling_12_months (a jurisdiction setting) the 2026 finding is the third of twelve months,
    and a finding exactly twelve months old has dropped out: (now − 12 months, now]."""
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 3, 3, 9))
    folder = tmp_path / "processes"
    table = (folder / "counters.yaml").read_text(encoding="utf-8")
    (folder / "counters.yaml").write_text(
        table.replace("period: calendar_year", "period: rolling_12_months"), encoding="utf-8"
    )
    desk.engine.deploy(folder)
    steps = _steps(
        desk,
        [
            (at(2025, 3, 3, 9), FINDING),
            (at(2025, 12, 1, 9), FINDING),
            (at(2026, 1, 5, 9), FINDING),
            (at(2026, 3, 3, 9), FINDING),
        ],
    )
    assert steps == [(1, "告知提醒"), (2, "通报预警"), (3, "考评运用"), (3, "考评运用")]


def test_a_caller_count_is_overridden_by_the_durable_count(tmp_path: Path) -> None:
    """findings_in_period passed by the caller does not choose the step; the audit event keeps both."""
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 9, 26, 10))
    view = desk.start({**FINDING, "findings_in_period": 3}, INSPECTOR)
    assert view.data["ladder_step"] == "告知提醒"
    counted = [e for e in desk.engine.history(view.id) if e.kind == "counter_incremented"]
    assert [(e.before, e.after["count"]) for e in counted] == [({"findings_in_period": 3}, 1)]


def test_a_count_below_one_is_refused_at_start(tmp_path: Path) -> None:
    """findings_in_period includes the finding itself: a caller's 0 fails the start schema; nothing is
    stored or counted."""
    desk = Desk(tmp_path, "supervision_ladder", at(2025, 9, 26, 10))
    with pytest.raises(InvalidData):
        desk.start({**FINDING, "findings_in_period": 0}, INSPECTOR)
    assert desk.engine.counter("supervision_findings", "市住建局") == 0
    assert desk.engine.instances() == []


def test_the_counter_period_is_the_supervision_period_setting() -> None:
    """counters.yaml counts findings over settings.yaml's supervision_period, and cites 000 §二(三)."""
    counters = yaml.safe_load((PROCESSES / "counters.yaml").read_text(encoding="utf-8"))["counters"]
    entry = counters["supervision_findings"]
    setting = yaml_file("settings.yaml")["settings"]["supervision_period"]
    assert entry["period"] == setting["value"]
    assert entry["period"] in setting["allowed"]
    assert (entry["process"], entry["key"], entry["variable"]) == (
        "supervision_ladder",
        "unit",
        "findings_in_period",
    )
    assert "000_187e340a21ee818c.txt §二(三)" in entry["source"]


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
