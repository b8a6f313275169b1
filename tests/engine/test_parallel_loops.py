"""A fork and join inside a loop join per pass (runtime/specs.py LoopSafeParallelGateway): SpiffWorkflow's
stock join counts the branch that waited, and was cancelled, in an earlier pass — found by the demo's
主办/协办 tickets sent back for rework (issue 15)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from efficacy_flow.engine import Actor, Engine

LOOPS = Path(__file__).parent / "fixtures" / "loops"
UNIT = Actor("unit", ["承办单位"])
REVIEWER = Actor("reviewer", ["审核员"])
BRANCHES = ("Task_Lead", "Task_Co", "Task_Third")


def _ready(engine: Engine, instance_id: str) -> list[str]:
    return sorted(t.element_id for t in engine.tasks(instance_id=instance_id))


def _do(engine: Engine, instance_id: str, element_id: str, data: dict[str, object] | None = None) -> None:
    (task,) = [t for t in engine.tasks(instance_id=instance_id) if t.element_id == element_id]
    actor = REVIEWER if element_id == "Task_Review" else UNIT
    engine.complete(task.id, data or {}, actor)


@pytest.mark.parametrize(
    "orders",
    [
        # Each pass, the branches arrive in another order: the one that waited first in a pass is the one a
        # stale arrival would stand in for in the next.
        (("Task_Lead", "Task_Co", "Task_Third"), ("Task_Co", "Task_Third", "Task_Lead")),
        (("Task_Co", "Task_Lead", "Task_Third"), ("Task_Third", "Task_Co", "Task_Lead")),
        (("Task_Lead", "Task_Third", "Task_Co"), ("Task_Third", "Task_Co", "Task_Lead"), BRANCHES),
    ],
    ids=["two-passes", "two-passes-other-order", "three-passes"],
)
def test_each_pass_joins_only_when_all_its_branches_arrive(
    make_engine: Callable[..., Engine], orders: tuple[tuple[str, ...], ...]
) -> None:
    engine = make_engine(LOOPS)
    case = engine.start("fx_parallel_loop", {}, UNIT)
    for number, order in enumerate(orders, start=1):
        assert _ready(engine, case.id) == sorted(BRANCHES), number
        for arrived, element_id in enumerate(order, start=1):
            _do(engine, case.id, element_id)
            if arrived < len(order):  # the join waits: the review is not ready, the others still are
                assert _ready(engine, case.id) == sorted(order[arrived:]), (number, element_id)
        assert _ready(engine, case.id) == ["Task_Review"], number
        _do(engine, case.id, "Task_Review", {"passed": number == len(orders)})
    assert engine.instance(case.id).status == "completed"
    assert engine.check_consistency().ok


def test_a_pass_survives_a_restart(make_engine: Callable[..., Engine]) -> None:
    """The rule reads only the task tree, so an instance loaded from the store joins the same way."""
    engine = make_engine(LOOPS)
    case = engine.start("fx_parallel_loop", {}, UNIT)
    for element_id in BRANCHES:
        _do(engine, case.id, element_id)
    _do(engine, case.id, "Task_Review", {"passed": False})
    fresh = make_engine(LOOPS, cache_size=0)
    _do(fresh, case.id, "Task_Third")
    _do(fresh, case.id, "Task_Co")
    assert _ready(fresh, case.id) == ["Task_Lead"]
    _do(fresh, case.id, "Task_Lead")
    assert _ready(fresh, case.id) == ["Task_Review"]
