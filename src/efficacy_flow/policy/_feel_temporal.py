"""FEEL's temporal types (DMN 1.5 10.3.2.3 and 10.3.4.1, 10.3.2.7): time, the two durations, and the
semantics of date, time, date and time and durations — equality, ordering, arithmetic, properties, string
forms, ``@"…"`` literals and the temporal built-in functions.

How the values are held (the contract of ``_feel_values``):

* date: ``datetime.date``; date and time: ``datetime.datetime``, naive (a local date and time), with a fixed
  ``datetime.timezone`` offset, or with a ``zoneinfo.ZoneInfo`` (``@"2018-12-10T10:30:00@Europe/Paris"``);
* time: :class:`FeelTime` (``second`` a ``Decimal``, so any number of fraction digits survives);
* days and time duration: :class:`DayTimeDuration` (signed ``Decimal`` seconds, any fraction);
* years and months duration: :class:`YearMonthDuration` (signed whole months).

What Python's ``datetime`` cannot hold — years outside 1..9999 (FEEL allows -999,999,999..999,999,999) and
fractions of a second finer than a microsecond in a date or a date and time — is refused with
:class:`UnsupportedTemporalValue`, a typed refusal (a ``DecisionError``, not a ``FeelError``): the
value exists in FEEL, so null would be a wrong answer. What FEEL itself leaves undefined
(``date("2017-13-10")``, a year of ten digits, adding two dates, a local minus a zoned date and time)
raises :class:`FeelError`, which the compiler turns into null.

Equality and ordering (DMN 1.5 10.3.2.3.x, table 54) follow the TCK: dates by day; dates and times both
local by their wall clock, both zoned by their instant, a local and a zoned one are not comparable (None);
times both local by their wall clock, both with fixed offsets by ``wall clock - offset``, both in one named
zone by their wall clock, other mixes not comparable; durations of one kind by their length. Times and
dates and times compare at millisecond precision, as the TCK expects (0068-feel-equality ``time_005``:
``time("10:30:00.0001") = time("10:30:00.0002")`` is true); durations compare exactly.

``now()`` and ``today()`` read :data:`CLOCK`, a ``ContextVar`` holding a callable that returns an aware
``datetime``; by default the system clock (``efficacy_flow.clock.SystemClock``) in UTC. ``today()`` is the
date of that instant in the clock's own zone (so a clock in Asia/Shanghai gives the Chinese calendar day).
Tests and embedders set it (``CLOCK.set(lambda: fixed)``) to fix "now".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from efficacy_flow.clock import SystemClock
from efficacy_flow.errors import DecisionError
from efficacy_flow.policy._feel_values import CONTEXT, FeelError, FeelFunction

__all__ = [
    "BUILTINS",
    "CLOCK",
    "DayTimeDuration",
    "FeelTime",
    "UnsupportedTemporalValue",
    "YearMonthDuration",
    "add",
    "at_literal_evaluator",
    "compare",
    "divide",
    "equal",
    "identical",
    "kind",
    "multiply",
    "negate",
    "parse_at_literal",
    "property_of",
    "subtract",
    "to_string",
]


@dataclass(frozen=True, slots=True)
class FeelTime:
    """A FEEL time: hour, minute, second (with fraction), and an optional zone (a fixed offset or a named
    ``ZoneInfo``)."""

    hour: int
    minute: int
    second: Decimal
    zone: tzinfo | None = None


@dataclass(frozen=True, slots=True)
class DayTimeDuration:
    """``days and time duration``: a signed number of seconds (fraction allowed)."""

    seconds: Decimal


@dataclass(frozen=True, slots=True)
class YearMonthDuration:
    """``years and months duration``: a signed number of months."""

    months: int


class UnsupportedTemporalValue(DecisionError):
    """A temporal value FEEL defines but this engine cannot hold (a year outside 1..9999, a date and time
    with a fraction of a second finer than a microsecond): a typed refusal, never a null or a rounded
    value. A ``DecisionError`` (a ``RuntimeError``), so no ``except ValueError`` or ``except FeelError`` on
    the way turns it into null."""


def _refuse(what: str) -> UnsupportedTemporalValue:
    return UnsupportedTemporalValue(f"{what}: outside what this engine holds (years 1..9999, microseconds)")


# --- constants and precompiled patterns ---------------------------------------------------------------------

_UTC: Final = UTC
_DAY: Final = 86400
_NO_TIME: Final = timedelta(0)
_MILLI: Final = Decimal("0.001")
_MICRO: Final = Decimal("0.000001")
#: FEEL's year range (DMN 1.5 10.3.2.3.1 via XML Schema and Java): nine digits either side of zero.
_MAX_FEEL_YEAR: Final = 999_999_999
#: The largest offset a time zone may have (as java.time, which the TCK's expected values follow).
_MAX_OFFSET: Final = 18 * 3600

_YEAR: Final = r"(-?(?:[1-9]\d{4,8}|\d{4}))"
_TIME: Final = (
    r"(\d\d):(\d\d):(\d\d(?:\.\d+)?)"
    r"(?:(Z)|([+-])(\d\d):(\d\d)|@([A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*))?"
)
_DATE_RE: Final = re.compile(rf"{_YEAR}-(\d\d)-(\d\d)")
_TIME_RE: Final = re.compile(_TIME)
_DATE_TIME_RE: Final = re.compile(rf"{_YEAR}-(\d\d)-(\d\d)T{_TIME}")
_DURATION_RE: Final = re.compile(
    r"(-)?P(?!$)(?:(\d{1,15})Y)?(?:(\d{1,15})M)?(?:(\d{1,15})D)?"
    r"(?:T(?!$)(?:(\d{1,15})H)?(?:(\d{1,15})M)?(?:(\d{1,15}(?:\.\d*)?)S)?)?"
)

_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# --- kinds --------------------------------------------------------------------------------------------------


def kind(value: Any) -> str | None:
    """The FEEL type name of a FeelTime or duration, else None."""
    if isinstance(value, FeelTime):
        return "time"
    if isinstance(value, DayTimeDuration):
        return "days and time duration"
    if isinstance(value, YearMonthDuration):
        return "years and months duration"
    return None


def _is_date(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal)


def _is_duration(value: Any) -> bool:
    return isinstance(value, DayTimeDuration | YearMonthDuration)


# --- equality and ordering (DMN 1.5 10.3.2.3, table 54) -----------------------------------------------------


def equal(a: Any, b: Any) -> bool | None:
    """FEEL ``=`` of two temporal values of one kind (date, date and time, time, a duration); None when the
    two cannot be compared (a zoned and a local date and time, say)."""
    order = compare(a, b)
    return None if order is None else order == 0


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1 for two temporal values of one kind, None when they are not ordered."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        gap = _gap(_to_milli(a), _to_milli(b))
        if gap is None:
            return None
        return -1 if gap < _NO_TIME else (1 if gap > _NO_TIME else 0)
    if _is_date(a) and _is_date(b):
        return _sign(a.toordinal() - b.toordinal())
    if isinstance(a, FeelTime) and isinstance(b, FeelTime):
        times = _time_values(a, b)
        if times is None:
            return None
        return _sign(_floor_milli(times[0]) - _floor_milli(times[1]))
    if isinstance(a, DayTimeDuration) and isinstance(b, DayTimeDuration):
        return _sign(a.seconds - b.seconds)
    if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
        return _sign(a.months - b.months)
    return None


def identical(a: Any, b: Any) -> bool:
    """Whether two temporal values are the same value, zone included, as FEEL's ``is(value1, value2)``
    (DMN 1.5 10.3.4.x) sees them: ``@"23:00:50Z"`` is ``@"23:00:50+00:00"``, but not ``@"23:00:50@Etc/GMT"``;
    ``@"…T12:00:00-01:00"`` is not ``@"…T17:00:00+04:00"`` (the same instant); ``@"P1D"`` is ``@"PT24H"``;
    values of two kinds are never identical. Exact to the last digit (no millisecond rounding)."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None) and _same_zone(a.tzinfo, b.tzinfo, a, b)
    if _is_date(a) and _is_date(b):
        return bool(a == b)
    if isinstance(a, FeelTime) and isinstance(b, FeelTime):
        return (a.hour, a.minute, a.second) == (b.hour, b.minute, b.second) and _same_zone(a.zone, b.zone)
    if isinstance(a, DayTimeDuration) and isinstance(b, DayTimeDuration):
        return a.seconds == b.seconds
    if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
        return a.months == b.months
    return False


