"""Each counting rule of 民法典 arts. 200–204 (statutory-rules.md §1), with named cases from the notices.

Expected dates are worked out by hand from the State Council notices (2024's, 2025's) and a wall calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from efficacy_flow.calendar import (
    CALENDAR_DAYS,
    HOURS,
    LAST_DAY_ROLLS_TO_WORKING_DAY,
    MINUTES,
    MONTH_END_WHEN_NO_CORRESPONDING_DAY,
    START_DAY_EXCLUDED,
    WORKING_DAYS,
    TimeLimit,
    WorkingDayCalendar,
    china,
)
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import CalendarDataMissing, InvalidTimeLimit, NaiveDatetime, UnknownRegion


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return china()


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("start", "limit", "due_date"),
    [
        pytest.param(at(2025, 3, 3, 9), "5个工作日", date(2025, 3, 10), id="monday-start-not-counted"),
        pytest.param(at(2025, 3, 3, 23, 59), "5个工作日", date(2025, 3, 10), id="late-start-same-as-early"),
        pytest.param(at(2025, 3, 1), "1个工作日", date(2025, 3, 3), id="saturday-start-counts-from-monday"),
        pytest.param(at(2025, 9, 26), "20个工作日", date(2025, 10, 30), id="across-national-day-2025"),
        pytest.param(at(2025, 9, 26), "1个工作日", date(2025, 9, 28), id="make-up-sunday-is-day-one"),
        pytest.param(at(2025, 9, 30), "1个工作日", date(2025, 10, 9), id="holiday-week-skipped"),
        pytest.param(at(2025, 3, 3), "0个工作日", date(2025, 3, 3), id="zero-ends-on-start-day"),
    ],
)
def test_working_day_limit_ends_on_the_nth_working_day_after_the_start_day(
    cal: WorkingDayCalendar, start: datetime, limit: str, due_date: date
) -> None:
    """START_DAY_EXCLUDED: the start day never counts, whatever its hour; holidays and weekends are skipped,
    调休 weekends count."""
    deadline = cal.due(start, limit)
    assert deadline.due_date == due_date
    assert START_DAY_EXCLUDED in deadline.rules
    assert cal.working_days_between(start.date(), due_date) == TimeLimit.parse(limit).n


@pytest.mark.parametrize(
    ("start", "limit", "due_date", "rolled_from"),
    [
        pytest.param(at(2025, 9, 15), "15日", date(2025, 9, 30), None, id="ends-on-a-working-day"),
        pytest.param(
            at(2025, 9, 16), "15日", date(2025, 10, 9), date(2025, 10, 1), id="rolls-past-national-day"
        ),
        pytest.param(at(2025, 3, 1), "8日", date(2025, 3, 10), date(2025, 3, 9), id="rolls-past-a-sunday"),
        pytest.param(
            at(2025, 9, 26), "15日", date(2025, 10, 11), None, id="make-up-saturday-is-not-a-rest-day"
        ),
        pytest.param(
            at(2025, 9, 20), "15日", date(2025, 10, 9), date(2025, 10, 5), id="holidays-inside-not-deducted"
        ),
    ],
)
def test_calendar_day_limit_rolls_a_rest_day_end_to_the_next_working_day(
    cal: WorkingDayCalendar, start: datetime, limit: str, due_date: date, rolled_from: date | None
) -> None:
    """LAST_DAY_ROLLS_TO_WORKING_DAY: start day + N; a last day that is a rest day moves to the next working
    day;
    holidays inside the period are not deducted."""
    deadline = cal.due(start, limit)
    assert (deadline.due_date, deadline.rolled_from) == (due_date, rolled_from)
    assert LAST_DAY_ROLLS_TO_WORKING_DAY in deadline.rules


@pytest.mark.parametrize(
    ("start", "due_date", "rolled_from"),
    [
        pytest.param(at(2025, 1, 31), date(2025, 2, 28), None, id="jan-31-to-feb-28"),
        pytest.param(at(2024, 1, 31), date(2024, 2, 29), None, id="leap-year-feb-29"),
        pytest.param(at(2025, 8, 31), date(2025, 9, 30), None, id="31st-to-30-day-month"),
        pytest.param(at(2025, 3, 15), date(2025, 4, 15), None, id="corresponding-day"),
        pytest.param(
            at(2025, 9, 1), date(2025, 10, 9), date(2025, 10, 1), id="corresponding-day-is-a-holiday"
        ),
    ],
)
def test_month_limit_ends_on_the_corresponding_day_or_the_month_end(
    cal: WorkingDayCalendar, start: datetime, due_date: date, rolled_from: date | None
) -> None:
    """MONTH_END_WHEN_NO_CORRESPONDING_DAY, then the rest-day roll."""
    deadline = cal.due(start, "1个月")
    assert (deadline.due_date, deadline.rolled_from) == (due_date, rolled_from)
    assert MONTH_END_WHEN_NO_CORRESPONDING_DAY in deadline.rules


def test_period_ends_at_24_00_of_its_last_day(cal: WorkingDayCalendar) -> None:
    """Without business hours the period ends at 24:00, i.e. 00:00 of the following day, in Asia/Shanghai."""
    deadline = cal.due(at(2025, 3, 3), "5个工作日")
    assert deadline.due_at == datetime(2025, 3, 11, 0, 0, tzinfo=CHINA_TZ)


def test_period_ends_at_closing_time_where_the_office_has_business_hours() -> None:
    """With a closing time the period ends at that time of its last day (民法典 art. 203 ¶2)."""
    deadline = china(closing_time=time(17, 30)).due(at(2025, 3, 3), "5个工作日")
    assert deadline.due_at == datetime(2025, 3, 10, 17, 30, tzinfo=CHINA_TZ)


def test_start_after_closing_time_is_still_only_the_start_day_excluded() -> None:
    """A 18:30 start on a working day: the start day is excluded (art. 201), nothing more; the next working
    day
    is day one."""
    deadline = china(closing_time=time(17, 0)).due(at(2025, 3, 3, 18, 30), "1个工作日")
    assert deadline.due_at == datetime(2025, 3, 4, 17, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("start", "limit", "due_at"),
    [
        pytest.param(at(2025, 9, 30, 22), "2小时", at(2025, 10, 1, 0), id="into-a-holiday-not-rolled"),
        pytest.param(at(2025, 9, 30, 10), "24小时", at(2025, 10, 1, 10), id="a-day-of-hours"),
        pytest.param(at(2025, 10, 4, 9), "15分钟", at(2025, 10, 4, 9, 15), id="minutes-on-a-holiday"),
    ],
)
def test_hour_limit_is_elapsed_wall_clock_time(
    cal: WorkingDayCalendar, start: datetime, limit: str, due_at: datetime
) -> None:
    """HOURS_ARE_ELAPSED_TIME: no working-day arithmetic, no roll, no closing time; due_date is due_at's
    date."""
    deadline = cal.due(start, limit)
    assert deadline.due_at == due_at
    assert deadline.due_date == due_at.date()
    assert deadline.crossed == ()
    assert china(closing_time=time(17)).due(start, limit).due_at == due_at


def test_an_aware_start_in_another_zone_is_counted_in_china(cal: WorkingDayCalendar) -> None:
    """2025-03-02 20:00 UTC is Monday 04:00 in Beijing: Monday is the start day."""
    deadline = cal.due(datetime(2025, 3, 2, 20, tzinfo=UTC), "1个工作日")
    assert deadline.due_date == date(2025, 3, 4)
    assert deadline.start.tzinfo is CHINA_TZ


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        pytest.param(date(2025, 10, 9), -1, date(2025, 9, 30), id="back-over-national-day"),
        pytest.param(date(2025, 10, 12), -1, date(2025, 10, 11), id="back-onto-make-up-saturday"),
        pytest.param(date(2025, 3, 10), -5, date(2025, 3, 3), id="back-a-week"),
        pytest.param(date(2025, 3, 8), 0, date(2025, 3, 8), id="zero-returns-the-day"),
    ],
)
def test_add_working_days_counts_back_for_negative_n(
    cal: WorkingDayCalendar, day: date, n: int, expected: date
) -> None:
    """n < 0 gives the |n|-th working day before the day (for early warnings)."""
    assert cal.add_working_days(day, n) == expected


def test_working_days_between_counts_the_half_open_interval(cal: WorkingDayCalendar) -> None:
    """(start, end]: the start is excluded, the end included; reversed arguments give the negative count."""
    assert cal.working_days_between(date(2025, 3, 3), date(2025, 3, 4)) == 1
    assert cal.working_days_between(date(2025, 3, 3), date(2025, 3, 3)) == 0
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert cal.working_days_between(date(2025, 3, 10), date(2025, 3, 3)) == -5


def test_pause_and_resume_reapplies_the_remaining_working_days(cal: WorkingDayCalendar) -> None:
    """Paused on Wednesday with 3 working days left (Thu, Fri, Mon); resumed the next Wednesday, they run
    Thu, Fri, Mon again."""
    deadline = cal.due(at(2025, 3, 3, 9), "5个工作日")
    remaining = cal.working_time_remaining(at(2025, 3, 5, 15), deadline.due_at, WORKING_DAYS)
    assert remaining == TimeLimit(3, WORKING_DAYS)
    assert cal.due(at(2025, 3, 12), remaining).due_date == date(2025, 3, 17)


def test_pause_of_an_hour_limit_keeps_whole_minutes(cal: WorkingDayCalendar) -> None:
    """Hour limits resume with the minutes left, rounded up."""
    deadline = cal.due(at(2025, 3, 3, 10), "2小时")
    remaining = cal.working_time_remaining(
        at(2025, 3, 3, 10, 30) + timedelta(seconds=1), deadline.due_at, HOURS
    )
    assert remaining == TimeLimit(90, MINUTES)


def test_nothing_remains_after_the_deadline(cal: WorkingDayCalendar) -> None:
    """Past due_at the remaining time is zero."""
    deadline = cal.due(at(2025, 3, 3), "15日")
    assert cal.remaining(at(2025, 4, 1), deadline) == TimeLimit(0, CALENDAR_DAYS)


def test_remaining_of_a_rolled_calendar_day_period_uses_the_nominal_end(cal: WorkingDayCalendar) -> None:
    """A 15-day period whose end rolled from 10-01 to 10-09: paused on 09-26, 5 calendar days remain, not
    13."""
    deadline = cal.due(at(2025, 9, 16), "15日")
    assert cal.remaining(at(2025, 9, 26), deadline) == TimeLimit(5, CALENDAR_DAYS)


def test_extension_counts_from_the_old_last_day(cal: WorkingDayCalendar) -> None:
    """延期 +10 working days from a 2025-03-10 deadline ends on 2025-03-24."""
    deadline = cal.due(at(2025, 3, 3), "5个工作日")
    extended = cal.extend(deadline, "10个工作日")
    assert extended.due_date == date(2025, 3, 24)
    assert extended.start == deadline.start


def test_naive_start_raises_naive_datetime(cal: WorkingDayCalendar) -> None:
    """A datetime without a zone is refused (also a ValueError)."""
    with pytest.raises(NaiveDatetime) as info:
        cal.due(datetime(2025, 3, 3, 10), "5个工作日")
    assert isinstance(info.value, ValueError)


def test_unparseable_limit_raises_invalid_time_limit(cal: WorkingDayCalendar) -> None:
    """Text that is not a limit is refused with the text attached."""
    with pytest.raises(InvalidTimeLimit) as info:
        cal.due(at(2025, 3, 3), "soon")
    assert info.value.text == "soon"


@pytest.mark.parametrize("strict", [pytest.param(False, id="lenient"), pytest.param(True, id="strict")])
def test_years_before_the_data_raise_calendar_data_missing_whatever_strict_says(strict: bool) -> None:
    """The data starts in 2007: earlier dates raise CalendarDataMissing (a LookupError) with the year."""
    cal = china(strict=strict)
    with pytest.raises(CalendarDataMissing) as info:
        cal.is_working_day(date(2006, 12, 29))
    assert info.value.year == 2006
    assert isinstance(info.value, LookupError)
    with pytest.raises(CalendarDataMissing):
        cal.add_working_days(date(2007, 1, 5), -10)


def test_strict_calendar_raises_for_an_unpublished_year() -> None:
    """strict=True: a period reaching into 2027 (no notice yet) raises CalendarDataMissing(year=2027)."""
    with pytest.raises(CalendarDataMissing) as info:
        china(strict=True).due(at(2026, 12, 20), "30个工作日")
    assert info.value.year == 2027


def test_years_past_the_computable_range_raise(cal: WorkingDayCalendar) -> None:
    """lunardate stops at 2099, so 2100 cannot even be computed provisionally."""
    with pytest.raises(CalendarDataMissing) as info:
        cal.is_working_day(date(2100, 3, 1))
    assert info.value.year == 2100


def test_unknown_region_raises_with_the_known_ones() -> None:
    """An undefined overlay is refused, naming the ones that exist."""
    with pytest.raises(UnknownRegion) as info:
        china(region="atlantis")
    assert info.value.region == "atlantis"
    assert "xinjiang" in info.value.known
