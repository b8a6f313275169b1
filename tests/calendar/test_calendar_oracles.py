"""Day-by-day agreement with two independent oracles, chinese-calendar and holidays, for 2007–2026.

Both are test-only dependencies. No disagreement exists today; if one appears after an oracle update, check
the notice and document it rather than bending the data.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import holidays
import pytest

from efficacy_flow.calendar import WorkingDayCalendar, china


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return china()


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [pytest.param(y, id=str(y)) for y in range(2007, 2027)])
def test_agrees_with_chinese_calendar_every_day(cal: WorkingDayCalendar, year: int) -> None:
    """Every day of the year is a working day for us exactly when chinese_calendar.is_workday says so."""
    disagreements = [d for d in _days(year) if cal.is_working_day(d) != chinese_calendar.is_workday(d)]
    assert disagreements == []


@pytest.mark.parametrize("year", [pytest.param(y, id=str(y)) for y in range(2007, 2027)])
def test_agrees_with_holidays_every_day(cal: WorkingDayCalendar, year: int) -> None:
    """Every day of the year is a working day for us exactly when holidays.China().is_working_day says so."""
    oracle = holidays.China(years=year)
    disagreements = [d for d in _days(year) if cal.is_working_day(d) != oracle.is_working_day(d)]
    assert disagreements == []
