"""The deadline ladder of electronic supervision (issue 14: 预警/黄牌/红牌, reminders, clearing), on SQLite
and PostgreSQL, with a FakeClock across the make-up Sunday 2025-09-28 and National Day 2025.

The fixture's limit is 3 working days from Fri 2025-09-26 10:00: Sun 09-28 (a make-up working day), Mon 09-29
and Tue 09-30, so it runs out at 09-30 24:00. Its ladder (tests/engine/fixtures/ladder/time_limits.yaml): a
warning 1 working day before (the end of Mon 09-29), two reminders 4 hours apart (Tue 04:00 and 08:00), a
yellow card when it runs out, a 督办 period of 2 working days counted on from Tue 09-30 (National Day: 10-01
to 10-08 off; Thu 10-09 and Fri 10-10), so a red card at 10-10 24:00 and a referral to fx_referral.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import InvalidInput, NaiveDatetime
from efficacy_flow.store import Store
from efficacy_flow.testing import FakeClock

LADDER = Path(__file__).parent / "fixtures" / "ladder"
CLERK = Actor("clerk", {"承办单位", "督办员", "效能办"}, "市城管局")


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CHINA_TZ)


@pytest.fixture
def ladder_engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine(LADDER)


def _start(engine: Engine) -> str:
    return engine.start("fx_ladder", {"title": "路灯不亮", "unit": "市城管局"}, CLERK).id


def _levels(engine: Engine, instance_id: str) -> list[tuple[str, datetime, datetime | None]]:
    return [(c.level, c.issued_at, c.cleared_at) for c in engine.cards(instance_id=instance_id)]


def _tick_at(engine: Engine, clock: FakeClock, when: datetime) -> None:
    clock.set(when)
    engine.tick()


def test_the_ladder_fires_at_exact_instants_across_national_day(
    ladder_engine: Engine, clock: FakeClock
) -> None:
    engine = ladder_engine
    case = _start(engine)
    task = engine.tasks(instance_id=case)[0]
    assert task.due_at == at(10, 1)

    _tick_at(engine, clock, at(9, 29, 23, 59))
    assert engine.cards(instance_id=case) == []
    _tick_at(engine, clock, at(9, 30))
    [warning] = engine.cards(instance_id=case)
    assert (warning.level, warning.label, warning.issued_at) == ("warning", "预警", at(9, 30))
    assert warning.due_at == at(10, 1)
    assert warning.unit == "市城管局"
    assert warning.task_id == task.id
    assert warning.action == "短信提醒"
    assert "[local]" in warning.source
    assert engine.tasks(instance_id=case)[0].urges == 1  # the warning urges the task

    _tick_at(engine, clock, at(9, 30, 3, 59))
    assert engine.tasks(instance_id=case)[0].urges == 1
    _tick_at(engine, clock, at(9, 30, 4))
    _tick_at(engine, clock, at(9, 30, 8))
    _tick_at(engine, clock, at(9, 30, 12))  # the reminders are used up (max 2)
    assert engine.tasks(instance_id=case)[0].urges == 3

    _tick_at(engine, clock, at(9, 30, 23, 59))
    assert [c.level for c in engine.cards(instance_id=case)] == ["warning"]
    _tick_at(engine, clock, at(10, 1))
    cards = engine.cards(instance_id=case)
    assert [c.level for c in cards] == ["warning", "yellow"]
    yellow = cards[1]
    assert yellow.issued_at == at(10, 1)
    assert yellow.due_at == at(10, 1)
    assert yellow.label == "黄牌"
    assert yellow.escalate_at == at(10, 11)  # 2 working days of 督办: Thu 10-09 and Fri 10-10
    assert yellow.action == "督办"
    assert yellow.deduction == 0
    assert [t.element_id for t in engine.tasks(instance_id=case)] == ["Task_Supervise"]

    _tick_at(engine, clock, at(10, 10, 23, 59))
    assert len(engine.cards(instance_id=case)) == 2
    _tick_at(engine, clock, at(10, 11))
    cards = engine.cards(instance_id=case)
    assert [c.level for c in cards] == ["warning", "yellow", "red"]
    red = cards[2]
    assert red.issued_at == at(10, 11)
    assert red.due_at == at(10, 11)
    assert red.label == "红牌"
    assert red.deduction == 2
    assert red.action is not None
    assert "约谈" in red.action
    assert red.unit == "市城管局"
    assert red.element_id == "Task_Handle"
    assert red.cleared_at is None
    # The referral: an accountability case started in the red card's transaction.
    referrals = engine.instances(process_id="fx_referral")
    assert len(referrals) == 1
    referred = engine.instance(referrals[0].id, unmasked=True, actor=CLERK)
    assert referred.data["subject_name"] == "市城管局"
    assert referred.data["clue"] == red.reason
    _tick_at(engine, clock, at(10, 12))  # nothing more: the red card is the last step
    assert len(engine.cards(instance_id=case)) == 3
    assert len(engine.instances(process_id="fx_referral")) == 1
    assert engine.check_consistency().ok


def test_each_card_and_reminder_is_an_outbox_event(ladder_engine: Engine, clock: FakeClock) -> None:
    engine = ladder_engine
    case = _start(engine)
    for when in (at(9, 30), at(9, 30, 4), at(10, 1)):
        _tick_at(engine, clock, when)
    events = [e for e in engine.events(limit=1000) if e.instance_id == case]
    kinds = [e.kind for e in events]
    assert kinds.count("card_issued") == 2
    assert kinds.count("urged") == 2  # the warning's and the first reminder's
    issued = [e for e in events if e.kind == "card_issued"]
    assert [e.payload["level"] for e in issued] == ["warning", "yellow"]
    assert issued[0].payload["cc"] == ["科室负责人"]
    assert issued[0].unit == "市城管局"
    urged = [e for e in events if e.kind == "urged"]
    assert "第1次" in urged[1].payload["message"]
    assert urged[1].payload["actor"] is None


def test_completing_the_step_clears_its_cards(ladder_engine: Engine, clock: FakeClock) -> None:
    engine = ladder_engine
    case = _start(engine)
    _tick_at(engine, clock, at(9, 30))
    clock.set(at(9, 30, 10))
    task = engine.tasks(instance_id=case)[0]
    engine.complete(task.id, {"reply": "已修复"}, CLERK)
    assert _levels(engine, case) == [("warning", at(9, 30), at(9, 30, 10))]
    for when in (at(9, 30, 12), at(10, 1), at(10, 11)):  # nothing left to fire
        _tick_at(engine, clock, when)
    assert len(engine.cards(instance_id=case)) == 1
    events = [e.kind for e in engine.events(limit=1000) if e.instance_id == case]
    assert "card_cleared" in events
    assert engine.check_consistency().ok


def test_a_redone_step_clears_the_yellow_card_and_no_red_follows(
    ladder_engine: Engine, clock: FakeClock
) -> None:
    engine = ladder_engine
    case = _start(engine)
    _tick_at(engine, clock, at(10, 1))  # late tick: the warning and reminders are passed over by the yellow
    assert [c.level for c in engine.cards(instance_id=case)] == ["yellow"]
    clock.set(at(10, 9, 9))
    supervise = engine.tasks(instance_id=case)[0]
    engine.complete(supervise.id, {}, CLERK)  # 督办: back to 办理, the limit counts again
    handle = engine.tasks(instance_id=case)[0]
    assert handle.element_id == "Task_Handle"
    clock.set(at(10, 10, 9))
    engine.complete(handle.id, {"reply": "已修复"}, CLERK)
    [yellow] = engine.cards(instance_id=case)
    assert yellow.cleared_at == at(10, 10, 9)
    _tick_at(engine, clock, at(10, 11))
    assert [c.level for c in engine.cards(instance_id=case)] == ["yellow"]
    assert engine.instances(process_id="fx_referral") == []


def test_a_second_yellow_card_on_the_step_is_a_written_notice_and_a_deduction(
    ladder_engine: Engine, clock: FakeClock
) -> None:
    engine = ladder_engine
    case = _start(engine)
    _tick_at(engine, clock, at(10, 1))
    clock.set(at(10, 9, 9))
    engine.complete(engine.tasks(instance_id=case)[0].id, {}, CLERK)  # 督办 → 办理 again, 3 working days
    # Counted anew from 10-09 09:00: 10-10, 10-11 (a make-up Saturday), 10-13 → runs out 10-13 24:00.
    assert engine.tasks(instance_id=case)[0].due_at == at(10, 14)
    _tick_at(engine, clock, at(10, 14))
    yellows = engine.cards(instance_id=case, level="yellow")
    assert len(yellows) == 2
    assert (yellows[1].deduction, yellows[1].action) == (1, "书面督办")


def test_suspension_before_the_warning_moves_all_three(ladder_engine: Engine, clock: FakeClock) -> None:
    engine = ladder_engine
    case = _start(engine)
    clock.set(at(9, 29, 12))
    engine.suspend(case, "等待补充材料", CLERK)  # 1 working day left: Tue 09-30
    _tick_at(engine, clock, at(10, 5))
    assert engine.cards(instance_id=case) == []  # nothing counts while suspended
    clock.set(at(10, 9, 9))
    engine.resume(case, CLERK)  # the 1 working day again from Thu 10-09: Fri 10-10, runs out 10-10 24:00
    assert engine.tasks(instance_id=case)[0].due_at == at(10, 11)
    _tick_at(engine, clock, at(10, 9, 23, 59))
    assert engine.cards(instance_id=case) == []
    _tick_at(engine, clock, at(10, 10))  # the warning: 1 working day before, the end of Thu 10-09
    assert [c.level for c in engine.cards(instance_id=case)] == ["warning"]
    _tick_at(engine, clock, at(10, 11))
    yellow = engine.cards(instance_id=case, level="yellow")[0]
    # 督办 from Fri 10-10: Sat 10-11 (a make-up working day) and Mon 10-13 → 10-13 24:00.
    assert yellow.issued_at == at(10, 11)
    assert yellow.escalate_at == at(10, 14)
    _tick_at(engine, clock, at(10, 14))
    assert [c.level for c in engine.cards(instance_id=case)] == ["warning", "yellow", "red"]
    assert engine.check_consistency().ok


def test_suspension_after_the_yellow_card_holds_the_red(ladder_engine: Engine, clock: FakeClock) -> None:
    engine = ladder_engine
    case = _start(engine)
    _tick_at(engine, clock, at(10, 1))
    clock.set(at(10, 2, 10))
    engine.suspend(case, "等待补充材料", CLERK)  # the 督办 period keeps its 2 working days (10-09, 10-10)
    _tick_at(engine, clock, at(10, 11))
    assert [c.level for c in engine.cards(instance_id=case)] == ["yellow"]
    clock.set(at(10, 13, 9))
    engine.resume(case, CLERK)  # 2 working days from Mon 10-13: Tue 10-14 and Wed 10-15
    assert engine.cards(instance_id=case)[0].escalate_at == at(10, 16)
    _tick_at(engine, clock, at(10, 15, 23, 59))
    assert [c.level for c in engine.cards(instance_id=case)] == ["yellow"]
    _tick_at(engine, clock, at(10, 16))
    assert [c.level for c in engine.cards(instance_id=case)] == ["yellow", "red"]


def test_an_extension_moves_the_ladder_with_the_limit(ladder_engine: Engine, clock: FakeClock) -> None:
    engine = ladder_engine
    case = _start(engine)
    task = engine.tasks(instance_id=case)[0]
    clock.set(at(9, 29, 9))
    engine.extend(task.id, "2个工作日", "情况复杂", CLERK)  # counted on from Tue 09-30: 10-09, 10-10
    _tick_at(engine, clock, at(9, 30))
    assert engine.cards(instance_id=case) == []  # the old warning instant passed with nothing
    _tick_at(engine, clock, at(10, 10))
    assert [c.level for c in engine.cards(instance_id=case)] == ["warning"]
    _tick_at(engine, clock, at(10, 11))
    assert [c.level for c in engine.cards(instance_id=case)] == ["warning", "yellow"]


def test_cancelling_the_case_clears_every_open_card(ladder_engine: Engine, clock: FakeClock) -> None:
    engine = ladder_engine
    case = _start(engine)
    _tick_at(engine, clock, at(10, 1))
    clock.set(at(10, 9, 9))
    engine.cancel(case, "重复工单", CLERK)
    assert [c.cleared_at for c in engine.cards(instance_id=case)] == [at(10, 9, 9)]
    _tick_at(engine, clock, at(10, 11))
    assert [c.level for c in engine.cards(instance_id=case)] == ["yellow"]


def test_cards_are_listed_by_unit_level_and_time_and_paged(ladder_engine: Engine, clock: FakeClock) -> None:
    engine = ladder_engine
    first, second = _start(engine), _start(engine)
    _tick_at(engine, clock, at(10, 1))
    everything = engine.cards()
    assert [c.level for c in everything] == ["yellow", "yellow"]
    assert {c.instance_id for c in everything} == {first, second}
    assert engine.cards(unit="市城管局", level="yellow") == everything
    assert engine.cards(unit="市住建局") == []
    assert engine.cards(since=at(10, 1), until=at(10, 1) + timedelta(seconds=1)) == everything
    assert engine.cards(until=at(10, 1)) == []
    page = engine.cards(limit=1)
    assert engine.cards(limit=1, after=page[0].id) == everything[1:]
    with pytest.raises(InvalidInput):
        engine.cards(level="orange")
    with pytest.raises(NaiveDatetime):
        engine.cards(since=datetime(2025, 10, 1))
    with pytest.raises(InvalidInput):
        engine.cards(after="no-such-card")


def test_a_whole_case_limit_beside_a_step_limit(make_engine: Callable[..., Engine], clock: FakeClock) -> None:
    """A late step shows even when the case closes on time (a city's 电子监察 rules, art. 6(3) [local]): the
    case's steps sit in a subprocess whose non-interrupting boundary timer counts the whole case (5 working
    days from Fri 09-26: runs out 10-10 24:00), while the step 办理 has its own 1-working-day limit (the
    make-up Sunday 09-28: runs out 09-28 24:00). The step's yellow card is cleared when the step is done; the
    case's warning when the case ends; both stay counted."""
    engine = make_engine(Path(__file__).parent / "fixtures" / "ladder_case")
    case = engine.start("fx_case", {"title": "路灯不亮", "unit": "市城管局"}, CLERK).id
    _tick_at(engine, clock, at(9, 29))  # the step's limit ran out at 09-28 24:00
    [step] = engine.cards(instance_id=case)
    assert (step.level, step.limit_name, step.element_id, step.unit) == (
        "yellow",
        "fx_step",
        "Task_Handle",
        "市城管局",
    )
    clock.set(at(9, 29, 9))
    engine.complete(engine.tasks(instance_id=case)[0].id, {}, CLERK)
    assert engine.cards(instance_id=case)[0].cleared_at == at(9, 29, 9)
    _tick_at(engine, clock, at(10, 10))  # one working day before the whole case runs out
    whole = engine.cards(instance_id=case, limit_name="fx_case")
    issued = [
        e for e in engine.events(limit=1000) if e.kind == "card_issued" and e.payload["limit"] == "fx_case"
    ]
    assert [e.unit for e in issued] == ["市城管局"]  # the outbox event names the unit of a whole-case card
    assert [(c.level, c.element_id, c.unit, c.cleared_at) for c in whole] == [
        ("warning", "Sub_Case", "市城管局", None)
    ]
    clock.set(at(10, 10, 9))
    view = engine.complete(engine.tasks(instance_id=case)[0].id, {}, CLERK)  # closed on time
    assert view.status == "completed"
    assert [(c.level, c.cleared_at) for c in engine.cards(instance_id=case)] == [
        ("yellow", at(9, 29, 9)),
        ("warning", at(10, 10, 9)),
    ]
    _tick_at(engine, clock, at(10, 15))  # the case is over: nothing more
    assert len(engine.cards(instance_id=case)) == 2
    assert engine.check_consistency().ok


