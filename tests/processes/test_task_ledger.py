"""The task ledger (004_9e2da4449c83c106.txt §二(一), §二(五)) on the engine, over National Day and New Year.

Month limits end on the corresponding day, rolled to the next working day when that is a rest day;
the 2026 notice makes Sunday 2026-01-04 a make-up working day after 元旦 (01-01..01-03).
"""

from __future__ import annotations

from pathlib import Path

from tests.processes._drive import Desk, at

from efficacy_flow.engine import Actor

LEAD_UNIT = Actor("lead-unit-1", ["牵头单位"])
UNIT = Actor("drc-1", ["责任单位"], unit="市发改委")
INSPECTION = Actor("inspection-1", ["督查室"])
ENTRY = {
    "task_name": "重点项目开工率提升",
    "unit": "市发改委",
    "responsible_person": "王五",
    "milestones": "9月底前完成选址；12月底前开工",
    "due_date": "2025-12-31",
}


def test_monthly_report_lag_warning_and_next_period(tmp_path: Path) -> None:
    """月报: 09-26 + 1个月 is Sunday 10-26, rolled to 10-27; a lagging entry is warned; the cycle restarts."""
    desk = Desk(tmp_path, "task_ledger", at(2025, 9, 26, 10))
    desk.start({**ENTRY, "report_cycle": "月报"}, LEAD_UNIT)
    assert desk.ready() == []
    assert desk.tick(at(2025, 10, 27, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 28)) == ["Timer_ReportCycle"]
    report = desk.task("Task_ProgressReport")
    assert report.unit == "市发改委"
    desk.do("Task_ProgressReport", {"progress": "选址未完成", "completed": False, "at_risk": True}, UNIT)
    desk.do("Task_LagWarning", {"warning": "进度滞后，请制定措施"}, INSPECTION)
    desk.clock.set(at(2025, 10, 29, 10))
    desk.do("Task_Improve", {"measures": "每周调度"}, UNIT)
    assert desk.ready() == []
    # 10-29 + 1个月 = Saturday 11-29, rolled to Monday 12-01.
    assert desk.tick(at(2025, 12, 1, 23, 59, 59)) == []
    assert desk.tick(at(2025, 12, 2)) == ["Timer_ReportCycle"]
    assert desk.ready() == ["Task_ProgressReport"]


def test_completion_report_within_five_working_days_over_new_year(tmp_path: Path) -> None:
    """季报 (default): 12-26; done 12-29, the report is due by 24:00 on 2026-01-06 (01-04: make-up Sunday)."""
    desk = Desk(tmp_path, "task_ledger", at(2025, 9, 26, 10))
    desk.start(ENTRY, LEAD_UNIT)
    assert desk.tick(at(2025, 12, 27)) == ["Timer_ReportCycle"]
    desk.clock.set(at(2025, 12, 29, 9))
    desk.do("Task_ProgressReport", {"progress": "已开工", "completed": True}, UNIT)
    report = desk.task("Task_CompletionReport")
    assert report.due_at == at(2026, 1, 7)
    assert desk.tick(at(2026, 1, 7)) == ["Timer_CompletionReport"]
    desk.do("Task_UrgeReport", {"urge_note": "请即报送"}, INSPECTION)
    desk.do("Task_CompletionReport", {"completion_report": "项目已开工，投资到位"}, UNIT)
    desk.do("Task_Verify", {"verified": False, "verification_opinion": "现场未见施工"}, INSPECTION)
    assert desk.ready() == []  # back in the reporting cycle, not closed out
    assert desk.view.status == "active"


def test_verified_entry_is_closed_out(tmp_path: Path) -> None:
    """On-site verification confirms the report: the entry is 销号 and the instance completes."""
    desk = Desk(tmp_path, "task_ledger", at(2025, 9, 26, 10))
    desk.start(ENTRY, LEAD_UNIT)
    desk.tick(at(2025, 12, 27))
    desk.do("Task_ProgressReport", {"progress": "已开工", "completed": True}, UNIT)
    desk.do("Task_CompletionReport", {"completion_report": "项目已开工"}, UNIT)
    view = desk.do("Task_Verify", {"verified": True}, INSPECTION)
    assert view.status == "completed"
