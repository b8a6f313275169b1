"""Years without a notice (2027 today): statutory holidays computed, no 调休, deadlines marked provisional,
recomputed when the notice arrives as a data file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import chinese_calendar
import pytest

from efficacy_flow.calendar import WorkingDayCalendar, china
from efficacy_flow.calendar._statutory import qingming, statutory_holidays, statutory_year
from efficacy_flow.clock import CHINA_TZ


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return china()


def test_qingming_formula_matches_the_astronomical_table() -> None:
    """The solar-term formula gives chinese_calendar's 清明 for every year it tabulates in 2007–2099."""
    terms = chinese_calendar.get_solar_terms(date(2007, 1, 1), date(2099, 12, 31))
    table = {d.year: d for d, name in terms if name == "清明"}
    assert len(table) == 93
    assert {year: qingming(year) for year in table} == table


@pytest.mark.parametrize("year", [pytest.param(2025, id="2025"), pytest.param(2026, id="2026")])
def test_statutory_days_are_off_in_the_published_notices(cal: WorkingDayCalendar, year: int) -> None:
    """Every statutory day the rules compute for 2025 and 2026 is a day off in that year's notice."""
    computed = [d for _, days in statutory_holidays(year) for d in days]
    assert len(computed) == 13
    assert [d for d in computed if cal.is_working_day(d)] == []


@pytest.mark.parametrize(
    ("year", "holiday", "dates"),
    [
        pytest.param(
            2025,
            "春节",
            [date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31)],
            id="2025-spring-festival-from-eve",
        ),
        pytest.param(2026, "端午节", [date(2026, 6, 19)], id="2026-dragon-boat"),
        pytest.param(2026, "中秋节", [date(2026, 9, 25)], id="2026-mid-autumn"),
        pytest.param(
            2027,
            "春节",
            [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)],
            id="2027-spring-festival",
        ),
        pytest.param(2027, "清明节", [date(2027, 4, 5)], id="2027-qingming"),
    ],
)
def test_lunar_and_solar_term_dates(year: int, holiday: str, dates: list[date]) -> None:
    """Lunar holidays come from lunardate and 清明 from its solar term."""
    assert dict(statutory_holidays(year))[holiday] == dates


def test_weekend_statutory_days_are_made_up_after_the_holiday_without_tiaoxiu() -> None:
    """2027: 春节 初一/初二 fall on Sat/Sun, so Tue 02-09 and Wed 02-10 are 补假 (art. 6); no weekend is
    worked."""
    year = statutory_year(2027)
    in_lieu = {h.name: h.dates for h in year.holidays if h.name.endswith("（补假）")}
    assert in_lieu["春节（补假）"] == (date(2027, 2, 9), date(2027, 2, 10))
    assert in_lieu["劳动节（补假）"] == (date(2027, 5, 3), date(2027, 5, 4))
    assert year.make_up_days == ()
    assert year.provisional


def test_a_deadline_crossing_into_2027_is_provisional(cal: WorkingDayCalendar) -> None:
    """20 working days from 2026-12-24 cross 元旦 2027 (computed) and say so."""
    deadline = cal.due(datetime(2026, 12, 24, 10, tzinfo=CHINA_TZ), "20个工作日")
    assert deadline.provisional
    assert deadline.provisional_years == (2027,)
    assert any(d.provisional and d.date == date(2027, 1, 1) for d in deadline.crossed)
    assert deadline.due_date == date(2027, 1, 22)
    assert [n.grade for n in deadline.sources] == ["official", "statutory-rule"]


def test_a_deadline_inside_published_years_is_not_provisional(cal: WorkingDayCalendar) -> None:
    """A period wholly in 2026 is final."""
    deadline = cal.due(datetime(2026, 3, 2, 10, tzinfo=CHINA_TZ), "20个工作日")
    assert not deadline.provisional
    assert deadline.provisional_years == ()


def test_hour_limit_is_provisional_only_if_its_date_is(cal: WorkingDayCalendar) -> None:
    """Hours do not depend on holidays; only the date they land on decides."""
    start = datetime(2026, 12, 31, 20, tzinfo=CHINA_TZ)
    assert not cal.due(start, "2小时").provisional
    assert cal.due(start, "5小时").provisional


NOTICE_2027 = """
year: 2027
notices:
  - id: annual
    title: 国务院办公厅关于2027年部分节假日安排的通知
    url: https://example.gov.cn/2027-notice
    published: 2026-11-10
    published_basis: notice-text
holidays:
  - {name: 元旦, dates: [2027-01-01, 2027-01-02, 2027-01-03], notice: annual}
make_up_days:
  - {date: 2027-01-09, for_holiday: 元旦, notice: annual}
"""


def test_recomputing_when_the_notice_arrives(tmp_path: Path, cal: WorkingDayCalendar) -> None:
    """The notice arrives as data_dir/national/2027.yaml: the version changes, the same start and limit give a
    final deadline, and the 调休 Saturday now counts."""
    (tmp_path / "national").mkdir()
    (tmp_path / "national" / "2027.yaml").write_text(NOTICE_2027, encoding="utf-8")
    start = datetime(2026, 12, 31, 10, tzinfo=CHINA_TZ)
    before = cal.due(start, "7个工作日")
    updated = china(data_dir=tmp_path)
    after = updated.due(start, "7个工作日")
    assert before.provisional
    assert not after.provisional
    assert updated.calendar_version != cal.calendar_version
    assert before.due_date == date(2027, 1, 12)
    assert after.due_date == date(2027, 1, 11)
    assert updated.is_working_day(date(2027, 1, 9))
