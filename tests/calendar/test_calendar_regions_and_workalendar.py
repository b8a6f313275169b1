"""Regional overlays over the national calendar, and the workalendar interface."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timedelta

import pytest
from workalendar.asia import China as WorkalendarChina
from workalendar.core import Calendar

from efficacy_flow.calendar import WorkingDayCalendar, china, known_regions


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return china()


@pytest.mark.parametrize(
    ("region", "day"),
    [
        pytest.param("xinjiang", date(2025, 3, 31), id="xinjiang-rozi-2025"),
        pytest.param("新疆", date(2025, 6, 9), id="xinjiang-alias-qurban-2025"),
        pytest.param("ningxia", date(2020, 5, 25), id="ningxia-eid-2020"),
        pytest.param("64", date(2021, 7, 19), id="ningxia-code-qurban-2021"),
    ],
)
def test_regional_holiday_is_off_only_in_its_region(cal: WorkingDayCalendar, region: str, day: date) -> None:
    """The overlay's day off is a working day nationally; its deadlines cite the regional notice."""
    regional = china(region=region)
    assert cal.is_working_day(day)
    assert not regional.is_working_day(day)
    crossed = {d.date: d for d in regional.crossed(day - timedelta(days=1), day)}
    assert crossed[day].notice.grade == "secondary"
    assert regional.calendar_version.startswith("cn+")


def test_known_regions_lists_the_bundled_overlays() -> None:
    """Bundled overlays are discoverable with their Chinese names."""
    assert known_regions() == {"ningxia": "宁夏回族自治区", "xinjiang": "新疆维吾尔自治区"}


def test_workalendar_adapter_is_a_workalendar_calendar(cal: WorkingDayCalendar) -> None:
    """as_workalendar() returns a workalendar Calendar whose answers are ours, 调休 included."""
    adapter = cal.as_workalendar()
    assert isinstance(adapter, Calendar)
    assert adapter.is_working_day(date(2025, 9, 28))  # 调休 Sunday
    assert not adapter.is_working_day(date(2025, 10, 6))
    assert adapter.add_working_days(date(2025, 9, 26), 20) == date(2025, 10, 30)
    assert adapter.sub_working_days(date(2025, 10, 9), 1) == date(2025, 9, 30)
    assert adapter.get_working_days_delta(date(2025, 10, 30), date(2025, 9, 26)) == 20
    assert adapter.get_working_days_delta(date(2025, 9, 26), date(2025, 10, 30), include_start=True) == 21
    assert (date(2025, 10, 1), "国庆节、中秋节") in adapter.holidays(2025)
    assert adapter.add_working_days(datetime(2025, 9, 26, 9), 1, keep_datetime=True) == datetime(
        2025, 9, 28, 9
    )


def test_workalendar_extras_are_honoured(cal: WorkingDayCalendar) -> None:
    """extra_working_days and extra_holidays keep their workalendar meaning."""
    adapter = cal.as_workalendar()
    assert adapter.is_working_day(date(2025, 10, 6), extra_working_days=[date(2025, 10, 6)])
    assert not adapter.is_working_day(date(2025, 3, 3), extra_holidays=[date(2025, 3, 3)])
    assert adapter.add_working_days(date(2025, 3, 2), 1, extra_holidays=[date(2025, 3, 3)]) == date(
        2025, 3, 4
    )


def test_workalendar_china_agrees_on_2021_and_2022(cal: WorkingDayCalendar) -> None:
    """Where workalendar's own China data is right (2021–2022), it and the adapter agree day by day."""
    theirs = WorkalendarChina()
    ours = cal.as_workalendar()
    day = date(2021, 1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # workalendar warns on every year lookup that its data needs updating
        while day <= date(2022, 12, 31):
            assert ours.is_working_day(day) == theirs.is_working_day(day), day
            day += timedelta(days=1)
