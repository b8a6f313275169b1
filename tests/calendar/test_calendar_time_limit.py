"""TimeLimit.parse reads limits as statutes and forms write them, and refuses anything else."""

from __future__ import annotations

import pytest

from efficacy_flow.calendar import CALENDAR_DAYS, HOURS, MINUTES, MONTHS, WORKING_DAYS, TimeLimit, TimeUnit
from efficacy_flow.errors import InvalidTimeLimit


@pytest.mark.parametrize(
    ("text", "n", "unit"),
    [
        pytest.param("20个工作日", 20, WORKING_DAYS, id="zh-working-days"),
        pytest.param("5工作日", 5, WORKING_DAYS, id="zh-working-days-no-measure-word"),
        pytest.param("二十个工作日", 20, WORKING_DAYS, id="zh-numeral-working-days"),
        pytest.param("20 working days", 20, WORKING_DAYS, id="en-working-days"),
        pytest.param("1 working day", 1, WORKING_DAYS, id="en-working-day-singular"),
        pytest.param("3 Business Days", 3, WORKING_DAYS, id="en-business-days"),
        pytest.param("60日", 60, CALENDAR_DAYS, id="zh-ri"),
        pytest.param("十五日", 15, CALENDAR_DAYS, id="zh-numeral-ri"),
        pytest.param("15天", 15, CALENDAR_DAYS, id="zh-tian"),
        pytest.param("60 days", 60, CALENDAR_DAYS, id="en-days"),
        pytest.param("30个自然日", 30, CALENDAR_DAYS, id="zh-natural-days"),
        pytest.param("2小时", 2, HOURS, id="zh-hours"),
        pytest.param("24个小时", 24, HOURS, id="zh-hours-measure-word"),
        pytest.param("2 hours", 2, HOURS, id="en-hours"),
        pytest.param("1个月", 1, MONTHS, id="zh-month"),
        pytest.param("1 month", 1, MONTHS, id="en-month"),
        pytest.param("6 months", 6, MONTHS, id="en-months"),
        pytest.param("15分钟", 15, MINUTES, id="zh-minutes"),
        pytest.param("  90   日 ", 90, CALENDAR_DAYS, id="spaces"),
        pytest.param("一百二十日", 120, CALENDAR_DAYS, id="zh-numeral-hundreds"),
        pytest.param("两小时", 2, HOURS, id="zh-liang"),
    ],
)
def test_parse_reads_the_documented_forms(text: str, n: int, unit: TimeUnit) -> None:
    """Each documented spelling becomes the same TimeLimit as the direct constructor."""
    assert TimeLimit.parse(text) == TimeLimit(n, unit)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("二十", id="no-unit"),
        pytest.param("工作日", id="no-number"),
        pytest.param("20 fortnights", id="unknown-unit"),
        pytest.param("-5个工作日", id="negative"),
        pytest.param("2.5小时", id="fraction"),
        pytest.param("20个工作日以内", id="trailing-words"),
    ],
)
def test_parse_refuses_what_it_cannot_read(text: str) -> None:
    """Unreadable text raises InvalidTimeLimit (also a ValueError) carrying the text."""
    with pytest.raises(InvalidTimeLimit) as info:
        TimeLimit.parse(text)
    assert info.value.text == text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("n", "unit"),
    [
        pytest.param(-1, WORKING_DAYS, id="negative"),
        pytest.param(2.5, HOURS, id="float"),
        pytest.param(True, HOURS, id="bool"),
        pytest.param(5, "fortnights", id="unknown-unit"),
    ],
)
def test_constructor_refuses_bad_values(n: object, unit: object) -> None:
    """TimeLimit(n, unit) accepts only a non-negative int and a known unit."""
    with pytest.raises(InvalidTimeLimit):
        TimeLimit(n, unit)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        pytest.param(TimeLimit(20, WORKING_DAYS), "20个工作日", id="working-days"),
        pytest.param(TimeLimit(60, CALENDAR_DAYS), "60日", id="calendar-days"),
        pytest.param(TimeLimit(2, HOURS), "2小时", id="hours"),
        pytest.param(TimeLimit(1, MONTHS), "1个月", id="months"),
    ],
)
def test_str_round_trips_through_parse(limit: TimeLimit, text: str) -> None:
    """str() writes the Chinese form, which parse reads back."""
    assert str(limit) == text
    assert TimeLimit.parse(str(limit)) == limit
