"""The working-day calendar: day lookups, working-day arithmetic and statutory periods.

Working days are precomputed per day from the first data year: a flag array, a prefix sum of working days
and the ordinals of the working days. ``add_working_days`` is then one list lookup and
``working_days_between`` one subtraction. Years past the data are appended on demand (provisionally, from
the statutory rules).
"""

from __future__ import annotations

import hashlib
import math
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta

from efficacy_flow.calendar._data import Holiday, MakeUpDay, Notice, RegionData, YearData
from efficacy_flow.calendar._deadline import HOLIDAY, MAKE_UP_DAY, CrossedDay, Deadline
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
    WEEKEND_IS_REST,
    WORKING_DAYS,
    Rule,
    TimeLimit,
    TimeUnit,
)
from efficacy_flow.calendar._statutory import LAST_COMPUTABLE_YEAR, STATUTORY_NOTICE, statutory_year
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.errors import CalendarDataError, CalendarDataMissing, NaiveDatetime

if TYPE_CHECKING:
    from workalendar.core import Calendar as WorkalendarCalendar

__all__ = ["WorkingDayCalendar"]

_fromordinal = date.fromordinal

#: Version of the rules that compute unpublished years; part of ``calendar_version``.
RULES_VERSION = "statutory-2024rev"

_RULES: dict[TimeUnit, tuple[Rule, ...]] = {
    WORKING_DAYS: (WEEKEND_IS_REST, START_DAY_EXCLUDED, PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME),
    CALENDAR_DAYS: (
        START_DAY_EXCLUDED,
        LAST_DAY_ROLLS_TO_WORKING_DAY,
        PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME,
    ),
    MONTHS: (
        START_DAY_EXCLUDED,
        MONTH_END_WHEN_NO_CORRESPONDING_DAY,
        LAST_DAY_ROLLS_TO_WORKING_DAY,
        PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME,
    ),
    HOURS: (HOURS_ARE_ELAPSED_TIME,),
    MINUTES: (HOURS_ARE_ELAPSED_TIME,),
}


