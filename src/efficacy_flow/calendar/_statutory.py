"""Statutory holidays of a year whose notice is not yet published (used provisionally).

全国年节及纪念日放假办法 (2024 revision, in force 2025-01-01) art. 2 fixes the holidays every citizen has:
元旦 1 day; 春节 4 days (除夕, 正月初一至初三); 清明节 1 day; 劳动节 2 days (5月1日、2日); 端午节 1 day;
中秋节 1 day; 国庆节 3 days (10月1日至3日). Art. 6: a holiday that falls on a Saturday or Sunday is made up
(补假) on a working day. Only the annual notice fixes the 调休 (weekend days worked), so none are produced
here.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from lunardate import LunarDate

from efficacy_flow.calendar._data import Holiday, Notice, YearData

__all__ = ["FIRST_RULE_YEAR", "LAST_COMPUTABLE_YEAR", "STATUTORY_NOTICE", "qingming", "statutory_year"]

#: The first year the 2024 revision applies to.
FIRST_RULE_YEAR = 2025
#: lunardate's tables end with 2099.
LAST_COMPUTABLE_YEAR = 2099

STATUTORY_NOTICE = Notice(
    id="statutory",
    title="全国年节及纪念日放假办法（2024年修订）第二条、第六条（年度通知未发布，按法定假日推算，不含调休）",
    url=None,
    published=None,
    published_basis="statutory-rule",
    number="国务院令第795号",
    note="computed: lunar dates from lunardate, 清明 from the solar-term formula;"
    " 补假 on the first free weekdays after the holiday;"
    " no 调休 working weekends (only the annual notice can fix them)",
    grade="statutory-rule",
)

# 清明 is the solar term at the sun's ecliptic longitude 15°. For 2000–2099 its April day is
# floor(Y*D + C) - floor(Y/4), Y = year % 100, with D = 0.2422 and C = 4.81 (the standard "寿星" formula);
# a test checks it against chinese_calendar's astronomical table for every year it covers.
_QINGMING_D = 0.2422
_QINGMING_C = 4.81


def qingming(year: int) -> date:
    """The day of 清明 (Pure Brightness) in ``year`` (2000–2099), in China Standard Time."""
    y = year % 100
    return date(year, 4, int(y * _QINGMING_D + _QINGMING_C) - y // 4)


def _lunar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def statutory_holidays(year: int) -> list[tuple[str, list[date]]]:
    """The 13 statutory days of ``year`` under the 2024 revision's art. 2, by holiday name."""
    new_year = _lunar(year, 1, 1)
    return [
        ("元旦", [date(year, 1, 1)]),
        (
            "春节",
            [new_year - timedelta(days=1), new_year, new_year + timedelta(days=1), new_year + timedelta(2)],
        ),
        ("清明节", [qingming(year)]),
        ("劳动节", [date(year, 5, 1), date(year, 5, 2)]),
        ("端午节", [_lunar(year, 5, 5)]),
        ("中秋节", [_lunar(year, 8, 15)]),
        ("国庆节", [date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)]),
    ]


@cache
def statutory_year(year: int) -> YearData:
    """Build a provisional year: the statutory days plus art. 6 补假, no 调休.

    补假 placement (art. 6 says only "在工作日补假"): for every statutory day on a Saturday or Sunday, or on a
    day another holiday already occupies (中秋 on 10月1日), one day off is added on the first Monday–Friday
    after the holiday's last day that is not already off. That matches how the notices made up days before
    调休 bridging (2014: 清明 on Saturday 4月5日, 补休 Monday 4月7日).
    """
    taken: set[date] = set()
    holidays: list[Holiday] = []
    named = statutory_holidays(year)
    for name, days in named:
        own = [d for d in days if d not in taken]
        taken.update(own)
        holidays.append(Holiday(name, tuple(own), STATUTORY_NOTICE, provisional=True))
    all_days = set(taken)
    in_lieu: list[Holiday] = []
    for holiday, (name, days) in zip(holidays, named, strict=True):
        owed = sum(1 for d in days if d.weekday() >= 5) + (len(days) - len(holiday.dates))
        extra: list[date] = []
        day = max(days)
        while len(extra) < owed:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in all_days:
                extra.append(day)
                all_days.add(day)
        if extra:
            in_lieu.append(Holiday(f"{name}（补假）", tuple(extra), STATUTORY_NOTICE, provisional=True))
    return YearData(
        year=year,
        notices=(STATUTORY_NOTICE,),
        holidays=tuple(h for h in holidays if h.dates) + tuple(in_lieu),
        make_up_days=(),
        path="(statutory rules)",
        provisional=True,
    )
