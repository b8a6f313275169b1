"""The helpers integrators get in efficacy_flow.testing, used the way they would use them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor
from efficacy_flow.errors import InvalidState, UnknownTask
from efficacy_flow.testing import FakeClock
from efficacy_flow.testing._engine import complete_task, drive_to, make_test_engine

BASIC = Path(__file__).parent / "fixtures" / "basic"
CLERK = Actor("c", {"受理员"})


def test_drive_to_and_tick_through_holiday(tmp_path: Path) -> None:
    """drive_to reaches a later task; a FakeClock jump over the holiday then fires nothing (fx_ten has no
    timers)."""
    clock = FakeClock(datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ))
    engine = make_test_engine(tmp_path, BASIC, clock=clock, calendar=china())
    inst = engine.start("fx_ten", {}, CLERK)
    task = drive_to(engine, inst.id, "Task_05", CLERK)
    assert task.element_id == "Task_05"
    assert engine.instance(inst.id).version == 5
    clock.advance(timedelta(days=8))
    assert engine.tick() == []
    complete_task(engine, inst.id, "Task_05", {}, CLERK)
    with pytest.raises(UnknownTask):
        complete_task(engine, inst.id, "Task_05", {}, CLERK)


def test_drive_to_unreachable_raises(tmp_path: Path) -> None:
    """drive_to raises InvalidState when the process ends before the task."""
    engine = make_test_engine(
        tmp_path, BASIC, clock=FakeClock(datetime(2025, 9, 1, tzinfo=CHINA_TZ)), calendar=china()
    )
    inst = engine.start("fx_ten", {}, CLERK)
    with pytest.raises(InvalidState):
        drive_to(engine, inst.id, "Task_Nowhere", CLERK)
