"""Suspension arithmetic (暂停计时) and masking, as properties and named cases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.calendar import TimeLimit, china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine._clockwork import extend_due, remaining_at, resume_due
from efficacy_flow.engine._schemas import mask_value

CAL = china()
DAYS = st.dates(min_value=date(2008, 1, 1), max_value=date(2026, 6, 30))


@given(start=DAYS, n=st.integers(min_value=1, max_value=40))
def test_suspend_and_resume_at_once_keeps_a_working_day_deadline(start: date, n: int) -> None:
    """Suspending and resuming at the same midnight leaves a working-day deadline where it was."""
    now = datetime.combine(start, time(), CHINA_TZ)
    due = CAL.due(now, TimeLimit(n, TimeLimit.parse("1个工作日").unit)).due_at
    remaining = remaining_at("working_days", due, now, CAL)
    assert remaining == f"wd:{n}"
    assert resume_due(remaining, now, CAL) == due


@given(
    seconds=st.integers(min_value=0, max_value=10**7),
    pause=st.integers(min_value=0, max_value=10**7),
)
def test_elapsed_time_resumes_by_the_pause(seconds: int, pause: int) -> None:
    """An hour/day limit resumes with the same remaining seconds: the due time moves by the pause exactly."""
    now = datetime(2025, 3, 3, 9, 0, tzinfo=CHINA_TZ)
    due = now + timedelta(seconds=seconds)
    remaining = remaining_at("elapsed", due, now, CAL)
    assert resume_due(remaining, now + timedelta(seconds=pause), CAL) == due + timedelta(seconds=pause)


def test_overdue_timer_keeps_nothing() -> None:
    """A timer already past due keeps zero remaining time (never negative)."""
    now = datetime(2025, 3, 3, 9, 0, tzinfo=CHINA_TZ)
    assert remaining_at("elapsed", now - timedelta(hours=1), now, CAL) == "s:0"
    assert remaining_at("working_days", now - timedelta(days=3), now, CAL) == "wd:0"


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param("2个工作日", datetime(2025, 10, 11, tzinfo=CHINA_TZ), id="working-days-over-holiday"),
        pytest.param("3日", datetime(2025, 10, 10, tzinfo=CHINA_TZ), id="calendar-days-roll-to-working-day"),
        pytest.param("2小时", datetime(2025, 10, 1, 2, 0, tzinfo=CHINA_TZ), id="hours-elapsed"),
    ],
)
def test_extension_counts_from_the_old_last_day(limit: str, expected: datetime) -> None:
    """A period ending at the end of 09-30 extended by ``limit`` ends as the calendar says."""
    assert extend_due(datetime(2025, 10, 1, tzinfo=CHINA_TZ), TimeLimit.parse(limit), CAL) == expected


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        pytest.param("13812345678", "phone", "138****5678", id="phone"),
        pytest.param("110105199001011234", "id_number", "110105********1234", id="id-number"),
        pytest.param("张三丰", "name", "张**", id="name"),
        pytest.param("请回电13812345678谢谢", None, "请回电138****5678谢谢", id="phone-in-text"),
        pytest.param("身份证11010519900101123X。", None, "身份证110105********123X。", id="id-in-text"),
        pytest.param({"a": ["13912345678"]}, None, {"a": ["139****5678"]}, id="nested"),
        pytest.param(42, None, 42, id="not-text"),
    ],
)
def test_masking(value: object, kind: str | None, expected: object) -> None:
    """Personal data is masked by kind, and phone/ID numbers inside free text too."""
    assert mask_value(value, kind) == expected
