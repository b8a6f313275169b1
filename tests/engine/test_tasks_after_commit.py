"""``tasks(instance_id=…)`` right after the engine's own commit on that instance answers from the rows the
commit wrote (SQLite: Store.unchanged_since), and exactly as the query would: same tasks, order, values and
time zones; after anyone else's commit it queries again (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from efficacy_flow.engine import Actor, Engine, TaskView
from efficacy_flow.store import Reader
from efficacy_flow.testing import FakeClock

DURABLE = Path(__file__).parent / "fixtures" / "durable"
OPERATOR = Actor("op", {"受理员"})
HANDLER = Actor("cb-01", {"承办单位"})
REVIEWER = Actor("sh-01", {"审核员"})


def _queried(engine: Engine, instance_id: str) -> list[TaskView]:
    """The instance's ready tasks as the store's query lists them (what tasks() returns without a cache)."""
    return [t for t in engine.tasks() if t.instance_id == instance_id]


def _reads(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the read transactions the engine's store opens from now on."""
    opened = [0]
    read = engine.store.read

    def counting() -> AbstractContextManager[Reader]:
        opened[0] += 1
        return read()

    monkeypatch.setattr(engine.store, "read", counting)
    return opened


@pytest.fixture
def utc_clock() -> FakeClock:
    """A clock that hands out UTC instants (the store gives every instant back in Asia/Shanghai)."""
    return FakeClock(datetime(2025, 9, 26, 2, 0, tzinfo=UTC))


@pytest.fixture
def two(make_engine: Callable[..., Engine], utc_clock: FakeClock) -> tuple[Engine, Engine]:
    return make_engine(DURABLE, clock=utc_clock), make_engine(DURABLE, clock=utc_clock)


def test_tasks_after_a_commit_equal_the_query(
    two: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """After start and after completing into a parallel split, tasks(instance_id) equals the query's answer
    field for field (time zones included, in ready_at then id order); on SQLite it opens no read
    transaction to say so."""
    engine, _ = two
    case = engine.start("fx_durable", {"title": "路灯不亮"}, OPERATOR)
    reads = _reads(engine, monkeypatch)
    first = engine.tasks(instance_id=case.id)
    fast = reads[0] == 0
    assert [t.element_id for t in first] == ["Task_Handle"]
    engine.complete(first[0].id, {"reply": "已办"}, HANDLER)
    after = engine.tasks(instance_id=case.id)
    assert reads[0] == (0 if fast else 2)
    assert fast == ("sqlite" in request.node.callspec.id)
    for answer in (first, after):
        assert all(t.ready_at.tzinfo is not None for t in answer)
    expected = _queried(engine, case.id)
    assert after == expected
    assert [(t.ready_at.tzinfo, t.due_at.tzinfo if t.due_at else None) for t in after] == [
        (t.ready_at.tzinfo, t.due_at.tzinfo if t.due_at else None) for t in expected
    ]
    assert {t.element_id for t in after} == {"Task_Check", "Task_Notify"}
    # The two branches became ready at one instant, so their order is by id (random): over eight more cases
    # an answer in any other order than the query's would show.
    for _ in range(8):
        more = engine.start("fx_durable", {"title": "井盖缺失"}, OPERATOR)
        engine.complete(engine.tasks(instance_id=more.id)[0].id, {"reply": "已办"}, HANDLER)
        assert engine.tasks(instance_id=more.id) == _queried(engine, more.id)


def test_another_engines_commit_is_seen(two: tuple[Engine, Engine]) -> None:
    """A second engine (as another process would) completes a task: the first engine's next tasks() shows
    it, although the first engine's own last commit was on this instance."""
    first, second = two
    case = first.start("fx_durable", {"title": "路灯不亮"}, OPERATOR)
    handle = first.tasks(instance_id=case.id)[0]
    first.complete(handle.id, {"reply": "已办"}, HANDLER)
    check = next(t for t in first.tasks(instance_id=case.id) if t.element_id == "Task_Check")
    second.complete(check.id, {"approved": True}, REVIEWER)
    assert [t.element_id for t in first.tasks(instance_id=case.id)] == ["Task_Notify"]


def test_a_later_commit_on_another_instance_ends_the_shortcut(
    two: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's own later commit on another instance ends the shortcut for the first (the store cannot
    tell which rows a commit touched): tasks() queries, and the answer is the same."""
    engine, _ = two
    case = engine.start("fx_durable", {"title": "路灯不亮"}, OPERATOR)
    engine.start("fx_durable", {"title": "井盖缺失"}, OPERATOR)
    reads = _reads(engine, monkeypatch)
    assert [t.element_id for t in engine.tasks(instance_id=case.id)] == ["Task_Handle"]
    assert reads[0] == 1
