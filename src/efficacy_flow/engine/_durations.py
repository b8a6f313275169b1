"""ISO 8601 durations in timers (``<bpmn:timeDuration>P5D</bpmn:timeDuration>``, the ``R3/P1D`` of a
``timeCycle``), counted on a named calendar.

What Camunda Modeler writes when a designer picks *Duration* or *Cycle*: the duration alone means elapsed
time, as in Camunda (``P5D`` = 120 hours). An attribute names the calendar that counts it instead, as
Flowable's ``flowable:businessCalendarName`` does (docs/processes.md §17, "Files a modeler writes"):

- ``ef:calendar="working_days"`` (工作日): ``P5D`` is 5 working days (holidays and 调休 counted by the
  engine's calendar), ``PT4H`` 4 hours, ``P1M`` a month;
- ``ef:calendar="calendar_days"`` (自然日): ``P5D`` is 5 days counted as 民法典 第二百零一条–第二百零三条
  count them (from the next day, ending on a working day), ``P2W`` 14 such days, ``P1M``/``P1Y`` months.

On a calendar a duration has one part (``P1DT2H`` is refused, naming the element: which part would the
calendar count?); seconds and, on working days, weeks are refused as well (``P1W`` is not a number of
working days: write ``P5D``).
"""

from __future__ import annotations

import calendar as _months
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from efficacy_flow.calendar import CALENDAR_DAYS, HOURS, MINUTES, MONTHS, WORKING_DAYS, TimeLimit
from efficacy_flow.engine.runtime import CALENDAR_ATTRIBUTES

__all__ = [
    "CALENDARS",
    "CALENDAR_ATTRIBUTES",
    "Cycle",
    "DurationRefused",
    "add_elapsed",
    "duration_limit",
    "elapsed_limit",
    "parse_cycle",
    "parse_duration",
]

#: The calendars a timer may name, and what each is.
CALENDARS = {
    "working_days": "工作日: days are working days of the engine's calendar",
    "calendar_days": "自然日: days counted as 民法典 第二百零一条–第二百零三条 count them",
}

_DURATION = re.compile(
    r"P(?:(?P<Y>\d+)Y)?(?:(?P<MO>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?:(?P<H>\d+)H)?(?:(?P<MI>\d+)M)?(?:(?P<S>\d+)S)?)?"
)
_PARTS = ("Y", "MO", "W", "D", "H", "MI", "S")


class DurationRefused(ValueError):
    """A duration a calendar cannot count (the message says why and what to write instead)."""


def parse_duration(text: str) -> dict[str, int] | None:
    """The parts of an ISO 8601 duration (``P5D`` → ``{"D": 5}``), or None when ``text`` is not one.

    Parts: Y years, MO months, W weeks, D days, H hours, MI minutes, S seconds (integers only: ``P1.5D`` is
    not read).
    """
    text = text.strip().upper()
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        return None
    return {part: int(value) for part, value in match.groupdict().items() if value is not None}


def duration_limit(parts: dict[str, int], calendar: str) -> TimeLimit:
    """The period a duration is on a named calendar (``working_days`` or ``calendar_days``).

    Raises:
        DurationRefused: more than one part, seconds, weeks on working days, a zero duration.
    """
    given = {part: n for part, n in parts.items() if n}
    if len(given) != 1:
        raise DurationRefused(
            "a duration on a calendar has exactly one part (P5D, PT4H, P1M), not "
            + ("none" if not given else " and ".join(sorted(given)))
        )
    ((part, n),) = given.items()
    days = WORKING_DAYS if calendar == "working_days" else CALENDAR_DAYS
    if part == "D":
        return TimeLimit(n, days)
    if part == "W":
        if calendar == "working_days":
            raise DurationRefused("weeks are not a number of working days: write the days (P5D)")
        return TimeLimit(7 * n, CALENDAR_DAYS)
    if part == "MO":
        return TimeLimit(n, MONTHS)
    if part == "Y":
        return TimeLimit(12 * n, MONTHS)
    if part == "H":
        return TimeLimit(n, HOURS)
    if part == "MI":
        return TimeLimit(n, MINUTES)
    raise DurationRefused("a calendar counts no seconds: write minutes (PT1M) or more")


def elapsed_limit(parts: dict[str, int]) -> TimeLimit | None:
    """A duration without years or months as elapsed hours or minutes (``P1DT2H`` → 26 hours), the period
    suspension and extension then count with; None when it has years or months (no fixed length) or
    seconds that are not whole minutes."""
    if parts.get("Y") or parts.get("MO"):
        return None
    seconds = (
        ((parts.get("W", 0) * 7 + parts.get("D", 0)) * 24 + parts.get("H", 0)) * 3600
        + parts.get("MI", 0) * 60
        + parts.get("S", 0)
    )
    if seconds % 60:
        return None
    minutes = seconds // 60
    return TimeLimit(minutes // 60, HOURS) if minutes % 60 == 0 else TimeLimit(minutes, MINUTES)


def add_elapsed(start: datetime, parts: dict[str, int]) -> datetime:
    """``start`` plus a duration as elapsed time (Camunda's meaning): years and months on the calendar (the
    same day of the month, or the month's last day), the rest in exact time (added in UTC)."""
    months = parts.get("Y", 0) * 12 + parts.get("MO", 0)
    if months:
        index = start.month - 1 + months
        year, month = start.year + index // 12, index % 12 + 1
        start = start.replace(year=year, month=month, day=min(start.day, _months.monthrange(year, month)[1]))
    rest = timedelta(
        weeks=parts.get("W", 0),
        days=parts.get("D", 0),
        hours=parts.get("H", 0),
        minutes=parts.get("MI", 0),
        seconds=parts.get("S", 0),
    )
    return (start.astimezone(UTC) + rest).astimezone(start.tzinfo)


@dataclass(frozen=True, slots=True)
class Cycle:
    """A ``timeCycle`` ``R<n>/<duration>``: fire ``repeats`` times (None: until the task it sits on ends),
    each ``every`` after the last."""

    repeats: int | None
    every: dict[str, int]


def parse_cycle(text: str) -> Cycle | None:
    """``R3/P1D`` → Cycle(3, {"D": 1}); ``R/PT4H`` → unbounded; None when ``text`` is not such a cycle.

    A start or end instant in the cycle (``R3/2025-10-01T09:00/P1D``) is not read: the cycle starts when
    the timer does.
    """
    pieces = text.strip().upper().split("/")
    if len(pieces) != 2 or not pieces[0].startswith("R"):
        return None
    count = pieces[0][1:]
    if count and not count.isdigit():
        return None
    every = parse_duration(pieces[1])
    if every is None:
        return None
    return Cycle(int(count) if count else None, every)
