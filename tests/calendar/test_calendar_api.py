"""The calendar's public surface is deliberate: the exported names are pinned, and the contract others code
against (issue 3) keeps its shape."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date, datetime

import pytest

import efficacy_flow.calendar as calendar_api
from efficacy_flow.calendar import WORKING_DAYS, Deadline, TimeLimit, TimeUnit, china
from efficacy_flow.clock import CHINA_TZ


def test_exported_names_are_pinned() -> None:
    """A change to the package's surface shows up here, in review."""
    assert calendar_api.__all__ == [
        "CALENDAR_DAYS",
        "HOLIDAY",
        "HOURS",
        "HOURS_ARE_ELAPSED_TIME",
        "LAST_DAY_ROLLS_TO_WORKING_DAY",
        "MAKE_UP_DAY",
        "MINUTES",
        "MONTHS",
        "MONTH_END_WHEN_NO_CORRESPONDING_DAY",
        "PERIOD_ENDS_AT_MIDNIGHT_OR_CLOSING_TIME",
        "START_DAY_EXCLUDED",
        "WEEKEND_HOLIDAY_MADE_UP",
        "WEEKEND_IS_REST",
        "WORKING_DAYS",
        "CrossedDay",
        "Deadline",
        "Holiday",
        "MakeUpDay",
        "Notice",
        "Rule",
        "TimeLimit",
        "TimeUnit",
        "WorkingDayCalendar",
        "china",
        "known_regions",
    ]
    assert calendar_api.__all__ == sorted(calendar_api.__all__, key=lambda n: (not n.isupper(), n))
    for name in calendar_api.__all__:
        assert hasattr(calendar_api, name), name


def test_china_signature_matches_the_contract() -> None:
    """``china(region=None, data_dir=None, strict=False)``; extra options are keyword-only."""
    params = inspect.signature(china).parameters
    assert [(p.name, p.default) for p in list(params.values())[:3]] == [
        ("region", None),
        ("data_dir", None),
        ("strict", False),
    ]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(params.values())[3:])


def test_time_limit_carries_n_and_unit_and_units_are_named_values() -> None:
    """TimeLimit(20, "working_days") equals TimeLimit(20, WORKING_DAYS) and exposes both fields."""
    limit = TimeLimit(20, "working_days")
    assert (limit.n, limit.unit) == (20, WORKING_DAYS)
    assert limit == TimeLimit(20, WORKING_DAYS) == TimeLimit.parse("20个工作日")
    assert {u.value for u in TimeUnit} >= {"working_days", "calendar_days", "hours", "months"}


def test_deadline_is_a_frozen_slotted_dataclass() -> None:
    """Deadlines are cheap values: frozen, slotted, hashable-free of mutable state."""
    deadline = china().due(datetime(2025, 3, 3, 9, tzinfo=CHINA_TZ), "5个工作日")
    assert dataclasses.is_dataclass(deadline)
    assert not hasattr(deadline, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        deadline.due_date = date(2025, 1, 1)  # type: ignore[misc]
    assert isinstance(deadline, Deadline)
    assert deadline.due_at.tzinfo is not None
    assert deadline.due_at.utcoffset() == CHINA_TZ.utcoffset(deadline.due_at.replace(tzinfo=None))
