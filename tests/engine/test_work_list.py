"""engine.tasks as a work list (issue 13's queries): by due time, the overdue flag on the engine's clock,
keyset pages through ``limit`` and ``after``, and typed refusals of bad arguments (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine, TaskView
from efficacy_flow.errors import InvalidInput, NaiveDatetime
from efficacy_flow.testing import FakeClock

OPERATOR = Actor("op-1", {"受理员"})
UNITS = ("市住建局", "市交通局")


def _start_over_a_week(engine: Engine, clock: FakeClock) -> list[str]:
    """Eight tickets of fx_handle, started a day apart, alternating between two units: each one's 办理 is due
    later than the one before (its limit counts working days from its own start)."""
    ids = []
    for n in range(8):
        ids.append(engine.start("fx_handle", {"title": f"诉求{n}", "unit": UNITS[n % 2]}, OPERATOR).id)
        clock.advance(timedelta(days=1))
    return ids


def _all_pages(engine: Engine, size: int, **filters: object) -> list[TaskView]:
    seen: list[TaskView] = []
    after = None
    while page := engine.tasks(limit=size, after=after, **filters):  # type: ignore[arg-type]
        assert len(page) <= size
        seen += page
        after = page[-1].id
    return seen


def test_the_work_list_is_in_due_order_and_pages_through_it(engine: Engine, clock: FakeClock) -> None:
    """The list runs by due time (most urgent first); pages of any size add up to it, for all units and for
    one unit."""
    _start_over_a_week(engine, clock)
    whole = engine.tasks()
    assert len(whole) == 8
    dues = [t.due_at for t in whole]
    assert all(d is not None for d in dues)
    assert dues == sorted(dues)  # type: ignore[type-var]
    for size in (1, 3, 8, 50):
        assert _all_pages(engine, size) == whole
    unit = engine.tasks(unit="市交通局")
    assert unit == [t for t in whole if t.unit == "市交通局"]
    assert _all_pages(engine, 2, unit="市交通局") == unit


def test_overdue_and_due_before_follow_the_clock(engine: Engine, clock: FakeClock) -> None:
    """``overdue=True`` lists what is due by the engine's clock, ``overdue=False`` the rest; ``due_before``
    cuts at an instant of the caller's."""
    _start_over_a_week(engine, clock)
    whole = engine.tasks()
    middle = whole[3].due_at
    assert middle is not None
    clock.set(middle)
    overdue = engine.tasks(overdue=True)
    assert overdue == [t for t in whole if t.due_at is not None and t.due_at <= middle]
    assert engine.tasks(overdue=False) == [t for t in whole if t not in overdue]
    assert 0 < len(overdue) < len(whole)
    assert engine.tasks(due_before=middle) == [t for t in whole if t.due_at is not None and t.due_at < middle]


@pytest.mark.parametrize(
    ("arguments", "error", "problem"),
    [
        pytest.param(
            {"limit": 0}, InvalidInput, "limit must be a whole number from 1 to 10000, got 0", id="zero"
        ),
        pytest.param({"limit": True}, InvalidInput, "limit must be", id="bool"),
        pytest.param({"limit": 10_001}, InvalidInput, "got 10001", id="too-many"),
        pytest.param({"limit": "5"}, InvalidInput, "got '5'", id="text"),
        pytest.param({"after": "no-such-task"}, InvalidInput, "no task 'no-such-task'", id="unknown-after"),
        pytest.param({"overdue": "yes"}, InvalidInput, "overdue must be", id="overdue-text"),
        pytest.param({"due_before": datetime(2025, 10, 1)}, NaiveDatetime, "aware", id="naive"),
        pytest.param({"due_before": "2025-10-01"}, InvalidInput, "must be a datetime", id="due-text"),
        pytest.param({"process_id": 7}, InvalidInput, "process_id must be text", id="process-number"),
    ],
)
def test_bad_arguments_are_typed_errors(
    engine: Engine, arguments: dict[str, object], error: type[Exception], problem: str
) -> None:
    engine.start("fx_handle", {"title": "路灯不亮", "unit": "市住建局"}, OPERATOR)
    with pytest.raises(error, match=problem):
        engine.tasks(**arguments)  # type: ignore[arg-type]


def test_filters_by_process_and_business_key(engine: Engine) -> None:
    """process_id and business_key select through the instance row."""
    first = engine.start("fx_handle", {"title": "甲", "unit": "市住建局"}, OPERATOR, business_key="12345-1")
    engine.start("fx_handle", {"title": "乙", "unit": "市住建局"}, OPERATOR, business_key="12345-2")
    assert [t.instance_id for t in engine.tasks(business_key="12345-1")] == [first.id]
    assert len(engine.tasks(process_id="fx_handle")) == 2
    assert engine.tasks(process_id="fx_other") == []
    assert engine.tasks(due_before=datetime(2025, 9, 1, tzinfo=CHINA_TZ)) == []


def test_instances_page_like_tasks(engine: Engine, clock: FakeClock) -> None:
    """engine.instances pages (oldest first) add up to the whole listing; a bad limit is refused."""
    _start_over_a_week(engine, clock)
    whole = engine.instances()
    assert len(whole) == 8
    seen, after = [], None
    while page := engine.instances(limit=3, after=after):
        seen += page
        after = page[-1].id
    assert seen == whole
    assert engine.instances(status="active", limit=2) == whole[:2]
    with pytest.raises(InvalidInput, match="limit must be"):
        engine.instances(limit=-1)
    with pytest.raises(InvalidInput, match="no instance"):
        engine.instances(after="missing")