@dataclass(frozen=True, slots=True)
class _State:
    """The precomputed arrays; replaced whole when years are appended, so readers never see a torn state."""

    end_year: int  # last year covered (inclusive)
    work: bytearray  # 1 = working day, per day index (index 0 = 1 January of the first year)
    prefix: array[int]  # prefix[i] = working days among indices [0, i)
    wlist: array[int]  # ordinals of the working days, ascending
    size: int  # number of days covered (len(work))
    nwork: int  # number of working days covered (len(wlist))
    special: dict[int, CrossedDay]  # ordinal -> why the day differs from Monday–Friday
    special_ords: list[int]  # sorted keys of ``special``
    provisional_years: frozenset[int]


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise NaiveDatetime(f"{name} must be an aware datetime, got {type(value).__name__}", value=value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(
            f"{name} must be timezone-aware (got naive {value.isoformat()}); attach Asia/Shanghai",
            value=value,
        )
    return value.astimezone(CHINA_TZ)


class WorkingDayCalendar:
    """China's working days (national notices, optionally a regional overlay), and statutory periods.

    Build one with :func:`efficacy_flow.calendar.china`. Instances are safe to share between threads.
    """

    def __init__(
        self,
        national: Mapping[int, YearData],
        *,
        region: RegionData | None = None,
        strict: bool = False,
        closing_time: time | None = None,
        digest: str = "",
    ) -> None:
        if not national:
            raise CalendarDataError(
                "no national holiday data", path="(none)", entry="(data)", problem="empty"
            )
        self._national = dict(sorted(national.items()))
        self._region = region
        self._region_years = {y.year: y for y in region.years} if region else {}
        self._strict = strict
        self._closing_time = closing_time
        self.first_year = min(self._national)
        self.last_data_year = max(self._national)
        self._base = date(self.first_year, 1, 1).toordinal()
        self._lock = threading.Lock()
        self._check_cross_file_conflicts()
        scope = "cn" if region is None else f"cn+{region.region}"
        sha = hashlib.sha256(f"{digest}|{RULES_VERSION}|{scope}".encode()).hexdigest()[:12]
        #: Identifies the data (files' bytes, rules version, region) that answers come from.
        self.calendar_version = f"{scope}:{self.first_year}-{self.last_data_year}:{sha}"
        self._state = self._build(self._initial_end())

    # -- construction ---------------------------------------------------------------------------------------

    def _initial_end(self) -> int:
        end = self.first_year
        while end + 1 in self._national:
            end += 1
        # A gap year inside the data is provisional (non-strict) or missing (strict); build through the data.
        return end if self._strict else self.last_data_year

    def _year(self, year: int) -> YearData:
        data = self._national.get(year)
        if data is not None:
            return data
        if self._strict or year > LAST_COMPUTABLE_YEAR:
            raise CalendarDataMissing(
                f"no holiday notice for {year} in the calendar data"
                + (
                    " (strict calendar)"
                    if self._strict
                    else f" and it cannot be computed past {LAST_COMPUTABLE_YEAR}"
                ),
                year=year,
            )
        return statutory_year(year)

    def _check_cross_file_conflicts(self) -> None:
        # A date set by two files (a 元旦 bridge day in the previous December) must mean the same in both.
        status: dict[date, tuple[bool, str]] = {}
        for data in self._national.values():
            for holiday in data.holidays:
                for day in holiday.dates:
                    self._claim(status, day, True, data.path, holiday.name)
            for make_up in data.make_up_days:
                self._claim(status, make_up.date, False, data.path, make_up.for_holiday)

    @staticmethod
    def _claim(status: dict[date, tuple[bool, str]], day: date, off: bool, path: str, name: str) -> None:
        previous = status.get(day)
        if previous is not None and previous[0] != off:
            raise CalendarDataError(
                f"{path}: {name} ({day}): conflicts with {previous[1]}:"
                f" one makes {day} a day off, the other a working day",
                path=path,
                entry=f"{name} ({day})",
                problem=f"conflicts with {previous[1]}",
            )
        status[day] = (off, path)

    def _build(self, end_year: int) -> _State:
        base = self._base
        end_ord = date(end_year, 12, 31).toordinal()
        size = end_ord - base + 1
        work = bytearray(1 if date.fromordinal(base + i).weekday() < 5 else 0 for i in range(size))
        special: dict[int, CrossedDay] = {}
        provisional: set[int] = set()
        for year in range(self.first_year, end_year + 1):
            data = self._year(year)
            if data.provisional:
                provisional.add(year)
            layers = [data]
            if year in self._region_years:
                layers.append(self._region_years[year])
            for layer in layers:
                self._apply(layer.holidays, layer.make_up_days, work, special, base, size)
        prefix = array("i", [0]) * (size + 1)
        wlist = array("i")
        count = 0
        for i, flag in enumerate(work):
            if flag:
                wlist.append(base + i)
                count += 1
            prefix[i + 1] = count
        return _State(
            end_year, work, prefix, wlist, size, len(wlist), special, sorted(special), frozenset(provisional)
        )

    @staticmethod
    def _apply(
        holidays: tuple[Holiday, ...],
        make_up_days: tuple[MakeUpDay, ...],
        work: bytearray,
        special: dict[int, CrossedDay],
        base: int,
        size: int,
    ) -> None:
        for holiday in holidays:
            for day in holiday.dates:
                i = day.toordinal() - base
                if 0 <= i < size:  # bridge days before the first data year are outside the calendar
                    work[i] = 0
                    special[base + i] = CrossedDay(
                        day, HOLIDAY, holiday.name, holiday.notice, holiday.provisional
                    )
        for make_up in make_up_days:
            i = make_up.date.toordinal() - base
            if 0 <= i < size:
                work[i] = 1
                special[base + i] = CrossedDay(make_up.date, MAKE_UP_DAY, make_up.for_holiday, make_up.notice)

    def _extend_to(self, year: int) -> _State:
        """Make the arrays cover ``year``; raise CalendarDataMissing where the data cannot."""
        if year < self.first_year:
            raise CalendarDataMissing(
                f"the calendar data starts in {self.first_year}; {year} is not covered", year=year
            )
        with self._lock:
            state = self._state
            if year > state.end_year:
                for missing in range(state.end_year + 1, year + 1):
                    self._year(missing)  # raises for strict calendars and past the computable range
                state = self._state = self._build(year)
            return state

    def _index(self, day: date) -> tuple[_State, int]:
        state = self._state
        i = day.toordinal() - self._base
        if i < 0 or i >= state.size:
            state = self._extend_to(day.year)
        return state, i

    # -- days -----------------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day: Monday–Friday not off, or a weekend day worked (调休).

        Raises:
            CalendarDataMissing: ``day`` is before the data starts, or in a year without data on a strict
                calendar (``year`` says which).
        """
        state = self._state
        i = day.toordinal() - self._base
        if i < 0 or i >= state.size:
            state = self._extend_to(day.year)
        return state.work[i] == 1

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself not counted, 民法典 art. 201).

        ``n < 0`` counts back: the ``|n|``-th working day before ``day``. ``n == 0`` returns ``day``. For
        ``n != 0`` the result is always a working day.

        Raises:
            CalendarDataMissing: the count leaves the data (before it starts, or into a year a strict calendar
                has no notice for).
        """
        state = self._state
        i = day.toordinal() - self._base
        if n > 0 and 0 <= i < state.size:
            # The hot path: one prefix lookup and one list lookup.
            k = state.prefix[i + 1] + n - 1
            if k < state.nwork:
                return _fromordinal(state.wlist[k])
        if i < 0 or i >= state.size:
            state = self._extend_to(day.year)
        if n > 0:
            k = state.prefix[i + 1] + n - 1
            while k >= state.nwork:
                # About 245 working days a year: extend far enough in one rebuild.
                state = self._extend_to(state.end_year + 1 + (k - state.nwork) // 250)
            return _fromordinal(state.wlist[k])
        if n < 0:
            k = state.prefix[i] + n
            if k < 0:
                raise CalendarDataMissing(
                    f"counting {n} working days back from {day} leaves the data,"
                    f" which starts in {self.first_year}",
                    year=self.first_year - 1,
                )
            return _fromordinal(state.wlist[k])
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days in (start, end].

        If ``end < start`` the result is negative: minus the working days in (end, start].
        """
        state = self._state
        base = self._base
        s = start.toordinal() - base
        e = end.toordinal() - base
        size = state.size
        if s < 0 or e < 0 or s >= size or e >= size:
            self._extend_to(start.year)
            state = self._extend_to(end.year)
        return state.prefix[e + 1] - state.prefix[s + 1]

    def next_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the first working day after it."""
        state, i = self._index(day)
        if state.work[i]:
            return day
        k = state.prefix[i]
        while k >= state.nwork:
            state = self._extend_to(state.end_year + 1)
        return _fromordinal(state.wlist[k])

    def crossed(self, start: date, end: date) -> tuple[CrossedDay, ...]:
        """Every holiday and make-up day in (start, end], in date order."""
        state, _ = self._index(end)
        ords = state.special_ords
        lo = bisect_right(ords, start.toordinal())
        hi = bisect_right(ords, end.toordinal())
        return tuple(state.special[o] for o in ords[lo:hi])

    def holidays(self, year: int) -> list[tuple[date, str]]:
        """Days off set by notices (or the statutory rules) in ``year``: ``(date, name)`` in date order."""
        state = self._extend_to(year)
        lo = bisect_left(state.special_ords, date(year, 1, 1).toordinal())
        hi = bisect_right(state.special_ords, date(year, 12, 31).toordinal())
        days = (state.special[o] for o in state.special_ords[lo:hi])
        return [(d.date, d.name) for d in days if d.kind == HOLIDAY]

    def make_up_days(self, year: int) -> list[tuple[date, str]]:
        """Weekend days worked (调休) in ``year``: ``(date, holiday they bridge)`` in date order."""
        state = self._extend_to(year)
        lo = bisect_left(state.special_ords, date(year, 1, 1).toordinal())
        hi = bisect_right(state.special_ords, date(year, 12, 31).toordinal())
        days = (state.special[o] for o in state.special_ords[lo:hi])
        return [(d.date, d.name) for d in days if d.kind == MAKE_UP_DAY]

    def notices(self, year: int) -> tuple[Notice, ...]:
        """The notices ``year``'s national data (and regional overlay, if any) cite."""
        data = self._year(year)
        regional = self._region_years.get(year)
        return data.notices + (regional.notices if regional else ())

    def is_provisional(self, year: int) -> bool:
        """True if ``year`` has no notice in the data and is computed from the statutory rules."""
        return year >= self.first_year and year not in self._national

    @property
    def region(self) -> str | None:
        """The regional overlay's name, or ``None`` for the national calendar."""
        return None if self._region is None else self._region.region

    @property
    def strict(self) -> bool:
        """Whether a year without a notice raises CalendarDataMissing instead of being computed."""
        return self._strict

    @property
    def closing_time(self) -> time | None:
        """The office's closing time (业务时间 end), or ``None`` for periods ending at 24:00."""
        return self._closing_time

    # -- periods --------------------------------------------------------------------------------------------

    def due(self, start: datetime, limit: TimeLimit | str) -> Deadline:
        """When a period of ``limit`` starting at ``start`` ends (民法典 arts. 200–203).

        Working days: the ``n``-th working day after the start day. Calendar days: start day + ``n``; months:
        the corresponding day of the month ``n`` later, or that month's last day; both roll forward to the
        next working day when they end on a rest day. Hours and minutes: elapsed wall-clock time.
        The start day is excluded whatever the hour, so a start after closing time needs no special case.

        Raises:
            NaiveDatetime: ``start`` has no time zone.
            InvalidTimeLimit: ``limit`` is text that cannot be read.
            CalendarDataMissing: the period leaves the data (see :meth:`add_working_days`).
        """
        start = _aware(start, "start")
        if not isinstance(limit, TimeLimit):
            limit = TimeLimit.parse(limit)
        unit, n = limit.unit, limit.n
        start_day = start.date()
        rolled_from: date | None = None
        if unit is HOURS or unit is MINUTES:
            elapsed = timedelta(hours=n) if unit is HOURS else timedelta(minutes=n)
            # Added in UTC so elapsed time stays exact across any offset change (China had DST 1986–91).
            due_at = (start.astimezone(UTC) + elapsed).astimezone(CHINA_TZ)
            due_date = due_at.date()
            crossed: tuple[CrossedDay, ...] = ()
        else:
            if unit is WORKING_DAYS:
                due_date = self.add_working_days(start_day, n)
            else:
                if unit is CALENDAR_DAYS:
                    nominal = start_day + timedelta(days=n)
                else:
                    nominal = start_day + relativedelta(months=n)
                due_date = self.next_working_day(nominal)
                rolled_from = nominal if due_date != nominal else None
            due_at = self._end_of(due_date)
            crossed = self.crossed(start_day, due_date)
        # Hour limits do not depend on holidays (art. 201 ¶2): provisional only if the date they end on is.
        first = due_date.year if unit is HOURS or unit is MINUTES else min(start_day, due_date).year
        provisional_years = tuple(y for y in range(first, due_date.year + 1) if self.is_provisional(y))
        sources = self._sources(range(first, due_date.year + 1))
        return Deadline(
            start=start,
            limit=limit,
            due_date=due_date,
            due_at=due_at,
            provisional=bool(provisional_years),
            calendar_version=self.calendar_version,
            crossed=crossed,
            rolled_from=rolled_from,
            rules=_RULES[unit],
            provisional_years=provisional_years,
            sources=sources,
        )

    def _sources(self, years: range) -> tuple[Notice, ...]:
        found: dict[tuple[str, str | None], Notice] = {}
        for year in years:
            if year < self.first_year:
                continue
            data = self._national.get(year)
            notices = data.notices if data is not None else (STATUTORY_NOTICE,)
            regional = self._region_years.get(year)
            for notice in notices + (regional.notices if regional else ()):
                found.setdefault((notice.title, notice.url), notice)
        return tuple(found.values())

    def _end_of(self, day: date) -> datetime:
        if self._closing_time is not None:
            return datetime.combine(day, self._closing_time, tzinfo=CHINA_TZ)
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)

    def _last_day(self, due_at: datetime) -> date:
        local = due_at.astimezone(CHINA_TZ)
        if self._closing_time is None and local.time() == time(0):
            return local.date() - timedelta(days=1)  # 24:00 of the day before
        return local.date()

    def working_time_remaining(self, now: datetime, due_at: datetime, unit: TimeUnit | str) -> TimeLimit:
        """What is left of a period at ``now``, as a limit to re-apply on resume (暂停计时).

        Pause at ``now``; on resume at ``later``, ``cal.due(later, remaining)`` gives the new deadline.
        Working days: the working days in (now's day, last day]; the pause day counts as used. Calendar days
        and months: the calendar days from now's day to the last day (as ``CALENDAR_DAYS``; pass the nominal
        last day via :meth:`remaining` to avoid counting a roll twice). Hours and minutes: whole minutes
        left, rounded up (as ``MINUTES``). Nothing is left once ``now >= due_at``.

        Raises:
            NaiveDatetime: ``now`` or ``due_at`` has no time zone.
            InvalidTimeLimit: ``unit`` is not a unit.
        """
        now = _aware(now, "now")
        due_at = _aware(due_at, "due_at")
        unit = TimeLimit(0, unit).unit  # type: ignore[arg-type]  # coerces a str, raising InvalidTimeLimit
        if unit is HOURS or unit is MINUTES:
            seconds = max(0.0, (due_at - now).total_seconds())
            return TimeLimit(math.ceil(seconds / 60), MINUTES)
        if now >= due_at:
            return TimeLimit(0, unit if unit is WORKING_DAYS else CALENDAR_DAYS)
        last_day = self._last_day(due_at)
        if unit is WORKING_DAYS:
            return TimeLimit(max(0, self.working_days_between(now.date(), last_day)), WORKING_DAYS)
        return TimeLimit(max(0, (last_day - now.date()).days), CALENDAR_DAYS)

    def remaining(self, now: datetime, deadline: Deadline) -> TimeLimit:
        """Like :meth:`working_time_remaining`, for a :class:`Deadline` (nominal last day if it rolled)."""
        return self.remaining_until(
            now, deadline.due_at, deadline.limit.unit, rolled_from=deadline.rolled_from
        )

    def remaining_until(
        self, now: datetime, due_at: datetime, unit: TimeUnit | str, *, rolled_from: date | None = None
    ) -> TimeLimit:
        """What is left at ``now`` of a period counted in ``unit`` that ends at ``due_at`` (暂停计时).

        The one implementation of a pause: the engine keeps it on each suspended timer and, on resumption at
        ``later``, sets the timer to ``cal.due(later, remaining)``. ``rolled_from`` is the nominal last day of
        a calendar-day or month period whose last day fell on a rest day and rolled to the next working day
        (民法典 第二百零三条): the roll extends the period only because its end fell on a rest day, it is not
        time granted, so what remains is counted up to the nominal last day, and the resumed period rolls
        again only if its own end falls on a rest day. Without a roll, see :meth:`working_time_remaining`.

        Example (tests/calendar/test_calendar_pause.py): ``5日`` from 2025-09-15 10:00 nominally ends on
        Saturday 09-20 and rolls to Monday 09-22; paused on 09-16, 4 days remain (09-17 … 09-20); resumed on
        09-25, it ends on 09-29, a working day; resumed on Saturday 09-27 it would end on 10-01, National Day,
        and rolls to the first working day after the holiday, 10-09.

        Raises:
            NaiveDatetime: ``now`` or ``due_at`` has no time zone.
            InvalidTimeLimit: ``unit`` is not a unit.
        """
        unit = TimeLimit(0, unit).unit  # type: ignore[arg-type]  # coerces a str, raising InvalidTimeLimit
        if (
            rolled_from is not None
            and unit in (CALENDAR_DAYS, MONTHS)
            and _aware(now, "now") < _aware(due_at, "due_at")
        ):
            days = (rolled_from - now.astimezone(CHINA_TZ).date()).days
            return TimeLimit(max(0, days), CALENDAR_DAYS)
        return self.working_time_remaining(now, due_at, unit)

    def extend(self, deadline: Deadline, extra: TimeLimit | str) -> Deadline:
        """An extension (延期): ``extra`` counted from the old period's last day (which is not counted again).

        The result keeps the original ``start``; its ``crossed`` lists the days of the extension.
        """
        result = self.extend_from(deadline.due_at, extra)
        return Deadline(
            start=deadline.start,
            limit=result.limit,
            due_date=result.due_date,
            due_at=result.due_at,
            provisional=result.provisional or deadline.provisional,
            calendar_version=result.calendar_version,
            crossed=result.crossed,
            rolled_from=result.rolled_from,
            rules=result.rules,
            provisional_years=tuple(sorted(set(result.provisional_years) | set(deadline.provisional_years))),
            sources=tuple(dict.fromkeys(deadline.sources + result.sources)),
        )

    def extend_from(self, due_at: datetime, extra: TimeLimit | str) -> Deadline:
        """The period ``extra`` added to a period that ends at ``due_at`` (延期; the one implementation the
        engine's ``extend`` and :meth:`extend` use).

        Day, working-day and month units count on from the old period's last day (not counted again, as a
        period's start day is not, 民法典 第二百零一条); hours and minutes are added to ``due_at``. The
        result's ``start`` is the instant the extension counts from.

        Raises:
            NaiveDatetime: ``due_at`` has no time zone.
            InvalidTimeLimit: ``extra`` is text that cannot be read.
        """
        if not isinstance(extra, TimeLimit):
            extra = TimeLimit.parse(extra)
        due_at = _aware(due_at, "due_at")
        if extra.unit is HOURS or extra.unit is MINUTES:
            anchor = due_at
        else:
            anchor = datetime.combine(self._last_day(due_at), time(12), tzinfo=CHINA_TZ)
        return self.due(anchor, extra)

    def counted_back(self, due_at: datetime, amount: TimeLimit | str) -> datetime:
        """The instant from which exactly ``amount`` is left until ``due_at`` (a warning "1个工作日 before the
        limit runs out", 预警).

        Working days: the end of the working day ``n`` working days before the period's last day, from when
        the period's last ``n`` working days — the last day included — remain (a 3-working-day period from Fri
        2025-09-26 ends with Tue 09-30; one working day before it is the end of Mon 09-29, 24:00). Calendar
        days and months: the end of the day ``n`` days (months) before the last day. Hours and minutes:
        elapsed time before ``due_at``. Never after ``due_at``.

        Raises:
            NaiveDatetime: ``due_at`` has no time zone.
            InvalidTimeLimit: ``amount`` is text that cannot be read.
            CalendarDataMissing: counting back leaves the data.
        """
        due_at = _aware(due_at, "due_at")
        if not isinstance(amount, TimeLimit):
            amount = TimeLimit.parse(amount)
        unit, n = amount.unit, amount.n
        if unit is HOURS or unit is MINUTES:
            elapsed = timedelta(hours=n) if unit is HOURS else timedelta(minutes=n)
            return (due_at.astimezone(UTC) - elapsed).astimezone(CHINA_TZ)
        last = self._last_day(due_at)
        if unit is WORKING_DAYS:
            day = self.add_working_days(last, -n)
        elif unit is CALENDAR_DAYS:
            day = last - timedelta(days=n)
        else:
            day = last - relativedelta(months=n)
        return min(self._end_of(day), due_at.astimezone(CHINA_TZ))

    # -- interoperability -----------------------------------------------------------------------------------

    def as_workalendar(self) -> WorkalendarCalendar:
        """This calendar behind workalendar's ``Calendar`` interface (is_working_day, add_working_days,
        get_working_days_delta, holidays(year)), for code that expects a workalendar calendar."""
        from efficacy_flow.calendar._workalendar import WorkalendarAdapter

        return WorkalendarAdapter(self)

    def describe(self) -> dict[str, Any]:
        """What the calendar holds: version, data years, provisional years built so far, region."""
        return {
            "calendar_version": self.calendar_version,
            "first_year": self.first_year,
            "last_data_year": self.last_data_year,
            "provisional_years": sorted(self._state.provisional_years),
            "region": self.region,
            "strict": self._strict,
            "closing_time": None if self._closing_time is None else self._closing_time.isoformat(),
        }

    def __repr__(self) -> str:
        return f"<WorkingDayCalendar {self.calendar_version} strict={self._strict}>"
