"""Statutory counting rules as named values, time-limit units, and :class:`TimeLimit`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from efficacy_flow.errors import InvalidTimeLimit

__all__ = [
    "CALENDAR_DAYS",
    "HOURS",
    "HOURS_ARE_ELAPSED_TIME",
    "LAST_DAY_ROLLS_TO_WORKING_DAY",
    "MINUTES",
    "MONTHS",
    "MONTH_END_WHEN_NO_CORRESPONDING_DAY",
    "PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME",
    "START_DAY_EXCLUDED",
    "WEEKEND_HOLIDAY_MADE_UP",
    "WEEKEND_IS_REST",
    "WORKING_DAYS",
    "Rule",
    "TimeLimit",
    "TimeUnit",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """One counting rule, with the text it implements and where that text is.

    Attributes:
        key: a stable identifier (used in JSON output).
        text: the rule as the statute states it (Chinese).
        source: statute and article.
    """

    key: str
    text: str
    source: str


START_DAY_EXCLUDED = Rule(
    "start_day_excluded",
    "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。",
    "民法典 第二百零一条第一款",
)
MONTH_END_WHEN_NO_CORRESPONDING_DAY = Rule(
    "month_end_when_no_corresponding_day",
    "按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日。",
    "民法典 第二百零二条",
)
LAST_DAY_ROLLS_TO_WORKING_DAY = Rule(
    "last_day_rolls_to_working_day",
    "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日。",
    "民法典 第二百零三条第一款",
)
PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME = Rule(
    "period_ends_at_midnight_or_closing_time",
    "期间的最后一日的截止时间为二十四时；有业务时间的，停止业务活动的时间为截止时间。",
    "民法典 第二百零三条第二款",
)
HOURS_ARE_ELAPSED_TIME = Rule(
    "hours_are_elapsed_time",
    "按照小时计算期间的，自法律规定或者当事人约定的时间开始计算。（不区分工作日和非工作日）",
    "民法典 第二百零一条第二款; [secondary] 天津市12345热线工作规则",
)
WEEKEND_IS_REST = Rule(
    "weekend_is_rest",
    "国家机关、事业单位实行统一的工作时间，星期六和星期日为周休息日。",
    "国务院关于职工工作时间的规定 第七条",
)
WEEKEND_HOLIDAY_MADE_UP = Rule(
    "weekend_holiday_made_up",
    "全体公民放假的假日，如果适逢周六、周日，应当在工作日补假。",
    "全国年节及纪念日放假办法 第六条",
)


class TimeUnit(StrEnum):
    """The unit a time limit is stated in (民法典 art. 200: 年、月、日、小时)."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"
    HOURS = "hours"
    MINUTES = "minutes"

    @property
    def label(self) -> str:
        """The unit's Chinese label, as written after the number ("个工作日", "日", ...)."""
        return _LABELS[self]


_LABELS = {
    TimeUnit.WORKING_DAYS: "个工作日",
    TimeUnit.CALENDAR_DAYS: "日",
    TimeUnit.MONTHS: "个月",
    TimeUnit.HOURS: "小时",
    TimeUnit.MINUTES: "分钟",
}

WORKING_DAYS = TimeUnit.WORKING_DAYS
CALENDAR_DAYS = TimeUnit.CALENDAR_DAYS
MONTHS = TimeUnit.MONTHS
HOURS = TimeUnit.HOURS
MINUTES = TimeUnit.MINUTES

# Suffixes after the number, lower-cased and without spaces; "日"/"天" are calendar days (自然日).
_SUFFIXES: dict[str, TimeUnit] = {
    "个工作日": WORKING_DAYS,
    "工作日": WORKING_DAYS,
    "workingdays": WORKING_DAYS,
    "workingday": WORKING_DAYS,
    "businessdays": WORKING_DAYS,
    "businessday": WORKING_DAYS,
    "日": CALENDAR_DAYS,
    "天": CALENDAR_DAYS,
    "个自然日": CALENDAR_DAYS,
    "自然日": CALENDAR_DAYS,
    "days": CALENDAR_DAYS,
    "day": CALENDAR_DAYS,
    "calendardays": CALENDAR_DAYS,
    "calendarday": CALENDAR_DAYS,
    "个月": MONTHS,
    "months": MONTHS,
    "month": MONTHS,
    "小时": HOURS,
    "个小时": HOURS,
    "hours": HOURS,
    "hour": HOURS,
    "分钟": MINUTES,
    "minutes": MINUTES,
    "minute": MINUTES,
}

_NUMBER = re.compile(r"^\s*(\d+|[零〇一二两三四五六七八九十百]+)\s*(.*?)\s*$")
_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _chinese_number(text: str) -> int | None:
    """Read a Chinese numeral below 1000 ("十五", "二十", "一百二十"); ``None`` if it is not one."""
    total, current = 0, 0
    for char in text:
        if char in _DIGITS:
            current = _DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A statutory time limit: ``n`` units, e.g. ``TimeLimit(20, WORKING_DAYS)`` for 二十个工作日.

    Args:
        n: how many units; a non-negative integer (0 is allowed: the period ends on its start day).
        unit: a :class:`TimeUnit` or its value ("working_days", "calendar_days", "months", "hours",
        "minutes").

    Raises:
        InvalidTimeLimit: ``n`` is not a non-negative integer or ``unit`` is not a known unit.
    """

    n: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise InvalidTimeLimit(
                f"a time limit needs a non-negative whole number, got {_shown(self.n)}", text=_shown(self.n)
            )
        try:
            unit = TimeUnit(self.unit)
        except ValueError:
            known = ", ".join(u.value for u in TimeUnit)
            raise InvalidTimeLimit(
                f"unknown time-limit unit {self.unit!r} (known: {known})", text=str(self.unit)
            ) from None
        object.__setattr__(self, "unit", unit)

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        """Read a limit as statutes and forms write it.

        Accepts Arabic or Chinese numerals followed by a unit: "20个工作日", "二十个工作日", "20 working
        days", "60日", "15天", "60 days", "2小时", "2 hours", "1个月", "1 month", "15分钟", "15 minutes".
        "日"/"天"/"days" are calendar days (自然日).

        Raises:
            InvalidTimeLimit: the text is not a limit (``text`` holds it).
        """
        if not isinstance(text, str):
            raise InvalidTimeLimit(
                f"a time limit must be text, got {type(text).__name__}", text=f"a {type(text).__name__}"
            )
        match = _NUMBER.match(text)
        if match:
            raw, suffix = match.groups()
            n = int(raw) if raw.isdigit() else _chinese_number(raw)
            unit = _SUFFIXES.get(re.sub(r"\s+", "", suffix).lower())
            if n is not None and unit is not None:
                return cls(n, unit)
        raise InvalidTimeLimit(
            f"cannot read the time limit {text!r} (try '20个工作日', '60日', '2小时', '1个月')", text=text
        )

    def __str__(self) -> str:
        return f"{self.n}{self.unit.label}"


def _shown(value: object) -> str:
    """A caller's value as a message may show it: a small int as itself, anything else by its type (the repr
    of a huge int fails, of a deep structure recurses without end)."""
    if type(value) is int and abs(value) < 10**18:
        return str(value)
    return f"a {type(value).__name__}"
