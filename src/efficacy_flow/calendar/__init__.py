"""China's working-day calendar and statutory time limits (民法典 arts. 200–204).

>>> from datetime import datetime
>>> from efficacy_flow.calendar import china, TimeLimit, WORKING_DAYS
>>> from efficacy_flow.clock import CHINA_TZ
>>> cal = china()
>>> cal.due(datetime(2025, 9, 26, 10, tzinfo=CHINA_TZ), "20个工作日").due_date.isoformat()
'2025-10-30'

docs/calendar.md gives the rules with their sources, the data format, and how provisional deadlines are
recomputed when a year's notice arrives.
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.calendar._calendar import WorkingDayCalendar
from efficacy_flow.calendar._data import Holiday, MakeUpDay, Notice
from efficacy_flow.calendar._deadline import HOLIDAY, MAKE_UP_DAY, CrossedDay, Deadline
from efficacy_flow.calendar._factory import china, known_regions
from efficacy_flow.calendar._rules import (
    CALENDAR_DAYS,
    HOURS,
    HOURS_ARE_ELAPSED_TIME,
    LAST_DAY_ROLLS_TO_WORKING_DAY,
    MINUTES,
    MONTH_END_WHEN_NO_CORRESPONDING_DAY,
    MONTHS,
    PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME,
    START_DAY_EXCLUDED,
    WEEKEND_HOLIDAY_MADE_UP,
    WEEKEND_IS_REST,
    WORKING_DAYS,
    Rule,
    TimeLimit,
    TimeUnit,
)

__all__ = [
    "CALENDAR_DAYS",
    "HOLIDAY",
    "HOURS",
    "HOURS_ARE_ELAPSED_TIME",
    "LAST_DAY_ROLLS_TO_WORKING_DAY",
    "MAKE_UP_DAY",
    "MINUTES",
    "MONTHS",
    "MONTH_END_WHEN_NO_CORRESPONDING_DAY",
    "PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME",
    "START_DAY_EXCLUDED",
    "WEEKEND_HOLIDAY_MADE_UP",
    "WEEKEND_IS_REST",
    "WORKING_DAYS",
    "CrossedDay",
    "Deadline",
    "Holiday",
    "MakeUpDay",
    "Notice",
    "Rule",
    "TimeLimit",
    "TimeUnit",
    "WorkingDayCalendar",
    "china",
    "known_regions",
]

_public.publish(globals())
