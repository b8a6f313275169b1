"""Appraisal figures by SQL (issue 14) on a real engine with the shipped processes, on SQLite and PostgreSQL:
the facts the engine keeps per case give the same counts as the per-instance indicators over a simulated
month, and each fact (response, reply, closing, limits, five-level rating, solved, dimensions) is what the
case did."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from tests._postgres import PG_DSN, fresh_schema, require_postgres

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import InvalidInput, NaiveDatetime
from efficacy_flow.metrics import (
    UNASSIGNED_LABEL,
    MetricsConfig,
    appraise,
    card_figures,
    collect_records,
    hot_spots,
    rank,
    unit_indicators,
)
from efficacy_flow.simulation import ScenarioPlan, Simulation
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
DESK = Actor("hotline", ["受理员", "审核员", "督办员", "办理不满意专区"])
CHENGGUAN = Actor("chengguan", ["承办单位"], unit="市城管局")
ZHUJIAN = Actor("zhujian", ["承办单位"], unit="市住建局")
OFFICE = Actor("office", ["效能办"])
SEPTEMBER = (datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2025, 10, 1, tzinfo=CHINA_TZ))
AUTUMN = (datetime(2025, 9, 1, tzinfo=CHINA_TZ), datetime(2026, 1, 1, tzinfo=CHINA_TZ))


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=CHINA_TZ)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgresql":
        require_postgres()
        opened = Store(PG_DSN, schema=fresh_schema())
    else:
        opened = Store(f"sqlite:///{tmp_path / 'appraisal.db'}")
    yield opened
    if request.param == "postgresql":
        opened.drop_schema()
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(9, 26))


@pytest.fixture
def engine(store: Store, clock: FakeClock) -> Engine:
    return Engine(store, PROCESSES, china(), clock)


def _do(engine: Engine, instance_id: str, element_id: str, data: dict[str, object], actor: Actor) -> None:
    (task,) = [t for t in engine.tasks(instance_id) if t.element_id == element_id]
    engine.complete(task.id, data, actor)


def _ticket(engine: Engine, key: str, unit: str, actor: Actor, **extra: object) -> str:
    ticket = {"title": "路灯不亮", "content": "小区路灯已坏一周", **extra}
    view = engine.start("complaint_closure", ticket, DESK, business_key=key)
    _do(engine, view.id, "Task_Dispatch", {"unit": unit}, DESK)
    return view.id


def _finish(engine: Engine, case: str, actor: Actor, rating: str, solved: bool | None) -> None:
    _do(engine, case, "Task_Handle", {"reply": "已修复"}, actor)
    _do(engine, case, "Task_SignOff", {"signed_off": True}, Actor("head", ["单位负责人"], unit=actor.unit))
    _do(engine, case, "Task_Review", {"review_passed": True}, DESK)
    _do(engine, case, "Task_Reply", {"reply_channel": "电话"}, DESK)
    payload: dict[str, object] = {"rating": rating}
    if solved is not None:
        payload["solved"] = solved
    engine.message("rating", payload, {"instance_id": case})


def test_each_fact_is_what_the_case_did(engine: Engine, clock: FakeClock) -> None:
    """Three tickets of two units across National Day: one signed at once, handled and rated 非常满意
    (solved); one signed after its 24-hour window ran out (deemed signed: late), rated 非常不满意 and then
    reworked; one whose handling limit ran out (not on time). Then the figures per unit and for all."""
    first = _ticket(engine, "GD1", "市城管局", CHENGGUAN, region="东区", case_type="投诉", sector="市政")
    _do(engine, first, "Task_Acknowledge", {"ack_decision": "签收"}, CHENGGUAN)
    _finish(engine, first, CHENGGUAN, "非常满意", True)

    late = _ticket(engine, "GD2", "市住建局", ZHUJIAN, region="西区", case_type="求助", sector="住房")
    clock.set(at(9, 27, 11))  # the 24-hour return window has run out: deemed signed (视为签收)
    engine.tick()
    assert [t.element_id for t in engine.tasks(late)] == ["Task_Handle"]
    _finish(engine, late, ZHUJIAN, "非常不满意", False)

    overdue = _ticket(engine, "GD3", "市城管局", CHENGGUAN, region="东区", case_type="投诉", sector="市政")
    _do(engine, overdue, "Task_Acknowledge", {"ack_decision": "签收"}, CHENGGUAN)
    clock.set(at(10, 15))  # 5 working days from 09-27, across National Day: run out on 10-11 00:00
    engine.tick()
    _do(engine, overdue, "Task_Supervise", {"supervision_opinion": "抓紧办理"}, DESK)
    _finish(engine, overdue, CHENGGUAN, "满意", None)

    rows = {r.key["unit"]: r for r in appraise(engine, *AUTUMN)}
    assert set(rows) == {"市城管局", "市住建局"}
    cheng, zhu = rows["市城管局"], rows["市住建局"]
    assert (cheng.received, cheng.responded, cheng.responded_on_time) == (2, 2, 2)
    assert (cheng.closed, cheng.closed_on_time, cheng.rated, cheng.satisfied, cheng.bad) == (2, 1, 2, 2, 0)
    assert (cheng.solved_answered, cheng.solved) == (1, 1)
    assert cheng.on_time_rate == Fraction(1, 2)
    assert cheng.satisfaction_rate == 1
    assert (zhu.received, zhu.responded, zhu.responded_on_time) == (1, 1, 0)
    assert zhu.response_rate == 0
    # Rated 非常不满意: reworked, so not closed yet; a bad rating; not solved.
    assert (zhu.closed, zhu.rated, zhu.satisfied, zhu.bad, zhu.solved_answered, zhu.solved) == (
        0,
        1,
        0,
        1,
        1,
        0,
    )
    assert zhu.bad_rate == 1
    assert zhu.solution_rate == 0

    [everything] = appraise(engine, *AUTUMN, by=())
    assert (everything.received, everything.closed, everything.bad) == (3, 2, 1)
    by_region = {
        tuple(r.key.values()): r.received for r in appraise(engine, *AUTUMN, by=("region", "case_type"))
    }
    assert by_region == {("东区", "投诉"): 2, ("西区", "求助"): 1}
    assert [r.key for r in appraise(engine, *AUTUMN, by=("period",))] == [{"period": "2025-09"}]
    assert appraise(engine, datetime(2025, 10, 1, tzinfo=CHINA_TZ), AUTUMN[1]) == []
    # Stricter formulas: only the top two count as satisfied.
    strict = MetricsConfig(satisfied_ratings=frozenset({"非常满意", "满意"}))
    assert {r.key["unit"]: r.satisfied for r in appraise(engine, *AUTUMN, config=strict)} == {
        "市城管局": 2,
        "市住建局": 0,
    }
    ranked = rank(appraise(engine, *AUTUMN))
    assert [(n, r.key["unit"]) for n, r in ranked] == [(1, "市城管局"), (2, "市住建局")]


def test_a_cancelled_ticket_is_not_counted(engine: Engine) -> None:
    kept = _ticket(engine, "GD1", "市城管局", CHENGGUAN)
    void = _ticket(engine, "GD2", "市城管局", CHENGGUAN)
    engine.cancel(void, "重复工单", DESK, duplicate_of=kept)
    [row] = appraise(engine, *AUTUMN)
    assert row.received == 1


def test_the_sql_figures_equal_the_per_instance_indicators_over_a_simulated_month(
    engine: Engine, clock: FakeClock
) -> None:
    """The demo's scenario (tickets, the window, ratings, rework, National Day): per unit, the SQL counts of
    each process are the counts :func:`unit_indicators` makes from the audit history of every instance."""
    plan = ScenarioPlan(seed=11, tickets=40, window_cases=8, start=date(2025, 9, 22), end=date(2025, 10, 24))
    clock.set(datetime(2025, 9, 22, tzinfo=CHINA_TZ))
    result = Simulation(engine, clock, china(), plan).run()
    records = collect_records(engine, result.instance_ids, reader=OFFICE)
    compared = 0
    for process_id in ("complaint_closure", "window_escalation"):
        expected = {
            r.unit: (r.received, r.closed, r.closed_on_time, r.rated, r.satisfied)
            for r in unit_indicators(records.cases, process_id=process_id)
        }
        found = {
            (r.key["unit"] or UNASSIGNED_LABEL): (
                r.received,
                r.closed,
                r.closed_on_time,
                r.rated,
                r.satisfied,
            )
            for r in appraise(engine, *AUTUMN, process_id=process_id)
        }
        assert found == expected, process_id
        compared += sum(v[0] for v in expected.values())
    assert compared == 48


def test_bad_requests_are_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        appraise(engine, *SEPTEMBER, by=("colour",))
    with pytest.raises(InvalidInput):
        appraise(engine, *SEPTEMBER, by="unit")
    with pytest.raises(InvalidInput):
        appraise(engine, *SEPTEMBER, by=("unit", "unit"))
    with pytest.raises(NaiveDatetime):
        appraise(engine, datetime(2025, 9, 1), SEPTEMBER[1])
    with pytest.raises(InvalidInput):
        rank([], by=("speed",))


def test_card_figures_count_cards_and_deductions_per_unit(store: Store, clock: FakeClock) -> None:
    ladder = Path(__file__).resolve().parents[1] / "engine" / "fixtures" / "ladder"
    engine = Engine(store, ladder, china(), clock)
    clerk = Actor("clerk", {"承办单位", "督办员"})
    for unit in ("市城管局", "市城管局", "市住建局"):
        engine.start("fx_ladder", {"title": "路灯不亮", "unit": unit}, clerk)
    for when in (at(9, 30, 0), at(10, 1, 0), at(10, 11, 0)):
        clock.set(when)
        engine.tick()
    figures = {f.unit: (f.warnings, f.yellow, f.red, f.deduction) for f in card_figures(engine, *AUTUMN)}
    assert figures == {"市城管局": (2, 2, 2, 4.0), "市住建局": (1, 1, 1, 2.0)}
    assert [f.unit for f in card_figures(engine, *AUTUMN)] == ["市城管局", "市住建局"]
    # Only the warnings fell in September (09-30 00:00: one working day before the limits ran out).
    september = {f.unit: (f.warnings, f.yellow, f.red) for f in card_figures(engine, *SEPTEMBER)}
    assert september == {"市城管局": (2, 0, 0), "市住建局": (1, 0, 0)}


def test_hot_spots_are_the_busiest_categories_then_the_most_repeated(
    engine: Engine, clock: FakeClock
) -> None:
    """热点难点 (seed 000 §三(二)): categories by volume, then repeat rate (重复诉求: a ticket naming the
    earlier one it repeats); weeks are ISO weeks in China time."""
    tickets = [("GD1", "路灯", None), ("GD2", "路灯", "GD1"), ("GD3", "噪音", None), ("GD4", "噪音", None)]
    tickets += [("GD5", "占道", None), ("GD6", "占道", "GD5")]
    for key, category, repeat in tickets:
        extra: dict[str, object] = {"category": category}
        if repeat:
            extra["repeat_of"] = repeat
        _ticket(engine, key, "市城管局", CHENGGUAN, **extra)
    clock.set(at(9, 29))  # the next ISO week
    _ticket(engine, "GD7", "市城管局", CHENGGUAN, category="噪音")
    spots = hot_spots(engine, *AUTUMN, top=2)
    assert [(r.key["category"], r.received, r.repeats) for r in spots] == [("噪音", 3, 0), ("占道", 2, 1)]
    assert spots[1].repeat_rate == Fraction(1, 2)
    assert [r.key["category"] for r in hot_spots(engine, *AUTUMN)] == ["噪音", "占道", "路灯"]
    weeks = {r.key["week"]: r.received for r in appraise(engine, *AUTUMN, by=("week",))}
    assert weeks == {"2025-W39": 6, "2025-W40": 1}
    with pytest.raises(InvalidInput):
        hot_spots(engine, *AUTUMN, top=0)


@pytest.mark.parametrize("by", [({"a": 1},), [["unit"]], 5, (None,)])
def test_odd_dimensions_raise_a_typed_error(engine: Engine, by: object) -> None:
    with pytest.raises(InvalidInput):
        appraise(engine, *AUTUMN, by=by)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        rank([], by=by)  # type: ignore[arg-type]
