"""From the figures to action (issue 14): minimum standards open rectification items on the shipped
supervision ladder, once per unit, figure and period; two months near the bottom mean a 约谈."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import InvalidInput
from efficacy_flow.metrics._appraisal import AppraisalRow, rank
from efficacy_flow.metrics._rectification import (
    Standards,
    open_rectifications,
    repeatedly_near_bottom,
    shortfalls,
)
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
INSPECTOR = Actor("inspector", ["效能督查员"])


def row(unit: str, received: int, replied: int, rated: int, satisfied: int) -> AppraisalRow:
    return AppraisalRow(
        key={"unit": unit},
        received=received,
        responded=received,
        responded_on_time=received,
        closed=replied,
        closed_on_time=replied,
        rated=rated,
        satisfied=satisfied,
        bad=rated - satisfied,
        solved_answered=0,
        solved=0,
        replied=replied,
    )


def test_units_below_the_minimum_standards_are_found() -> None:
    rows = [
        row("市城管局", 100, 95, 40, 30),  # 满意率 75%: below 85%
        row("市住建局", 100, 90, 20, 20),  # 回复率 90%: below 92%
        row("市教育局", 50, 50, 10, 9),  # 90% and 100%: fine
        row("市人社局", 0, 0, 0, 0),  # nothing to judge
    ]
    found = {(s.unit, s.figure): s for s in shortfalls(rows)}
    assert set(found) == {("市城管局", "满意率"), ("市住建局", "回复率")}
    assert found[("市城管局", "满意率")].value == Fraction(3, 4)
    assert found[("市城管局", "满意率")].finding == "满意率 75.0%，低于最低标准 85.0%"
    stricter = Standards(satisfaction=Fraction(95, 100))
    assert ("市教育局", "满意率") in {(s.unit, s.figure) for s in shortfalls(rows, stricter)}


def test_a_rectification_item_is_opened_once_per_unit_figure_and_period(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2025, 11, 3, 9, tzinfo=CHINA_TZ))
    engine = Engine(f"sqlite:///{tmp_path / 'r.db'}", PROCESSES, china(), clock)
    found = shortfalls([row("市城管局", 100, 95, 40, 30), row("市住建局", 100, 90, 20, 20)])
    first = open_rectifications(engine, found, "2025-10", INSPECTOR)
    assert len(first) == 2
    items = engine.instances(process_id="supervision_ladder")
    assert {i.business_key for i in items} == {"整改-2025-10-市城管局-满意率", "整改-2025-10-市住建局-回复率"}
    view = engine.instance(first[0], unmasked=True, actor=Actor("office", ["效能办"]))
    assert view.data["unit"] == "市城管局"
    assert "低于最低标准" in view.data["finding"]
    assert open_rectifications(engine, found, "2025-10", INSPECTOR) == []  # already open: nothing twice
    assert len(open_rectifications(engine, found, "2025-11", INSPECTOR)) == 2
    engine.store.close()


def test_two_months_near_the_bottom_mean_a_talk() -> None:
    september = rank([row("甲", 10, 10, 10, 10), row("乙", 10, 10, 10, 6), row("丙", 10, 10, 10, 5)])
    october = rank([row("甲", 10, 10, 10, 4), row("乙", 10, 10, 10, 6), row("丙", 10, 10, 10, 5)])
    rule = Standards(bottom=1)
    assert repeatedly_near_bottom({"2025-09": september, "2025-10": october}, rule) == []
    november = rank([row("甲", 10, 10, 10, 9), row("乙", 10, 10, 10, 6), row("丙", 10, 10, 10, 8)])
    # The last two places: October 丙 (50%) and 甲 (40%), November 丙 (80%) and 乙 (60%); only 丙 is in
    # both of the last two months (September no longer counts).
    two = Standards(bottom=2)
    months = {"2025-09": september, "2025-10": october, "2025-11": november}
    assert repeatedly_near_bottom(months, two) == ["丙"]
    assert repeatedly_near_bottom({"2025-11": november}, two) == []  # one month is not two


@pytest.mark.parametrize(
    "bad", [{"satisfaction": Fraction(3, 2)}, {"reply": -1}, {"bottom": 0}, {"months": True}]
)
def test_bad_standards_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        Standards(**bad)  # type: ignore[arg-type]
