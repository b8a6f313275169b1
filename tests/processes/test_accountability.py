"""效能告诫与问责 on the engine.

Sources: 001_a86978e3ab2b148c.txt §四(五), §五(五); 公务员法 第六十三条, 第九十五条, 第九十六条.
Calendar-day limits (30日, 15日, 60日) end on start + N, rolled to the next working day when that is a
rest day; 2026-01-04 (a Sunday) is a make-up working day in the 2026 notice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.processes._drive import Desk, at

from efficacy_flow.calendar import CALENDAR_DAYS, TimeLimit
from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidTimeLimit

OFFICE = Actor("efficiency-office-1", ["效能办"])
SUBJECT = Actor("li-si", ["被问责对象"], unit="市城管局")
GROUP = Actor("leading-group", ["效能建设领导小组"])
APPEAL_BODY = Actor("civil-service-bureau", ["申诉受理机关"])
CASE = {
    "subject_type": "个人",
    "subject_name": "李四",
    "unit": "市城管局",
    "clue": "12345工单三次不满意，办理拖拉",
    "clue_source": "12345热线",
}


def _open(tmp_path: Path, **extra: Any) -> Desk:
    desk = Desk(tmp_path, "accountability", at(2025, 9, 26, 10))
    desk.start({**CASE, **extra}, OFFICE)
    return desk


def _to_decision(desk: Desk) -> None:
    desk.do("Task_Investigate", {"facts": "工单超期未办", "violation_found": True}, OFFICE)
    desk.do("Task_NotifyFacts", {"notice": "拟给予效能告诫，可陈述申辩"}, OFFICE)
    desk.do("Task_StateDefence", {"statement": "人手不足"}, SUBJECT)


def _admonish_and_serve(desk: Desk) -> None:
    _to_decision(desk)
    desk.do("Task_Decide", {"decision": "效能告诫", "decision_basis": "001 §五(五)"}, GROUP)
    desk.clock.set(at(2025, 9, 30, 10))
    desk.do("Task_Serve", {"service_note": "当面送达"}, OFFICE)


def test_unsubstantiated_clue_is_not_pursued(tmp_path: Path) -> None:
    """A clue the investigation does not substantiate ends at 不予追究 without a decision."""
    desk = _open(tmp_path)
    view = desk.do("Task_Investigate", {"facts": "查无实据", "violation_found": False}, OFFICE)
    assert view.status == "completed"
    assert "decision" not in view.data


def test_statement_period_is_five_working_days_then_deemed_waived(tmp_path: Path) -> None:
    """Told Friday 09-26: 09-28, 09-29, 09-30, 10-09, 10-10; silence until 24:00 on 10-10 waives the right."""
    desk = _open(tmp_path)
    desk.do("Task_Investigate", {"facts": "工单超期未办", "violation_found": True}, OFFICE)
    desk.do("Task_NotifyFacts", {"notice": "拟给予效能告诫"}, OFFICE)
    statement = desk.task("Task_StateDefence")
    assert statement.due_at == at(2025, 10, 11)
    assert statement.unit == "市城管局"
    assert desk.tick(at(2025, 10, 11)) == ["Timer_StatementPeriod"]
    assert desk.ready() == ["Task_Decide"]
    assert desk.view.data["defence_waived"] is True


_NO_UNIT_CONSEQUENCE = {"public_criticism": False, "honours_revoked": False}


@pytest.mark.parametrize(
    ("subject_type", "before", "consequence"),
    [
        pytest.param(
            "个人",
            0,
            {
                "grade_cap": "基本称职",
                **_NO_UNIT_CONSEQUENCE,
                "consequence": "当年考核不得评为称职以上等次",
            },
            id="person-first",
        ),
        pytest.param(
            "个人",
            1,
            {
                "grade_cap": "不称职",
                **_NO_UNIT_CONSEQUENCE,
                "consequence": "一年内被告诫两次以上，当年考核定为不称职",
            },
            id="person-second",
        ),
        pytest.param(
            "个人",
            2,
            {
                "grade_cap": "不称职",
                **_NO_UNIT_CONSEQUENCE,
                "consequence": "一年内被告诫两次以上，当年考核定为不称职",
            },
            id="person-third",
        ),
        pytest.param(
            "单位",
            0,
            {
                "grade_cap": None,
                "public_criticism": True,
                "honours_revoked": True,
                "consequence": "通报批评，取消领导班子当年评优评先资格",
            },
            id="unit-first",
        ),
        pytest.param(
            "单位",
            1,
            {
                "grade_cap": None,
                "public_criticism": True,
                "honours_revoked": True,
                "consequence": "通报批评，取消领导班子当年评优评先资格",
            },
            id="unit-second",
        ),
    ],
)
def test_admonition_consequences_come_from_the_table_for_the_subject_type(
    tmp_path: Path, subject_type: str, before: int, consequence: dict[str, Any]
) -> None:
    """效能告诫 counts the admonition into the year, then 告诫对象？ routes by subject_type.

    A person's consequence comes from admonition_consequence (a grade cap, never 通报批评); a unit's
    from unit_admonition_consequence (通报批评 and no 评优评先, never a grade cap).
    Source: 001_a86978e3ab2b148c.txt §四(五).
    """
    desk = _open(tmp_path, subject_type=subject_type, admonitions_this_year=before)
    _to_decision(desk)
    desk.do("Task_Decide", {"decision": "效能告诫", "decision_basis": "001 §五(五)"}, GROUP)
    data = desk.view.data
    assert data["admonitions_this_year"] == before + 1
    assert {key: data[key] for key in consequence} == consequence
    assert desk.ready() == ["Task_Serve"]


def test_a_unit_admonition_is_served_and_closes_with_its_consequences(tmp_path: Path) -> None:
    """After its table a unit's case is served, rectified and closed; its consequences stay in the data."""
    desk = _open(tmp_path, subject_type="单位", subject_name="市城管局")
    _admonish_and_serve(desk)
    desk.do("Task_Rectify", {"rectification_report": "已建立工单日清制度"}, SUBJECT)
    desk.do("Task_VerifyRectification", {"rectification_verified": True}, OFFICE)
    assert desk.tick(at(2025, 10, 31)) == ["Timer_ObjectionWindow"]
    view = desk.view
    assert view.status == "completed"
    assert (view.data["public_criticism"], view.data["honours_revoked"], view.data["grade_cap"]) == (
        True,
        True,
        None,
    )


