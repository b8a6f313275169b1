"""Counting back from a due time (a warning "1个工作日 before the limit runs out", 预警): the calendar's
``counted_back``, which the deadline ladder uses (engine/_ladder.py, docs/supervision.md)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.calendar import HOURS, WORKING_DAYS, TimeLimit, china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import InvalidTimeLimit, NaiveDatetime

CAL = china()
DAYS = st.dates(min_value=date(2009, 1, 1), max_value=date(2026, 6, 30))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def test_one_working_day_before_a_limit_across_the_make_up_sunday() -> None:
    """3 working days from Fri 2025-09-26 end with Tue 09-30 (Sun 09-28 is a make-up working day); one
    working day before is the end of Mon 09-29."""
    due = CAL.due(at(2025, 9, 26, 10), "3个工作日").due_at
    assert due == at(2025, 10, 1)
    assert CAL.counted_back(due, "1个工作日") == at(2025, 9, 30)
    assert CAL.counted_back(due, "2个工作日") == at(2025, 9, 29)  # the end of the make-up Sunday
    assert CAL.counted_back(due, "3个工作日") == at(2025, 9, 27)  # the end of Fri 09-26: all 3 remain


def test_counting_back_over_national_day() -> None:
    """A limit that ends with Thu 2025-10-09: one working day before is the end of Tue 09-30 (10-01 to 10-08
    are off)."""
    assert CAL.counted_back(at(2025, 10, 10), "1个工作日") == at(2025, 10, 1)


def test_hours_and_calendar_days_count_back_elapsed_and_whole_days() -> None:
    assert CAL.counted_back(at(2025, 10, 1), "4小时") == at(2025, 9, 30, 20)
    assert CAL.counted_back(at(2025, 10, 1), "2日") == at(2025, 9, 29)
    assert CAL.counted_back(at(2025, 10, 1), "1个月") == at(2025, 8, 31)


@given(start=DAYS, n=st.integers(min_value=1, max_value=30), k=st.integers(min_value=1, max_value=30))
def test_what_is_left_after_counting_back_is_the_amount(start: date, n: int, k: int) -> None:
    """The instant counted back by k working days (k <= n) ends a day after which exactly k working days of
    the period are left, the last day included: counting k working days on from it gives the last day."""
    k = min(k, n)
    due = CAL.due(datetime.combine(start, time(9), CHINA_TZ), TimeLimit(n, WORKING_DAYS)).due_at
    back = CAL.counted_back(due, TimeLimit(k, WORKING_DAYS))
    tick = timedelta(microseconds=1)
    ended, last = (back - tick).date(), (due - tick).date()  # periods end at 24:00 of their last day
    assert back < due
    assert back.time() == time(0)
    assert CAL.add_working_days(ended, k) == last


@given(minutes=st.integers(min_value=0, max_value=10**5), hours=st.integers(min_value=0, max_value=500))
def test_hours_count_back_exactly(minutes: int, hours: int) -> None:
    due = at(2025, 3, 3, 9) + timedelta(minutes=minutes)
    assert CAL.counted_back(due, TimeLimit(hours, HOURS)) == due - timedelta(hours=hours)


def test_bad_input_is_refused() -> None:
    with pytest.raises(NaiveDatetime):
        CAL.counted_back(datetime(2025, 10, 1), "1个工作日")
    with pytest.raises(InvalidTimeLimit):
        CAL.counted_back(at(2025, 10, 1), "soon")