def _same_zone(
    za: tzinfo | None, zb: tzinfo | None, at_a: datetime | None = None, at_b: datetime | None = None
) -> bool:
    """Both local, both the same named zone, or both the same fixed offset."""
    if za is None or zb is None:
        return za is None and zb is None
    if isinstance(za, ZoneInfo) or isinstance(zb, ZoneInfo):
        return isinstance(za, ZoneInfo) and isinstance(zb, ZoneInfo) and za.key == zb.key
    return za.utcoffset(at_a) == zb.utcoffset(at_b)


def _sign(difference: int | Decimal) -> int:
    return -1 if difference < 0 else (1 if difference > 0 else 0)


def _gap(a: datetime, b: datetime) -> timedelta | None:
    """``a - b`` of two dates and times: by the wall clock when both are local, on the time line when both
    are zoned (whatever their zones); None for a local and a zoned one. Never overflows near year 1 or
    9999, as a conversion to UTC could."""
    offset_a, offset_b = a.utcoffset(), b.utcoffset()
    if (offset_a is None) != (offset_b is None):
        return None
    gap = a.replace(tzinfo=None) - b.replace(tzinfo=None)
    if offset_a is not None and offset_b is not None:
        gap -= offset_a - offset_b
    return gap


def _floor_milli(seconds: Decimal) -> Decimal:
    return seconds.quantize(_MILLI, rounding=ROUND_FLOOR)


