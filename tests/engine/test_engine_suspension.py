"""Suspension (暂停计时) and extension through the engine count with the calendar's one implementation
(WorkingDayCalendar.remaining_until / due / extend_from), so the engine and ``calendar.remaining`` agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from efficacy_flow.calendar import CALENDAR_DAYS, TimeLimit, china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.testing import FakeClock

STEPS = Path(__file__).parent / "fixtures" / "steps"
UNIT = Actor("zj-1", {"承办单位"})


def at(day: int, month: int = 9, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, 0, tzinfo=CHINA_TZ)


def test_a_resumed_calendar_day_limit_ends_where_the_calendar_says(
    make_engine: Callable[..., Engine],
) -> None:
    """The issue-12 regression through the engine: ``5日`` started Monday 09-15 10:00 (nominally Saturday
    09-20, rolled to Monday 09-22), suspended 09-16, resumed 09-25: 4 days remained (to the nominal last day),
    so the limit ends on Monday 09-29 — what ``calendar.remaining`` says — not on 10-01, a holiday, as the
    engine's own elapsed-seconds copy of the arithmetic did."""
    clock = FakeClock(at(15))
    engine = make_engine(STEPS, clock=clock)
    case = engine.start("fx_days", {}, UNIT)
    (task,) = case.tasks
    assert task.due_at == datetime(2025, 9, 23, tzinfo=CHINA_TZ)
    clock.set(at(16))
    engine.suspend(case.id, "听证", UNIT)
    with engine.store.read() as reader:
        (row,) = reader.deadlines_of(case.id)
    assert (row.due_at, row.remaining) == (None, TimeLimit(4, CALENDAR_DAYS))
    cal = china()
    assert row.remaining == cal.remaining(at(16), cal.due(at(15), "5日"))
    clock.set(at(25))
    view = engine.resume(case.id, UNIT)
    (task,) = view.tasks
    assert task.due_at == datetime(2025, 9, 30, tzinfo=CHINA_TZ)  # the end of 09-29
    resumed = next(e for e in engine.history(case.id) if e.kind == "resumed")
    assert resumed.after == {"Timer_Limit": "2025-09-30T00:00:00+08:00"}
    suspended = next(e for e in engine.history(case.id) if e.kind == "suspended")
    assert suspended.after == {"reason": "听证", "remaining": {"Timer_Limit": "4日"}}
    assert engine.check_consistency().ok


def test_resumed_on_a_saturday_the_limit_rolls_past_national_day(make_engine: Callable[..., Engine]) -> None:
    """Resumed on Saturday 09-27 the same 4 days end nominally on 10-01 (National Day) and roll to the first
    working day after the holiday, Thursday 10-09 (民法典 第二百零三条)."""
    clock = FakeClock(at(15))
    engine = make_engine(STEPS, clock=clock)
    case = engine.start("fx_days", {}, UNIT)
    clock.set(at(16))
    engine.suspend(case.id, "听证", UNIT)
    clock.set(at(27))
    (task,) = engine.resume(case.id, UNIT).tasks
    assert task.due_at == datetime.combine(date(2025, 10, 10), datetime.min.time(), CHINA_TZ)


def test_an_extension_counts_on_from_the_old_last_day(make_engine: Callable[..., Engine]) -> None:
    """An approved extension of 2个工作日 on a limit ending at the end of 09-22 ends at the end of 09-24."""
    clock = FakeClock(at(15))
    engine = make_engine(STEPS, clock=clock)
    case = engine.start("fx_days", {}, UNIT)
    (task,) = case.tasks
    extended = engine.extend(task.id, "2个工作日", "情况复杂", approved_by=Actor("leader", {"分管领导"}))
    assert extended.due_at == datetime(2025, 9, 25, tzinfo=CHINA_TZ)
    event = next(e for e in engine.history(case.id) if e.kind == "extended")
    assert event.after["limit"] == "2个工作日"