def test_decision_in_force_rectified_and_no_objection(tmp_path: Path) -> None:
    """Served 09-30: rectification runs at once; the 30日 objection window ends 24:00 on 10-30; then 结案."""
    desk = _open(tmp_path)
    _admonish_and_serve(desk)
    rectify = desk.task("Task_Rectify")
    assert rectify.due_at == at(2025, 10, 31)
    desk.clock.set(at(2025, 10, 20, 9))
    desk.do("Task_Rectify", {"rectification_report": "已建立工单日清制度"}, SUBJECT)
    desk.do("Task_VerifyRectification", {"rectification_verified": True}, OFFICE)
    assert desk.view.status == "active"  # the objection window is still open
    assert desk.tick(at(2025, 10, 30, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 31)) == ["Timer_ObjectionWindow"]
    view = desk.view
    assert view.status == "completed"
    assert view.data["grade_cap"] == "基本称职"


def test_review_overrun_is_recorded_and_the_appeal_window_lapses(tmp_path: Path) -> None:
    """复核 within 30日 of 10-09 (11-08 is a Saturday: 24:00 on 11-10); the overrun is recorded; task stays.

    The review decided late on 11-12, no appeal within 15日 (24:00 on 11-27): with the rectification verified,
    the case closes. The decision stayed in force throughout: rectification was ready all along.
    """
    desk = _open(tmp_path)
    _admonish_and_serve(desk)
    desk.clock.set(at(2025, 10, 9, 10))
    desk.deliver("objection", {"objection_type": "复核", "objection_reason": "事实有误"})
    assert desk.ready() == ["Task_Rectify", "Task_Review"]
    assert desk.tick(at(2025, 10, 30, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 31)) == ["Timer_RectificationLimit"]
    desk.do("Task_UrgeRectification", {"urge_note": "限期一周"}, OFFICE)
    assert desk.tick(at(2025, 11, 10, 23, 59, 59)) == []
    assert desk.tick(at(2025, 11, 11)) == ["Timer_ReviewDecision"]
    assert desk.ready() == ["Task_Rectify", "Task_Review"]
    desk.clock.set(at(2025, 11, 12, 10))
    desk.do("Task_Review", {"review_result": "维持"}, GROUP)
    desk.do("Task_Rectify", {"rectification_report": "整改完毕"}, SUBJECT)
    desk.do("Task_VerifyRectification", {"rectification_verified": True}, OFFICE)
    assert desk.tick(at(2025, 11, 27, 23, 59, 59)) == []
    assert desk.tick(at(2025, 11, 28)) == ["Timer_AppealWindow"]
    view = desk.view
    assert view.status == "completed"
    assert view.data["review_result"] == "维持"


def test_review_then_appeal(tmp_path: Path) -> None:
    """A review upheld, then an appeal within 15日 goes to the appeal body."""
    desk = _open(tmp_path)
    _admonish_and_serve(desk)
    desk.deliver("objection", {"objection_type": "复核", "objection_reason": "事实有误"})
    desk.do("Task_Review", {"review_result": "维持"}, GROUP)
    desk.deliver("appeal", {"appeal_reason": "不服复核决定"})
    desk.do("Task_Appeal", {"appeal_result": "变更", "appeal_opinion": "改为监察建议"}, APPEAL_BODY)
    desk.do("Task_Rectify", {"rectification_report": "整改完毕"}, SUBJECT)
    view = desk.do("Task_VerifyRectification", {"rectification_verified": True}, OFFICE)
    assert view.status == "completed"
    assert view.data["appeal_result"] == "变更"