def _to_milli(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _wall_seconds(value: FeelTime) -> Decimal:
    return Decimal(value.hour * 3600 + value.minute * 60) + value.second


def _time_values(a: FeelTime, b: FeelTime) -> tuple[Decimal, Decimal] | None:
    """Two times as comparable seconds: local pairs and pairs in one named zone by the wall clock, fixed
    offsets by ``wall clock - offset``; None when the two are not comparable."""
    za, zb = a.zone, b.zone
    if za is None and zb is None:
        return _wall_seconds(a), _wall_seconds(b)
    if isinstance(za, timezone) and isinstance(zb, timezone):
        return _wall_seconds(a) - _offset_seconds(za), _wall_seconds(b) - _offset_seconds(zb)
    if isinstance(za, ZoneInfo) and isinstance(zb, ZoneInfo) and za.key == zb.key:
        return _wall_seconds(a), _wall_seconds(b)
    return None


def _offset_seconds(zone: timezone) -> Decimal:
    offset = zone.utcoffset(None)
    return Decimal(offset.days * _DAY + offset.seconds)


# --- conversions between Decimal seconds and Python's types -------------------------------------------------


def _timedelta(seconds: Decimal) -> timedelta:
    """Decimal seconds as a timedelta; refused when finer than a microsecond or beyond timedelta's range."""
    micro = seconds.scaleb(6)
    if micro != micro.to_integral_value():
        raise _refuse(f"a duration of {_plain(seconds)} seconds")
    try:
        return timedelta(microseconds=int(micro))
    except OverflowError:
        raise _refuse(f"a duration of {_plain(seconds)} seconds") from None


def _delta_seconds(delta: timedelta) -> Decimal:
    return Decimal(delta.days * _DAY + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def _second_of(value: datetime | time) -> Decimal:
    second = Decimal(value.second)
    return second + Decimal(value.microsecond).scaleb(-6) if value.microsecond else second


def _microseconds(second: Decimal, what: str) -> tuple[int, int]:
    """Whole seconds and microseconds of ``second``; refused when it has digits beyond the microsecond."""
    whole = int(second)
    micro = (second - whole).scaleb(6)
    if micro != micro.to_integral_value():
        raise _refuse(what)
    return whole, int(micro)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _make_date(year: int, month: int, day: int, what: str) -> date:
    """A date; FeelError when no such day exists, a refusal when it is a FEEL date Python cannot hold."""
    if abs(year) > _MAX_FEEL_YEAR or not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        raise FeelError(f"{what} is not a date")
    if not 1 <= year <= 9999:
        raise _refuse(what)
    return date(year, month, day)


@lru_cache(maxsize=256)
def _fixed_zone(seconds: int) -> timezone:
    return _UTC if seconds == 0 else timezone(timedelta(seconds=seconds))


def _named_zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (KeyError, ValueError, OSError):
        raise FeelError(f"unknown time zone {key!r}") from None


def _zone_of(
    z: str | None, sign: str | None, hours: str | None, minutes: str | None, name: str | None
) -> tzinfo | None:
    """The zone of a parsed time: ``Z``, ``±hh:mm`` (at most 18 hours) or ``@IANA/Name``; None if none."""
    if z:
        return _UTC
    if sign and hours and minutes:
        if int(minutes) > 59:
            raise FeelError(f"offset {sign}{hours}:{minutes} has no such minute")
        seconds = int(hours) * 3600 + int(minutes) * 60
        if seconds > _MAX_OFFSET:
            raise FeelError(f"offset {sign}{hours}:{minutes} is beyond 18 hours")
        return _fixed_zone(-seconds if sign == "-" else seconds)
    if name:
        return _named_zone(name)
    return None


# --- parsing (XML Schema lexical forms, DMN 1.5 10.3.4.1) ---------------------------------------------------


def _parse_date(text: str) -> date:
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise FeelError(f"{text!r} is not a date (YYYY-MM-DD)")
    return _make_date(int(match[1]), int(match[2]), int(match[3]), f"date {text!r}")


def _clock_parts(hour: str, minute: str, second: str, text: str) -> tuple[int, int, Decimal, bool]:
    """Hour, minute, Decimal second of a parsed time, and whether it was ``24:00:00`` (the next midnight)."""
    h, m, s = int(hour), int(minute), Decimal(second)
    if h == 24 and m == 0 and s == 0:
        return 0, 0, Decimal(0), True
    if h > 23 or m > 59 or s >= 60:
        raise FeelError(f"{text!r} is not a time of day")
    return h, m, s, False


def _parse_time(text: str) -> FeelTime:
    match = _TIME_RE.fullmatch(text)
    if match is None:
        raise FeelError(f"{text!r} is not a time (hh:mm:ss)")
    hour, minute, second, _ = _clock_parts(match[1], match[2], match[3], text)
    return FeelTime(hour, minute, second, _zone_of(match[4], match[5], match[6], match[7], match[8]))


def _parse_date_time(text: str) -> datetime:
    match = _DATE_TIME_RE.fullmatch(text)
    if match is None:
        raise FeelError(f"{text!r} is not a date and time (YYYY-MM-DDThh:mm:ss)")
    hour, minute, second, next_day = _clock_parts(match[4], match[5], match[6], text)
    zone = _zone_of(match[7], match[8], match[9], match[10], match[11])
    # only a valid date and time can be refused as one the engine cannot hold
    day = _make_date(int(match[1]), int(match[2]), int(match[3]), f"date and time {text!r}")
    whole, micro = _microseconds(second, f"date and time {text!r}")
    value = datetime(day.year, day.month, day.day, hour, minute, whole, micro, tzinfo=zone)
    if next_day:
        try:
            value += timedelta(days=1)
        except OverflowError:
            raise _refuse(f"date and time {text!r}") from None
    return value


def _parse_duration(text: str) -> DayTimeDuration | YearMonthDuration:
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise FeelError(f"{text!r} is not a duration (PnYnM or PnDTnHnMnS)")
    negative, years, months, days, hours, minutes, seconds = match.groups()
    if (years or months) and (days or hours or minutes or seconds):
        raise FeelError(f"{text!r} mixes years and months with days and time: no FEEL duration is both")
    if years or months:
        total = int(years or 0) * 12 + int(months or 0)
        return YearMonthDuration(-total if negative else total)
    amount = Decimal(int(days or 0) * _DAY + int(hours or 0) * 3600 + int(minutes or 0) * 60)
    if seconds:
        amount += Decimal(seconds)
    return DayTimeDuration(-amount if negative and amount else amount)


def parse_at_literal(text: str) -> Any:
    """The value of ``@"text"`` (a date, time, date and time or duration); raises FeelError if it is none."""
    if text.startswith(("P", "-P")):
        return _parse_duration(text)
    if "T" in text:
        return _parse_date_time(text)
    if _DATE_RE.fullmatch(text):
        return _parse_date(text)
    if _TIME_RE.fullmatch(text):
        return _parse_time(text)
    raise FeelError(f'@"{text}" is not a date, time, date and time or duration')


def at_literal_evaluator(text: str) -> Callable[[], Any]:
    """``@"text"`` read once, for the compiler: a function returning its value. A literal that is no value
    (FeelError) or one the engine cannot hold (UnsupportedTemporalValue) raises when it is *evaluated*, not
    when the model loads, so one cell does not refuse every decision of its model (0100-arithmetic holds
    1,087 results in one model, 48 of them with years before year 1)."""
    try:
        value = parse_at_literal(text)
    except (FeelError, UnsupportedTemporalValue) as exc:
        problem = exc

        def fail() -> Any:
            raise problem

        return fail
    return lambda: value


# --- string forms (DMN 1.5 10.3.4.1 string(), XML Schema lexical forms) ----------------------------------


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _seconds_text(second: Decimal) -> str:
    whole = int(second)
    fraction = _plain(second - whole)
    return f"{whole:02d}" + (fraction[1:] if fraction != "0" else "")


def _zone_text(zone: tzinfo | None, at: datetime | None) -> str:
    if zone is None:
        return ""
    if isinstance(zone, ZoneInfo):
        return "@" + zone.key
    offset = zone.utcoffset(at)
    if offset is None:
        return ""
    seconds = offset.days * _DAY + offset.seconds
    if seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _day_time_text(seconds: Decimal) -> str:
    if seconds == 0:
        return "PT0S"
    magnitude = abs(seconds)
    whole = int(magnitude)
    fraction = magnitude - whole
    days, rest = divmod(whole, _DAY)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if secs or fraction:
        clock += _plain(secs + fraction) + "S"
    return ("-" if seconds < 0 else "") + "P" + (f"{days}D" if days else "") + ("T" + clock if clock else "")


def _year_month_text(months: int) -> str:
    if months == 0:
        return "P0M"
    years, rest = divmod(abs(months), 12)
    return ("-" if months < 0 else "") + "P" + (f"{years}Y" if years else "") + (f"{rest}M" if rest else "")


def to_string(value: Any) -> str:
    """FEEL ``string(value)`` of a temporal value (``2025-01-01``, ``P1DT2H``, ``10:30:00@Europe/Paris``)."""
    if isinstance(value, datetime):
        clock = f"{value.hour:02d}:{value.minute:02d}:{_seconds_text(_second_of(value))}"
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{clock}{_zone_text(value.tzinfo, value)}"
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, FeelTime):
        clock = f"{value.hour:02d}:{value.minute:02d}:{_seconds_text(value.second)}"
        return clock + _zone_text(value.zone, None)
    if isinstance(value, DayTimeDuration):
        return _day_time_text(value.seconds)
    if isinstance(value, YearMonthDuration):
        return _year_month_text(value.months)
    raise FeelError(f"{type(value).__name__} is not a temporal value")


# --- arithmetic (DMN 1.5 10.3.2.3.x, tables 57 and 58) -----------------------------------------------------


def _plus_months(value: date, months: int) -> Any:
    """``value`` moved by whole months, the day clamped to the month's end (2021-01-31 + P1M = 2021-02-28)."""
    total = value.year * 12 + value.month - 1 + months
    year, month0 = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise _refuse(f"{to_string(value)} moved by {months} months")
    return value.replace(year=year, month=month0 + 1, day=min(value.day, _days_in_month(year, month0 + 1)))


def _plus_seconds(value: datetime, seconds: Decimal) -> datetime:
    """A date and time moved by a length of time: on the time line (in UTC) for a named zone."""
    delta = _timedelta(seconds)
    try:
        if isinstance(value.tzinfo, ZoneInfo):
            return (value.astimezone(_UTC) + delta).astimezone(value.tzinfo)
        return value + delta
    except OverflowError:
        raise _refuse(f"{to_string(value)} moved by {_plain(seconds)} seconds") from None


def _date_plus_seconds(value: date, seconds: Decimal) -> date:
    """A date moved by a days and time duration: from its midnight, keeping the day reached."""
    midnight = datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a local midnight
    return _plus_seconds(midnight, seconds).date()


def _time_plus_seconds(value: FeelTime, seconds: Decimal) -> FeelTime:
    """A time moved by a days and time duration, wrapping around midnight (modulo 24 hours)."""
    total = _exact(lambda: CONTEXT.remainder(CONTEXT.add(_wall_seconds(value), seconds), Decimal(_DAY)))
    if total < 0:
        total += _DAY
    whole = int(total)
    hour, rest = divmod(whole, 3600)
    return FeelTime(hour, rest // 60, Decimal(rest % 60) + (total - whole), value.zone)


def _as_utc_midnight(value: date) -> datetime:
    """A date in a subtraction with a date and time: its midnight in UTC (as the TCK expects)."""
    return datetime(value.year, value.month, value.day, tzinfo=_UTC)


def _difference(a: datetime, b: datetime) -> DayTimeDuration:
    gap = _gap(a, b)
    if gap is None:
        raise FeelError("a local and a zoned date and time have no difference")
    return DayTimeDuration(_delta_seconds(gap))


def _shift(value: Any, duration: Any, sign: int) -> Any:
    """``value ± duration`` for a date, date and time or time; None when the pair has no meaning."""
    if isinstance(duration, YearMonthDuration):
        if isinstance(value, date):  # a date or a date and time
            return _plus_months(value, sign * duration.months)
        return None
    if not isinstance(duration, DayTimeDuration):
        return None
    seconds = duration.seconds if sign > 0 else -duration.seconds
    if isinstance(value, datetime):
        return _plus_seconds(value, seconds)
    if isinstance(value, date):
        return _date_plus_seconds(value, seconds)
    if isinstance(value, FeelTime):
        return _time_plus_seconds(value, seconds)
    return None


def _describe(value: Any) -> str:
    from efficacy_flow.policy._feel_values import kind as feel_kind

    return feel_kind(value)


def add(a: Any, b: Any) -> Any:
    """``a + b`` where at least one is temporal; raises FeelError when FEEL defines no value."""
    if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
        return _year_month(a.months + b.months)
    if isinstance(a, DayTimeDuration) and isinstance(b, DayTimeDuration):
        return _day_time(_exact(lambda: CONTEXT.add(a.seconds, b.seconds)))
    result = _shift(a, b, 1) if _is_duration(b) else (_shift(b, a, 1) if _is_duration(a) else None)
    if result is None:
        raise FeelError(f"{_describe(a)} + {_describe(b)} has no value")
    return result


def subtract(a: Any, b: Any) -> Any:
    """``a - b`` where at least one is temporal; raises FeelError when FEEL defines no value."""
    if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
        return _year_month(a.months - b.months)
    if isinstance(a, DayTimeDuration) and isinstance(b, DayTimeDuration):
        return _day_time(_exact(lambda: CONTEXT.subtract(a.seconds, b.seconds)))
    if isinstance(a, datetime) and isinstance(b, datetime):
        return _difference(a, b)
    if isinstance(a, datetime) and _is_date(b):
        return _difference(a, _as_utc_midnight(b))
    if _is_date(a) and isinstance(b, datetime):
        return _difference(_as_utc_midnight(a), b)
    if _is_date(a) and _is_date(b):
        return DayTimeDuration(Decimal((a.toordinal() - b.toordinal()) * _DAY))
    if isinstance(a, FeelTime) and isinstance(b, FeelTime):
        times = _time_values(a, b)
        if times is None:
            raise FeelError("a local and a zoned time have no difference")
        return DayTimeDuration(times[0] - times[1])
    result = _shift(a, b, -1) if _is_duration(b) else None
    if result is None:
        raise FeelError(f"{_describe(a)} - {_describe(b)} has no value")
    return result


def _exact(operation: Callable[[], Decimal]) -> Decimal:
    """A Decimal operation in FEEL's decimal128 context; its errors (overflow, 0/0) are FeelErrors."""
    try:
        return operation()
    except ArithmeticError as exc:
        raise FeelError(f"arithmetic error: {type(exc).__name__}") from None


#: The longest durations this engine holds (java.time's Duration and Period hold no more): longer results of
#: arithmetic are refused, not rounded.
_MAX_SECONDS: Final = Decimal(10) ** 18
_MAX_MONTHS: Final = 10**15


def _day_time(seconds: Decimal) -> DayTimeDuration:
    if abs(seconds) >= _MAX_SECONDS:
        raise _refuse(f"a duration of {seconds:e} seconds")
    return DayTimeDuration(seconds)


def _year_month(months: int) -> YearMonthDuration:
    if abs(months) >= _MAX_MONTHS:
        raise _refuse(f"a duration of {months:e} months")
    return YearMonthDuration(months)


def _months(amount: Decimal) -> int:
    """A number of months from a product or quotient: the fraction truncated toward zero (as the TCK)."""
    return int(amount)


def multiply(a: Any, b: Any) -> Any:
    """``a * b``: a duration times a number (either order)."""
    duration, factor = (a, b) if _is_duration(a) else (b, a)
    if _is_number(factor) and isinstance(duration, DayTimeDuration):
        return _day_time(_exact(lambda: CONTEXT.multiply(duration.seconds, factor)))
    if _is_number(factor) and isinstance(duration, YearMonthDuration):
        return _year_month(_months(_exact(lambda: CONTEXT.multiply(Decimal(duration.months), factor))))
    raise FeelError(f"{_describe(a)} * {_describe(b)} has no value")


def divide(a: Any, b: Any) -> Any:
    """``a / b``: a duration by a number, or a duration by a duration of the same kind (a number)."""
    if isinstance(a, DayTimeDuration):
        if _is_number(b) and b != 0:
            return _day_time(_exact(lambda: CONTEXT.divide(a.seconds, b)))
        if isinstance(b, DayTimeDuration) and b.seconds != 0:
            return _exact(lambda: CONTEXT.divide(a.seconds, b.seconds))
    if isinstance(a, YearMonthDuration):
        if _is_number(b) and b != 0:
            return _year_month(_months(_exact(lambda: CONTEXT.divide(Decimal(a.months), b))))
        if isinstance(b, YearMonthDuration) and b.months != 0:
            return _exact(lambda: CONTEXT.divide(Decimal(a.months), Decimal(b.months)))
    raise FeelError(f"{_describe(a)} / {_describe(b)} has no value")


def negate(a: Any) -> Any:
    """``-a`` of a duration."""
    if isinstance(a, DayTimeDuration):
        return DayTimeDuration(Decimal(0) - a.seconds)
    if isinstance(a, YearMonthDuration):
        return YearMonthDuration(-a.months)
    raise FeelError(f"-{_describe(a)} has no value")


# --- properties (DMN 1.5 10.3.2.3.6, table 60) --------------------------------------------------------------


def _offset_duration(zone: tzinfo | None, at: datetime | None) -> DayTimeDuration | None:
    if zone is None:
        return None
    offset = zone.utcoffset(at)
    return None if offset is None else DayTimeDuration(_delta_seconds(offset))


def _zone_id(zone: tzinfo | None) -> str | None:
    return zone.key if isinstance(zone, ZoneInfo) else None


def _properties(value: Any) -> dict[str, Any] | None:
    if isinstance(value, date):
        found: dict[str, Any] = {
            "year": Decimal(value.year),
            "month": Decimal(value.month),
            "day": Decimal(value.day),
            "weekday": Decimal(value.isoweekday()),
        }
        if isinstance(value, datetime):
            found.update(
                hour=Decimal(value.hour),
                minute=Decimal(value.minute),
                second=_second_of(value),
            )
            found["time offset"] = _offset_duration(value.tzinfo, value)
            found["timezone"] = _zone_id(value.tzinfo)
        return found
    if isinstance(value, FeelTime):
        return {
            "hour": Decimal(value.hour),
            "minute": Decimal(value.minute),
            "second": value.second,
            # a named zone's offset depends on the date, which a time lacks
            "time offset": None if isinstance(value.zone, ZoneInfo) else _offset_duration(value.zone, None),
            "timezone": _zone_id(value.zone),
        }
    if isinstance(value, DayTimeDuration):
        sign = -1 if value.seconds < 0 else 1
        magnitude = abs(value.seconds)
        whole = int(magnitude)
        return {
            "days": Decimal(sign * (whole // _DAY)),
            "hours": Decimal(sign * (whole % _DAY // 3600)),
            "minutes": Decimal(sign * (whole % 3600 // 60)),
            "seconds": sign * (Decimal(whole % 60) + (magnitude - whole)),
        }
    if isinstance(value, YearMonthDuration):
        sign = -1 if value.months < 0 else 1
        return {
            "years": Decimal(sign * (abs(value.months) // 12)),
            "months": Decimal(sign * (abs(value.months) % 12)),
        }
    return None


def property_of(value: Any, name: str) -> Any:
    """``value.name`` (year, month, day, weekday, hour, minute, second, time offset, timezone, days, hours,
    minutes, seconds, years, months, …); raises FeelError for a name the type does not have."""
    found = _properties(value)
    if found is None or name not in found:
        raise FeelError(f"{_describe(value)} has no property {name!r}")
    return found[name]


# --- built-in functions (DMN 1.5 10.3.4.1 conversion, 10.3.4.x temporal functions) --------------------------


def _system_now() -> datetime:
    return SystemClock().now().astimezone(_UTC)


#: Where ``now()`` and ``today()`` read the time: a callable returning an aware datetime (the system clock in
#: UTC by default). Set it in a context to fix "now" (tests, replays).
CLOCK: Final[ContextVar[Callable[[], datetime]]] = ContextVar("feel_clock", default=_system_now)


@dataclass(frozen=True, slots=True)
class _Signature:
    """One way to call a built-in: its parameter names, of which the first ``required`` must be given."""

    key: str
    names: tuple[str, ...]
    required: int


@dataclass(frozen=True, slots=True, eq=False)
class TemporalBuiltin(FeelFunction):
    """A temporal built-in: picks the signature the arguments fit (by count, or by the names given) and
    calls ``body(signature key, arguments by name)``; arguments that fit no signature are a FeelError."""

    name: str
    parameters: tuple[str, ...]
    signatures: tuple[_Signature, ...]
    body: Callable[[str, Mapping[str, Any]], Any]

    def invoke(self, positional: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        if positional is not None:
            for signature in self.signatures:
                if signature.required <= len(positional) <= len(signature.names):
                    bound = dict(zip(signature.names, positional, strict=False))
                    return self.body(signature.key, {n: bound.get(n) for n in signature.names})
            raise FeelError(f"{self.name} takes no {len(positional)} arguments")
        given = dict(named or {})
        for signature in self.signatures:
            if set(given) <= set(signature.names) and set(signature.names[: signature.required]) <= set(
                given
            ):
                return self.body(signature.key, {n: given.get(n) for n in signature.names})
        raise FeelError(f"{self.name} has no parameters {', '.join(sorted(given)) or '(none)'}")


def _builtin(
    name: str,
    signatures: Sequence[tuple[str, tuple[str, ...], int]],
    body: Callable[[str, Mapping[str, Any]], Any],
) -> TemporalBuiltin:
    made = tuple(_Signature(key, names, required) for key, names, required in signatures)
    return TemporalBuiltin(name, made[0].names, made, body)


def _integer(value: Any, what: str) -> int:
    if not _is_number(value) or not value.is_finite() or value != value.to_integral_value():
        raise FeelError(f"{what} must be a whole number, not {_describe(value)}")
    return int(value)


def _date_function(key: str, args: Mapping[str, Any]) -> date:
    """``date(from)`` of a string, a date and time or a date; ``date(year, month, day)``."""
    if key == "from":
        value = args["from"]
        if isinstance(value, str):
            return _parse_date(value)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        raise FeelError(f"date() takes a string, a date or a date and time, not {_describe(value)}")
    year, month, day = (_integer(args[n], n) for n in ("year", "month", "day"))
    return _make_date(year, month, day, f"date({year}, {month}, {day})")


def _time_function(key: str, args: Mapping[str, Any]) -> FeelTime:
    """``time(from)`` of a string, a time, a date and time (its time and zone) or a date (``00:00:00Z``);
    ``time(hour, minute, second[, offset])``."""
    if key == "from":
        value = args["from"]
        if isinstance(value, str):
            return _parse_time(value)
        if isinstance(value, FeelTime):
            return value
        if isinstance(value, datetime):
            return FeelTime(value.hour, value.minute, _second_of(value), value.tzinfo)
        if isinstance(value, date):
            return FeelTime(0, 0, Decimal(0), _UTC)
        raise FeelError(f"time() takes a string, a date or a date and time, not {_describe(value)}")
    hour, minute = _integer(args["hour"], "hour"), _integer(args["minute"], "minute")
    second = args["second"]
    if not _is_number(second) or not second.is_finite():
        raise FeelError(f"second must be a number, not {_describe(second)}")
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second < 60):
        raise FeelError(f"time({hour}, {minute}, {_plain(second)}) is not a time of day")
    offset = args.get("offset")
    zone: tzinfo | None = None
    if offset is not None:
        if not isinstance(offset, DayTimeDuration):
            raise FeelError(f"offset must be a days and time duration, not {_describe(offset)}")
        if offset.seconds != offset.seconds.to_integral_value() or abs(offset.seconds) > _MAX_OFFSET:
            raise FeelError(f"offset {to_string(offset)} is not a time zone offset")
        zone = _fixed_zone(int(offset.seconds))
    return FeelTime(hour, minute, second, zone)


def _date_and_time_function(key: str, args: Mapping[str, Any]) -> datetime:
    """``date and time(from)`` of a string (a date alone is its local midnight), a date or a date and time;
    ``date and time(date, time)`` with the date part of ``date`` and the time and zone of ``time``."""
    if key == "from":
        value = args["from"]
        if isinstance(value, str):
            if "T" not in value:
                day = _parse_date(value)
                return datetime(day.year, day.month, day.day)  # noqa: DTZ001 - FEEL's local midnight
            return _parse_date_time(value)
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - FEEL's local midnight
        raise FeelError(f"date and time() takes a string, not {_describe(value)}")
    day, clock = args["date"], args["time"]
    if not isinstance(day, date) or not isinstance(clock, FeelTime):
        raise FeelError(
            f"date and time() takes a date and a time, not {_describe(day)} and {_describe(clock)}"
        )
    whole, micro = _microseconds(clock.second, f"time {to_string(clock)}")
    return datetime(day.year, day.month, day.day, clock.hour, clock.minute, whole, micro, tzinfo=clock.zone)


def _duration_function(key: str, args: Mapping[str, Any]) -> DayTimeDuration | YearMonthDuration:
    """``duration(from)`` of a string: a days and time or a years and months duration by its form."""
    value = args["from"]
    if not isinstance(value, str):
        raise FeelError(f"duration() takes a string, not {_describe(value)}")
    return _parse_duration(value)


def _years_and_months_function(key: str, args: Mapping[str, Any]) -> YearMonthDuration:
    """``years and months duration(from, to)``: whole months between the two dates (of dates and times, their
    calendar dates), as java.time's ``Period.between`` counts them (the TCK's expected values)."""
    start, end = args["from"], args["to"]
    if not isinstance(start, date) or not isinstance(end, date):
        raise FeelError(
            f"years and months duration() takes dates, not {_describe(start)} and {_describe(end)}"
        )
    months = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    days = end.day - start.day
    if months > 0 and days < 0:
        months -= 1
    elif months < 0 and days > 0:
        months += 1
    return YearMonthDuration(months)


def _calendar_date(args: Mapping[str, Any], function: str) -> date:
    value = args["date"]
    if not isinstance(value, date):
        raise FeelError(f"{function}() takes a date or a date and time, not {_describe(value)}")
    return value


def _day_of_year(key: str, args: Mapping[str, Any]) -> Decimal:
    return Decimal(_calendar_date(args, "day of year").timetuple().tm_yday)


def _day_of_week(key: str, args: Mapping[str, Any]) -> str:
    return _WEEKDAYS[_calendar_date(args, "day of week").weekday()]


def _month_of_year(key: str, args: Mapping[str, Any]) -> str:
    return _MONTHS[_calendar_date(args, "month of year").month - 1]


def _week_of_year(key: str, args: Mapping[str, Any]) -> Decimal:
    return Decimal(_calendar_date(args, "week of year").isocalendar()[1])


def _now(key: str, args: Mapping[str, Any]) -> datetime:
    value = CLOCK.get()()
    if value.tzinfo is None:
        raise FeelError("the FEEL clock returned a naive datetime")
    return value


def _today(key: str, args: Mapping[str, Any]) -> date:
    return _now(key, args).date()


def _nulls_are_errors(
    body: Callable[[str, Mapping[str, Any]], Any], optional: frozenset[str] = frozenset()
) -> Callable[[str, Mapping[str, Any]], Any]:
    """A built-in body that gives null (FeelError) when a required argument is null (DMN 1.5 10.3.4)."""

    def checked(key: str, args: Mapping[str, Any]) -> Any:
        for name, value in args.items():
            if value is None and name not in optional:
                raise FeelError(f"argument {name!r} is null")
        return body(key, args)

    return checked


_DATE_ARG: Final = (("date", ("date",), 1),)

#: name → function: date, time, date and time, duration, years and months duration, day of year, day of week,
#: month of year, week of year, now, today, …
BUILTINS: Final[Mapping[str, FeelFunction]] = {
    "date": _builtin(
        "date",
        [("from", ("from",), 1), ("ymd", ("year", "month", "day"), 3)],
        _nulls_are_errors(_date_function),
    ),
    "time": _builtin(
        "time",
        [("from", ("from",), 1), ("hms", ("hour", "minute", "second", "offset"), 3)],
        _nulls_are_errors(_time_function, frozenset({"offset"})),
    ),
    "date and time": _builtin(
        "date and time",
        [("from", ("from",), 1), ("date time", ("date", "time"), 2)],
        _nulls_are_errors(_date_and_time_function),
    ),
    "duration": _builtin("duration", [("from", ("from",), 1)], _nulls_are_errors(_duration_function)),
    "years and months duration": _builtin(
        "years and months duration",
        [("from to", ("from", "to"), 2)],
        _nulls_are_errors(_years_and_months_function),
    ),
    "day of year": _builtin("day of year", _DATE_ARG, _nulls_are_errors(_day_of_year)),
    "day of week": _builtin("day of week", _DATE_ARG, _nulls_are_errors(_day_of_week)),
    "month of year": _builtin("month of year", _DATE_ARG, _nulls_are_errors(_month_of_year)),
    "week of year": _builtin("week of year", _DATE_ARG, _nulls_are_errors(_week_of_year)),
    "now": _builtin("now", [("", (), 0)], _now),
    "today": _builtin("today", [("", (), 0)], _today),
}
