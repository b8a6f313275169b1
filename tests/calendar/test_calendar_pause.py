"""Suspension arithmetic (暂停计时) and extension (延期): the calendar's one implementation, as properties and
named cases (the engine's suspend, resume and extend count with exactly these, engine/_suspension.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.calendar import CALENDAR_DAYS, MINUTES, WORKING_DAYS, TimeLimit, china
from efficacy_flow.clock import CHINA_TZ

CAL = china()
DAYS = st.dates(min_value=date(2008, 1, 1), max_value=date(2026, 6, 30))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


@given(start=DAYS, n=st.integers(min_value=1, max_value=40))
def test_suspend_and_resume_at_once_keeps_a_working_day_deadline(start: date, n: int) -> None:
    """Suspending and resuming at the same midnight leaves a working-day deadline where it was."""
    now = datetime.combine(start, time(), CHINA_TZ)
    due = CAL.due(now, TimeLimit(n, WORKING_DAYS)).due_at
    remaining = CAL.remaining_until(now, due, WORKING_DAYS)
    assert remaining == TimeLimit(n, WORKING_DAYS)
    assert CAL.due(now, remaining).due_at == due


@given(
    minutes=st.integers(min_value=0, max_value=10**5),
    pause=st.integers(min_value=0, max_value=10**5),
)
def test_elapsed_time_resumes_by_the_pause(minutes: int, pause: int) -> None:
    """An hour or minute limit resumes with the same remaining minutes: the due time moves by the pause."""
    now = at(2025, 3, 3, 9)
    due = now + timedelta(minutes=minutes)
    remaining = CAL.remaining_until(now, due, MINUTES)
    assert remaining == TimeLimit(minutes, MINUTES)
    assert CAL.due(now + timedelta(minutes=pause), remaining).due_at == due + timedelta(minutes=pause)


def test_elapsed_seconds_round_up_to_a_whole_minute() -> None:
    """What remains of elapsed time is counted in whole minutes, rounded up: never less than was left."""
    now = at(2025, 3, 3, 9)
    assert CAL.remaining_until(now, now + timedelta(seconds=61), MINUTES) == TimeLimit(2, MINUTES)


def test_overdue_timer_keeps_nothing() -> None:
    """A timer already past due keeps zero remaining time (never negative)."""
    now = at(2025, 3, 3, 9)
    assert CAL.remaining_until(now, now - timedelta(hours=1), MINUTES) == TimeLimit(0, MINUTES)
    assert CAL.remaining_until(now, now - timedelta(days=3), WORKING_DAYS) == TimeLimit(0, WORKING_DAYS)


def test_a_resumed_calendar_day_limit_counts_to_its_nominal_last_day() -> None:
    """The issue-12 regression (民法典 第二百零三条).

    ``5日`` from Monday 2025-09-15 10:00: the start day is excluded (art. 201), so the fifth day is Saturday
    09-20, a rest day: the period ends on the next working day, Monday 09-22 (art. 203). Suspended on 09-16,
    what remains is counted to the *nominal* last day — 09-17 … 09-20, 4 days — because the roll lengthened
    the period only because its end fell on a rest day; it was not time granted. Resumed on Thursday 09-25,
    the 4 days end on Monday 09-29, a working day (the old engine counted the remaining seconds and ended on
    10-01, a holiday, without the roll art. 203 requires).
    """
    limit = CAL.due(at(2025, 9, 15, 10), "5日")
    assert (limit.rolled_from, limit.due_date) == (date(2025, 9, 20), date(2025, 9, 22))
    remaining = CAL.remaining_until(
        at(2025, 9, 16, 10), limit.due_at, limit.limit.unit, rolled_from=limit.rolled_from
    )
    assert remaining == TimeLimit(4, CALENDAR_DAYS)
    assert CAL.remaining(at(2025, 9, 16, 10), limit) == remaining  # the Deadline form says the same
    resumed = CAL.due(at(2025, 9, 25, 10), remaining)
    assert resumed.due_date == date(2025, 9, 29)
    assert resumed.due_at == at(2025, 9, 30)


def test_a_resumed_calendar_day_limit_ending_on_a_holiday_rolls_to_the_next_working_day() -> None:
    """The same 4 remaining days resumed on Saturday 09-27 end nominally on Wednesday 10-01, National Day
    (10-01 … 10-08 off): the resumed period rolls to the first working day after the holiday, 10-09."""
    resumed = CAL.due(at(2025, 9, 27, 10), TimeLimit(4, CALENDAR_DAYS))
    assert resumed.rolled_from == date(2025, 10, 1)
    assert resumed.due_date == date(2025, 10, 9)


def test_without_a_roll_the_remaining_days_count_to_the_last_day() -> None:
    """A calendar-day period that did not roll keeps the days up to its last day."""
    limit = CAL.due(at(2025, 9, 15, 10), "3日")  # Thursday 09-18, a working day: no roll
    assert limit.rolled_from is None
    assert CAL.remaining(at(2025, 9, 16, 10), limit) == TimeLimit(2, CALENDAR_DAYS)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param("2个工作日", at(2025, 10, 11), id="working-days-over-holiday"),
        pytest.param("3日", at(2025, 10, 10), id="calendar-days-roll-to-working-day"),
        pytest.param("2小时", at(2025, 10, 1, 2), id="hours-elapsed"),
    ],
)
def test_extension_counts_from_the_old_last_day(limit: str, expected: datetime) -> None:
    """A period ending at the end of 09-30 extended by ``limit`` ends as the calendar says: the old last day
    is not counted again; the make-up Saturday 10-11 is a working day."""
    assert CAL.extend_from(at(2025, 10, 1), limit).due_at == expected


def test_extend_and_extend_from_agree() -> None:
    """The Deadline form of an extension is extend_from's, keeping the original start."""
    deadline = CAL.due(at(2025, 9, 26, 10), "2个工作日")
    extended = CAL.extend(deadline, "3个工作日")
    assert extended.due_at == CAL.extend_from(deadline.due_at, "3个工作日").due_at
    assert extended.start == deadline.start
