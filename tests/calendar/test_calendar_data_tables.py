"""The bundled data, year by year: holidays and make-up days from the notices, and the notices themselves.

Two tables: the days spelled out in notice texts (read from their published text, independent of the data
files), and a fidelity check that every bundled year reproduces the holiday-cn transcription it was converted
from (which also pins the data: a changed file shows up here).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from efficacy_flow.calendar import HOLIDAY, MAKE_UP_DAY, WorkingDayCalendar, china

# holiday-cn's transcription of the notices (MIT, LICENSE beside the files), the converter's input.
SOURCE = Path(__file__).parent / "fixtures" / "holiday_cn"


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return china()


def _d(text: str) -> date:
    return date.fromisoformat(text)


# (year, days off, make-up days) as the notices' texts state them.
NOTICE_TEXT = [
    pytest.param(
        2007,
        ["2007-01-01", "2007-01-03", "2007-02-18", "2007-02-24", "2007-05-07", "2007-10-05"],
        ["2007-02-17", "2007-02-25", "2007-04-28", "2007-04-29", "2007-09-29", "2007-09-30"],
        id="2007",
    ),
    pytest.param(
        2008,
        ["2007-12-30", "2007-12-31", "2008-02-06", "2008-02-12", "2008-04-04", "2008-05-02", "2008-06-09"],
        ["2007-12-29", "2008-02-02", "2008-02-03", "2008-05-04", "2008-09-27", "2008-09-28"],
        id="2008",
    ),
    pytest.param(
        2014,
        ["2014-01-01", "2014-01-31", "2014-02-06", "2014-04-07", "2014-05-03", "2014-06-02", "2014-09-08"],
        ["2014-01-26", "2014-02-08", "2014-05-04", "2014-09-28", "2014-10-11"],
        id="2014-qingming-made-up-on-monday",
    ),
    pytest.param(
        2020,
        ["2020-01-24", "2020-01-30", "2020-01-31", "2020-02-01", "2020-02-02", "2020-10-08"],
        ["2020-01-19", "2020-04-26", "2020-05-09", "2020-06-28", "2020-09-27", "2020-10-10"],
        id="2020-with-extension",
    ),
    pytest.param(
        2024,
        ["2024-01-01", "2024-02-10", "2024-02-17", "2024-04-04", "2024-05-05", "2024-06-10", "2024-09-17"],
        ["2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14", "2024-09-29"],
        id="2024",
    ),
    pytest.param(
        2025,
        ["2025-01-01", "2025-01-28", "2025-02-04", "2025-04-04", "2025-05-05", "2025-06-02", "2025-10-08"],
        ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
        id="2025",
    ),
    pytest.param(
        2026,
        ["2026-01-02", "2026-02-15", "2026-02-23", "2026-04-06", "2026-05-05", "2026-06-19", "2026-10-07"],
        ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
        id="2026",
    ),
]


@pytest.mark.parametrize(("year", "off", "worked"), NOTICE_TEXT)
def test_days_stated_in_the_notice_text(
    cal: WorkingDayCalendar, year: int, off: list[str], worked: list[str]
) -> None:
    """Days the notice text names as 放假 are not working days; days it names as 上班 are."""
    for day in off:
        if _d(day).year >= cal.first_year:
            assert not cal.is_working_day(_d(day)), day
    for day in worked:
        if _d(day).year >= cal.first_year:
            assert cal.is_working_day(_d(day)), day


@pytest.mark.parametrize("year", [pytest.param(y, id=str(y)) for y in range(2007, 2027)])
def test_each_year_reproduces_its_source_transcription(cal: WorkingDayCalendar, year: int) -> None:
    """Every day off and every weekend day worked in holiday-cn's file for the year is in the bundled data
    (weekdays holiday-cn lists as worked are ordinary days: only 2020-02-03 is one)."""
    source = json.loads((SOURCE / f"{year}.json").read_text(encoding="utf-8"))
    listed = (
        {d.date: d.kind for d in cal.crossed(date(year - 1, 12, 24), date(year, 12, 31))}
        if year > 2007
        else {d.date: d.kind for d in cal.crossed(date(year, 1, 1) - timedelta(days=1), date(year, 12, 31))}
    )
    for day in source["days"]:
        when = _d(day["date"])
        if when.year < cal.first_year:
            continue  # 2006-12-30/31, bridge days of the 2007 notice before the data starts
        if day["isOffDay"]:
            assert listed.get(when) == HOLIDAY, when
        elif when.weekday() >= 5:
            assert listed.get(when) == MAKE_UP_DAY, when
        else:
            assert when == date(2020, 2, 3), "only the day work resumed after the 2020 extension"


@pytest.mark.parametrize("year", [pytest.param(y, id=str(y)) for y in range(2007, 2027)])
def test_each_year_cites_its_notice(cal: WorkingDayCalendar, year: int) -> None:
    """Every year names its annual notice with a gov.cn URL; a published date is given or marked
    unverified."""
    notices = cal.notices(year)
    annual = notices[0]
    assert annual.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
    assert annual.url is not None
    assert "gov.cn" in annual.url
    if annual.published is None:
        assert annual.published_basis == "unverified"
    else:
        assert annual.published < date(year, 1, 1), "an annual notice is published the year before"


@pytest.mark.parametrize(
    ("year", "title", "published"),
    [
        pytest.param(
            2015,
            "国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知",
            date(2015, 5, 13),
            id="2015-anniversary",
        ),
        pytest.param(
            2019, "国务院办公厅关于调整2019年劳动节假期安排的通知", date(2019, 3, 22), id="2019-may-day"
        ),
        pytest.param(
            2020, "国务院办公厅关于延长2020年春节假期的通知", date(2020, 1, 26), id="2020-extension"
        ),
    ],
)
def test_amendments_are_separate_cited_notices(
    cal: WorkingDayCalendar, year: int, title: str, published: date
) -> None:
    """An amendment is its own notice, amending the annual one, and the days it changed cite it."""
    amendment = next(n for n in cal.notices(year) if n.title == title)
    assert amendment.amends == "annual"
    assert amendment.published == published
    cited = {d.notice.title for d in cal.crossed(date(year, 1, 1), date(year, 12, 31))}
    assert title in cited


def test_the_2020_extension_days_cite_the_extension(cal: WorkingDayCalendar) -> None:
    """2020-01-31..02-02 come from the extension; 2020-02-01 is no longer the make-up Saturday it was."""
    days = {d.date: d for d in cal.crossed(date(2020, 1, 1), date(2020, 2, 29))}
    assert {days[date(2020, 1, 31)].notice.title, days[date(2020, 2, 2)].notice.title} == {
        "国务院办公厅关于延长2020年春节假期的通知"
    }
    assert not cal.is_working_day(date(2020, 2, 1))
    assert cal.is_working_day(date(2020, 2, 3))
