"""好差评: a 差评 verified, rectified, reported back and called back, or removed by 申诉复核, on the engine.

Every scenario starts on the make-up Sunday 2025-09-28 and runs across National Day (2025's notice:
10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are make-up working days). Limits (time_limits.yaml):
verification 1个工作日 ([local] 上海 第三十条, 安阳 第五十二条); rectification 10个工作日 by default
([setting]), 德州 5个工作日, 北京 7日, 四川 15个工作日 ([local]).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.processes._drive import Desk, at

from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidData, NotAuthorized

OPERATOR = Actor("operator-7", ["受理员"])
UNIT = Actor("chengguan-1", ["承办单位"], unit="市城管局")
OTHER_UNIT = Actor("water-1", ["承办单位"], unit="市水务局")
OFFICE = Actor("office-1", ["效能办"])
BAD_RATING = {
    "case_id": "GD-2025-0928-001",
    "unit": "市城管局",
    "rating": "非常不满意",
    "rating_comment": "路灯修了又坏",
    "named": True,
    "rater_name": "张三",
    "rater_phone": "13812345678",
    "channel": "12345热线",
}
VERIFIED = {"verification": "属实", "verification_note": "经核实，灯具未按规定更换"}
RECTIFIED = {"rectification": "已更换整组灯具并建立巡查台账"}
REPORTED = {"feedback": "已整改到位，特此反馈", "feedback_channel": "电话"}


def _open(tmp_path: Path, **extra: object) -> Desk:
    desk = Desk(tmp_path, "good_bad_review", at(2025, 9, 28, 9))
    desk.start({**BAD_RATING, **extra}, OPERATOR)
    return desk


def _verified(tmp_path: Path, **extra: object) -> Desk:
    desk = _open(tmp_path, **extra)
    desk.clock.set(at(2025, 9, 28, 10))
    desk.do("Task_Verify", VERIFIED, UNIT)
    return desk


def _timers_fired(desk: Desk) -> list[str]:
    return [e.after["element_id"] for e in desk.engine.history(desk.id) if e.kind == "timer_fired"]


def _completed_tasks(desk: Desk) -> list[str]:
    return [e.after["element_id"] for e in desk.engine.history(desk.id) if e.kind == "task_completed"]


def test_verified_rectified_on_time_reported_and_called_back(tmp_path: Path) -> None:
    """核实属实—整改—整改反馈—回访—办结; the default 10 working days skip National Day and count 10-11."""
    desk = _open(tmp_path)
    verify = desk.task("Task_Verify")
    assert (verify.role, verify.unit) == ("承办单位", "市城管局")
    assert verify.due_at == at(2025, 9, 30)  # 1个工作日 after the make-up Sunday: all of Monday 09-29
    desk.clock.set(at(2025, 9, 28, 10))
    desk.do("Task_Verify", VERIFIED, UNIT)
    rectify = desk.task("Task_Rectify")
    assert rectify.unit == "市城管局"
    # Ready on 09-28: 09-29, 09-30, 10-09, 10-10, 10-11 (make-up Saturday), 10-13..10-17.
    assert rectify.due_at == at(2025, 10, 18)
    assert desk.tick(at(2025, 10, 17, 23, 59, 59)) == []
    desk.do("Task_Rectify", RECTIFIED, UNIT)
    desk.do("Task_Report", REPORTED, UNIT)
    assert desk.ready() == ["Task_Callback"]  # a named 差评 is always called back
    assert desk.task("Task_Callback").role == "受理员"
    view = desk.do("Task_Callback", {"callback_result": "满意", "callback_note": "认可整改"}, OPERATOR)
    assert view.status == "completed"
    assert view.data["rating_removed"] is False
    assert view.data["rectification_overdue"] is False
    assert view.data["overdue_count"] == 0
    assert view.data["callback_result"] == "满意"
    assert _timers_fired(desk) == []
    assert _completed_tasks(desk) == ["Task_Verify", "Task_Rectify", "Task_Report", "Task_Callback"]


def test_rectified_late_across_national_day_is_supervised_and_timed_again(tmp_path: Path) -> None:
    """德州's 5 working days from the make-up Sunday run out at 24:00 on the make-up Saturday 10-11; 督办 by
    the efficiency office sends it back for a fresh period; the overdue is kept in the data."""
    desk = _verified(tmp_path, region="德州", named=False)
    assert desk.task("Task_Rectify").due_at == at(2025, 10, 12)  # 09-29, 09-30, 10-09, 10-10, 10-11
    assert desk.tick(at(2025, 10, 11, 23, 59, 59)) == []
    assert desk.tick(at(2025, 10, 12)) == ["Timer_RectifyLimit"]
    assert desk.ready() == ["Task_Supervise"]
    assert desk.task("Task_Supervise").role == "效能办"
    assert desk.view.data["rectification_overdue"] is True
    assert desk.view.data["overdue_count"] == 1
    with pytest.raises(NotAuthorized):
        desk.do("Task_Supervise", {"supervision_opinion": "限期整改"}, UNIT)
    desk.clock.set(at(2025, 10, 13, 9))
    desk.do("Task_Supervise", {"supervision_opinion": "限五个工作日内整改到位"}, OFFICE)
    # Ready Monday 10-13: 10-14, 10-15, 10-16, 10-17, 10-20.
    assert desk.task("Task_Rectify").due_at == at(2025, 10, 21)
    desk.do("Task_Rectify", RECTIFIED, UNIT)
    view = desk.do("Task_Report", REPORTED, UNIT)
    assert view.status == "completed"  # anonymous, no callback asked for: no 回访
    assert view.data["overdue_count"] == 1
    assert "Task_Callback" not in _completed_tasks(desk)


@pytest.mark.parametrize(
    ("region", "due"),
    [
        pytest.param("", at(2025, 10, 18), id="default-10-working-days"),
        pytest.param("上海", at(2025, 10, 18), id="unlisted-region-takes-the-default"),
        pytest.param("德州", at(2025, 10, 12), id="dezhou-5-working-days"),
        # 09-28 + 7日 = 10-05, inside the holiday: the last day rolls to 10-09 (民法典 第二百零三条).
        pytest.param("北京", at(2025, 10, 10), id="beijing-7-days"),
        # 09-29, 09-30, 10-09, 10-10, 10-11, 10-13..10-17, 10-20..10-24.
        pytest.param("四川", at(2025, 10, 25), id="sichuan-15-working-days"),
    ],
)
def test_each_regional_rectification_limit_gives_its_due_instant(
    tmp_path: Path, region: str, due: datetime
) -> None:
    desk = _verified(tmp_path, region=region)
    assert desk.task("Task_Rectify").due_at == due
    assert desk.tick(due - timedelta(seconds=1)) == []
    assert desk.tick(due) == ["Timer_RectifyLimit"]


def test_not_true_is_explained_and_still_called_back(tmp_path: Path) -> None:
    """不属实: the unit explains; the 差评 stays (only 申诉复核 removes one); named, so it is called back."""
    desk = _open(tmp_path)
    desk.do("Task_Verify", {"verification": "不属实", "verification_note": "路灯属供电公司资产"}, UNIT)
    assert desk.ready() == ["Task_Explain"]
    desk.do("Task_Explain", {"explanation": "已向差评人说明产权归属并转供电公司"}, UNIT)
    assert desk.ready() == ["Task_Callback"]
    view = desk.do("Task_Callback", {"callback_result": "基本满意"}, OPERATOR)
    assert view.status == "completed"
    assert view.data["rating_removed"] is False
    assert "Task_Rectify" not in _completed_tasks(desk)


def test_not_verified_in_time_is_deemed_true_and_rectified(tmp_path: Path) -> None:
    """The verification window (1个工作日) runs out at 24:00 on 09-29: deemed 属实, rectification counts
    10 working days from 09-30 00:00 (09-30 itself not counted)."""
    desk = _open(tmp_path)
    assert desk.tick(at(2025, 9, 29, 23, 59, 59)) == []
    assert desk.tick(at(2025, 9, 30)) == ["Timer_VerifyLimit"]
    assert desk.ready() == ["Task_Rectify"]
    assert desk.view.data["verification"] == "属实"
    assert desk.view.data["verification_deemed"] is True
    # 10-09, 10-10, 10-11, 10-13..10-17, 10-20, 10-21.
    assert desk.task("Task_Rectify").due_at == at(2025, 10, 22)


def test_appeal_upheld_removes_the_rating(tmp_path: Path) -> None:
    """申诉 → 申诉复核 by the efficiency office; upheld, the 差评 leaves 满意率 (rating_removed, with the
    opinion as the reason) and nothing is rectified."""
    desk = _open(tmp_path)
    desk.do(
        "Task_Verify",
        {"verification": "申诉", "verification_note": "同一号码一日内差评30次", "appeal_ground": "恶意差评"},
        UNIT,
    )
    assert desk.task("Task_AppealReview").role == "效能办"
    with pytest.raises(NotAuthorized):
        desk.do("Task_AppealReview", {"appeal_upheld": True, "appeal_opinion": "自行认定"}, UNIT)
    opinion = "经核查系恶意差评，不计入满意率"
    view = desk.do("Task_AppealReview", {"appeal_upheld": True, "appeal_opinion": opinion}, OFFICE)
    assert view.status == "completed"
    assert view.data["rating_removed"] is True
    assert view.data["removal_reason"] == opinion
    assert _completed_tasks(desk) == ["Task_Verify", "Task_AppealReview"]


def test_appeal_rejected_goes_to_rectification(tmp_path: Path) -> None:
    """Rejected, the 差评 stands: rectification, its period counted from when the review sent it on."""
    desk = _open(tmp_path)
    appeal = {"verification": "申诉", "verification_note": "认为系误评", "appeal_ground": "误评"}
    desk.do("Task_Verify", appeal, UNIT)
    desk.clock.set(at(2025, 9, 30, 16))
    desk.do("Task_AppealReview", {"appeal_upheld": False, "appeal_opinion": "评价有据，申诉不成立"}, OFFICE)
    assert desk.ready() == ["Task_Rectify"]
    assert desk.view.data["rating_removed"] is False
    # Ready 09-30: 10-09, 10-10, 10-11, 10-13..10-17, 10-20, 10-21.
    assert desk.task("Task_Rectify").due_at == at(2025, 10, 22)
    desk.do("Task_Rectify", RECTIFIED, UNIT)
    desk.do("Task_Report", REPORTED, UNIT)
    assert desk.do("Task_Callback", {"callback_result": "满意"}, OPERATOR).status == "completed"


@pytest.mark.parametrize(
    ("named", "callback_wanted", "called_back"),
    [(True, False, True), (True, True, True), (False, True, True), (False, False, False)],
)
def test_named_bad_ratings_are_always_called_back_anonymous_ones_on_request(
    tmp_path: Path, named: bool, callback_wanted: bool, called_back: bool
) -> None:
    desk = _verified(tmp_path, named=named, callback_wanted=callback_wanted)
    desk.do("Task_Rectify", RECTIFIED, UNIT)
    view = desk.do("Task_Report", REPORTED, UNIT)
    assert desk.ready() == (["Task_Callback"] if called_back else [])
    assert view.status == ("active" if called_back else "completed")


def test_only_the_rated_unit_verifies(tmp_path: Path) -> None:
    desk = _open(tmp_path)
    with pytest.raises(NotAuthorized):
        desk.do("Task_Verify", VERIFIED, OTHER_UNIT)
    assert desk.ready() == ["Task_Verify"]


@pytest.mark.parametrize("rating", ["满意", "基本满意", "非常满意"])
def test_a_good_rating_does_not_start_a_review(tmp_path: Path, rating: str) -> None:
    """Only the bottom two of the five levels are 差评 (国办发〔2019〕51号)."""
    desk = Desk(tmp_path, "good_bad_review", at(2025, 9, 28, 9))
    with pytest.raises(InvalidData):
        desk.start({**BAD_RATING, "rating": rating}, OPERATOR)


def test_only_the_centre_or_the_office_registers_a_bad_rating(tmp_path: Path) -> None:
    """Who may register a 差评 (settings.yaml permissions.start): the centre or the efficiency office."""
    desk = Desk(tmp_path, "good_bad_review", at(2025, 9, 28, 9))
    with pytest.raises(NotAuthorized):
        desk.start(BAD_RATING, UNIT)
    assert desk.start(BAD_RATING, OFFICE).status == "active"