def test_a_completion_racing_the_escalation_leaves_no_red_card(store_factory: Callable[[], Store]) -> None:
    """Competing calls (tests/engine/test_competing.py's race): engine A completes the redone step — which
    clears the yellow card — and stops just before its commit; engine B's tick() reaches the instant the 督办
    period runs out meanwhile. B's escalation waits behind A's transaction (it locks the instance first), then
    finds the card cleared: no red card, no referral, whichever way the database schedules them."""
    from tests.engine.test_competing import PauseBeforeCommit, Probe, Race

    clock = FakeClock(at(9, 26, 10))
    gate = PauseBeforeCommit()
    store_a, store_b = store_factory(), store_factory()
    store_a.before_commit = gate
    a = Engine(store=store_a, processes=LADDER, calendar=china(), clock=clock)
    b = Engine(store=store_b, processes=LADDER, calendar=china(), clock=clock)
    probe = Probe(store_b, gate)
    try:
        case = _start(a)
        _tick_at(a, clock, at(10, 1))  # the yellow card; 督办 until 10-11 00:00
        clock.set(at(10, 9, 9))
        a.complete(a.tasks(instance_id=case)[0].id, {}, CLERK)  # 督办: back to 办理
        handle = a.tasks(instance_id=case)[0]
        clock.set(at(10, 11))
        gate.arm(a, case)
        first, second = Race(a, b, clock, gate, probe).run(
            lambda: a.complete(handle.id, {"reply": "已修复"}, CLERK), b.tick
        )
        assert first.error is None
        assert second.error is None
        cards = a.cards(instance_id=case)
        assert [(c.level, c.cleared_at) for c in cards] == [("yellow", at(10, 11))]
        assert a.instances(process_id="fx_referral") == []
        assert a.check_consistency().ok
    finally:
        gate.release.set()
        probe.close()


