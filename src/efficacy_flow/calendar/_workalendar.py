"""workalendar's ``Calendar`` interface over a :class:`WorkingDayCalendar` (imported only when asked for)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from workalendar.core import SAT, SUN, Calendar, cleaned_date

if TYPE_CHECKING:
    from efficacy_flow.calendar._calendar import WorkingDayCalendar

__all__ = ["WorkalendarAdapter"]


def _dates(values: Iterable[Any] | None) -> frozenset[date]:
    return frozenset(cleaned_date(v) for v in values) if values else frozenset()


class WorkalendarAdapter(Calendar):  # type: ignore[misc]  # workalendar ships no type information
    """China (efficacy_flow data): answers from the official notices, including 调休 working weekends."""

    WEEKEND_DAYS = (SAT, SUN)
    include_new_years_day = False

    def __init__(self, calendar: WorkingDayCalendar) -> None:
        super().__init__()
        self._cal = calendar

    def get_calendar_holidays(self, year: int) -> list[tuple[date, str]]:
        """The days off the notices (or the statutory rules, for unpublished years) set in ``year``."""
        return self._cal.holidays(year)

    def is_working_day(
        self,
        day: date | datetime,
        extra_working_days: Iterable[Any] | None = None,
        extra_holidays: Iterable[Any] | None = None,
    ) -> bool:
        """True for working days, 调休 weekends included; extra working days win over extra holidays."""
        day = cleaned_date(day)
        if extra_working_days and day in _dates(extra_working_days):
            return True
        if extra_holidays and day in _dates(extra_holidays):
            return False
        return self._cal.is_working_day(day)

    def add_working_days(
        self,
        day: date | datetime,
        delta: int,
        extra_working_days: Iterable[Any] | None = None,
        extra_holidays: Iterable[Any] | None = None,
        keep_datetime: bool = False,
    ) -> date | datetime:
        """``delta`` working days after ``day`` (before it when negative), the start day not counted."""
        if extra_working_days or extra_holidays:
            result: date | datetime = super().add_working_days(
                day, delta, extra_working_days, extra_holidays, keep_datetime
            )
            return result
        start = cleaned_date(day, keep_datetime)
        result = self._cal.add_working_days(cleaned_date(day), delta)
        if isinstance(start, datetime):
            return datetime.combine(result, start.timetz())
        return result

    def get_working_days_delta(
        self,
        start: date | datetime,
        end: date | datetime,
        include_start: bool = False,
        extra_working_days: Iterable[Any] | None = None,
        extra_holidays: Iterable[Any] | None = None,
    ) -> int:
        """Working days between the two dates, in either order: (earlier, later], plus the earlier one when
        ``include_start`` is set and it is a working day."""
        if extra_working_days or extra_holidays:
            return int(
                super().get_working_days_delta(start, end, include_start, extra_working_days, extra_holidays)
            )
        first, last = sorted((cleaned_date(start), cleaned_date(end)))
        if first == last:
            return 0
        count = self._cal.working_days_between(first, last)
        return count + 1 if include_start and self._cal.is_working_day(first) else count