def _direct_appeal(tmp_path: Path) -> Desk:
    """Admonished, served 10-09 and rectified; appealed directly on 11-05 (Task_Appeal ready)."""
    desk = _open(tmp_path)
    _to_decision(desk)
    desk.do("Task_Decide", {"decision": "效能告诫", "decision_basis": "001 §五(五)"}, GROUP)
    desk.clock.set(at(2025, 10, 9, 10))
    desk.do("Task_Serve", {"service_note": "邮寄送达"}, OFFICE)
    desk.do("Task_Rectify", {"rectification_report": "整改完毕"}, SUBJECT)
    desk.do("Task_VerifyRectification", {"rectification_verified": True}, OFFICE)
    desk.clock.set(at(2025, 11, 5, 10))
    desk.deliver("objection", {"objection_type": "申诉", "objection_reason": "直接申诉"})
    return desk


def test_direct_appeal_decided_within_sixty_days_over_new_year(tmp_path: Path) -> None:
    """Served 10-09, appealed directly on 11-05: 60日 end on 2026-01-04, a make-up Sunday, so no roll."""
    desk = _direct_appeal(tmp_path)
    assert desk.ready() == ["Task_Appeal"]
    assert desk.tick(at(2026, 1, 4, 23, 59, 59)) == []
    assert desk.tick(at(2026, 1, 5)) == ["Timer_AppealDecision"]
    assert desk.ready() == ["Task_Appeal"]


def test_unfinished_rectification_is_urged_and_redone(tmp_path: Path) -> None:
    """At the 30日 limit 整改督办 sends it back; a failed verification sends it back again."""
    desk = _open(tmp_path)
    _admonish_and_serve(desk)
    assert "Timer_RectificationLimit" in desk.tick(at(2025, 10, 31))
    desk.do("Task_UrgeRectification", {"urge_note": "限期一周"}, OFFICE)
    desk.do("Task_Rectify", {"rectification_report": "部分整改"}, SUBJECT)
    desk.do("Task_VerifyRectification", {"rectification_verified": False}, OFFICE)
    assert desk.ready() == ["Task_Rectify"]


def test_serious_case_is_transferred(tmp_path: Path) -> None:
    """立案查处 hands the case to the supervisory authority and ends this process."""
    desk = _open(tmp_path)
    _to_decision(desk)
    desk.do("Task_Decide", {"decision": "立案查处", "decision_basis": "严重违纪"}, GROUP)
    view = desk.do("Task_Transfer", {"transfer_note": "移送市监委"}, OFFICE)
    assert view.status == "completed"
    assert view.data["grade_cap"] is None  # no admonition, no table consequence


def test_recommendation_skips_the_consequence_table(tmp_path: Path) -> None:
    """监察建议 is served without admonition consequences."""
    desk = _open(tmp_path)
    _to_decision(desk)
    desk.do("Task_Decide", {"decision": "监察建议", "decision_basis": "普遍性问题"}, GROUP)
    assert desk.ready() == ["Task_Serve"]
    assert desk.view.data["admonitions_this_year"] == 0


def test_a_complex_appeal_is_extended_by_at_most_thirty_days(tmp_path: Path) -> None:
    """公务员法 第九十六条: 60日, extended by at most 30日 for a complex case. Appealed 11-05, due at the
    end of 2026-01-04; 31日 more is refused, 30日 more end on 2026-02-03, and then one day more is refused."""
    desk = _direct_appeal(tmp_path)
    appeal = desk.task("Task_Appeal")
    with pytest.raises(InvalidTimeLimit):
        desk.engine.extend(appeal.id, "31日", "案情复杂", approved_by=APPEAL_BODY)
    desk.engine.extend(appeal.id, "30日", "案情复杂", approved_by=APPEAL_BODY)
    with pytest.raises(InvalidTimeLimit) as caught:
        desk.engine.extend(appeal.id, "1日", "案情复杂", approved_by=APPEAL_BODY)
    assert caught.value.entry == "accountability_appeal_decision"
    assert caught.value.max_total == TimeLimit(30, CALENDAR_DAYS)
    extended = [e.after for e in desk.engine.history(desk.view.id) if e.kind == "extended"]
    assert [e["limit"] for e in extended] == ["30日"]
    assert extended[-1]["due"] == {"Timer_AppealDecision": at(2026, 2, 4).isoformat()}
    assert desk.tick(at(2026, 2, 3, 23, 59, 59)) == []
    assert desk.tick(at(2026, 2, 4)) == ["Timer_AppealDecision"]