def test_a_card_rule_that_fails_stops_neither_the_tick_nor_the_card(
    make_engine: Callable[..., Engine], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A jurisdiction's card_rules table with no rule for red cards: the escalation fails (DecisionError),
    is rolled back and logged, and tick() goes on; once the table is fixed, a later tick (after the claim's
    lease) issues the red card."""
    from efficacy_flow.policy import Decisions

    text = (LADDER / "card_rules.dmn").read_text(encoding="utf-8")
    start = text.index('<rule id="DecisionRule_red">')
    broken = Decisions.from_xml(text[:start] + text[text.index("</rule>", start) + len("</rule>") :])
    engine = make_engine(LADDER, decisions=broken)
    case = _start(engine)
    _tick_at(engine, clock, at(10, 1))  # the yellow card (its rule is there)
    with caplog.at_level("WARNING", logger="efficacy_flow.engine"):
        _tick_at(engine, clock, at(10, 11))
    assert [c.level for c in engine.cards(instance_id=case)] == ["yellow"]
    assert any("could not be escalated" in r.getMessage() for r in caplog.records)
    assert engine.instances(process_id="fx_referral") == []
    fixed = make_engine(LADDER)  # the corrected table (the folder's own), another worker
    _tick_at(fixed, clock, at(10, 11, 0, 10))  # the first claim's lease (5 minutes) has run out
    assert [c.level for c in fixed.cards(instance_id=case)] == ["yellow", "red"]
    assert len(fixed.instances(process_id="fx_referral")) == 1
    assert fixed.check_consistency().ok
