"""Incidents instead of a stuck tick (issue 12; Camunda 7's failed-job semantics).

A step that fails inside ``tick()`` or ``message()`` is rolled back, retried with backoff (RetryPolicy) and
then kept as an incident; every other due timer fires in the same round; the failing instance's timers are
held meanwhile; an operator retries it after the repair; the consistency checker reports open incidents.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine, Incident, RetryPolicy
from efficacy_flow.errors import InvalidInput, InvalidState, ScriptError, UnknownIncident
from efficacy_flow.testing import FakeClock

STEPS = Path(__file__).parent / "fixtures" / "steps"
CLERK = Actor("clerk", {"受理员", "承办单位"})
OPERATOR = Actor("ops-1")
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
POLICY = RetryPolicy(attempts=3, delay=timedelta(seconds=30), factor=2)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def engine(make_engine: Callable[..., Engine], clock: FakeClock) -> Engine:
    return make_engine(STEPS, clock=clock, retry=POLICY)


def _start(engine: Engine, divisor: int, phone: str = "") -> str:
    return engine.start("fx_divide", {"divisor": divisor, "note": phone}, CLERK).id


def _incident_of(engine: Engine, instance_id: str) -> Any:
    with engine.store.read() as reader:
        (record,) = reader.incidents(instance_id=instance_id, statuses=("retrying", "open", "resolved"))
    return record


def test_one_failing_instance_does_not_stop_the_others(engine: Engine, clock: FakeClock) -> None:
    """Of five instances due at once, the one whose step fails is recorded for a retry; the four others fire
    in the same round, and nothing is left claimed."""
    ids = [_start(engine, d) for d in (1, 2, 0, 4, 5)]
    clock.advance(timedelta(hours=1))
    fired = engine.tick()
    assert sorted(f.instance_id for f in fired) == sorted(ids[:2] + ids[3:])
    failing = ids[2]
    record = _incident_of(engine, failing)
    assert (record.status, record.attempts, record.error, record.element_id) == (
        "retrying",
        1,
        "ScriptError",
        "Script_Divide",
    )
    assert record.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert engine.instance(failing).incident_id == record.id
    with engine.store.read() as reader:
        assert reader.claimed_rows() == []
        assert {d.incident_id for d in reader.deadlines_of(failing)} == {record.id}
    for other in ids[:2] + ids[3:]:
        assert [t.element_id for t in engine.tasks(instance_id=other)] == ["Task_After"]
    assert engine.tick() == []  # held: not claimed again before its retry is due


def test_retries_follow_the_backoff_then_an_incident_opens(engine: Engine, clock: FakeClock) -> None:
    """Attempt 1 fails at the due time, attempt 2 after 30 s, attempt 3 after 60 s more: then the incident is
    open (incidents() lists it) and nothing retries it any more. Each attempt is audited."""
    failing = _start(engine, 0)
    clock.advance(timedelta(hours=1))
    engine.tick()
    clock.advance(timedelta(seconds=29))
    engine.tick()
    assert _incident_of(engine, failing).attempts == 1  # not yet
    clock.advance(timedelta(seconds=1))
    engine.tick()
    record = _incident_of(engine, failing)
    assert (record.attempts, record.status) == (2, "retrying")
    assert record.next_attempt_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    engine.tick()
    record = _incident_of(engine, failing)
    assert (record.attempts, record.status, record.next_attempt_at) == (3, "open", None)
    (incident,) = engine.incidents()
    assert isinstance(incident, Incident)
    assert (incident.id, incident.instance_id, incident.element_id, incident.error, incident.attempts) == (
        record.id,
        failing,
        "Script_Divide",
        "ScriptError",
        3,
    )
    assert incident.created_at == START + timedelta(hours=1)
    assert "ZeroDivisionError" in incident.message
    assert engine.incidents(instance_id=failing) == [incident]
    clock.advance(timedelta(days=1))
    engine.tick()
    assert _incident_of(engine, failing).attempts == 3  # an open incident waits for an operator
    kinds = [e.kind for e in engine.history(failing)]
    assert kinds.count("step_failed") == 3
    assert engine.verify_history(failing).ok


def test_an_incident_message_masks_personal_data(engine: Engine, clock: FakeClock) -> None:
    """The incident's message is what an operator reads: phone numbers in it are masked."""
    failing = engine.start("fx_divide", {"divisor": "13812345678"}, CLERK).id  # str // : a TypeError
    clock.advance(timedelta(hours=1))
    engine.tick()
    record = _incident_of(engine, failing)
    assert "13812345678" not in record.message
    assert record.error == "ScriptError"


def test_retry_incident_after_the_repair_resolves_it(
    make_engine: Callable[..., Engine], clock: FakeClock, tmp_path: Path
) -> None:
    """The repair is a corrected decision table (DMN is read live: a new engine on the same store loads it);
    retry_incident then runs the step, resolves the incident with the operator's name, unholds the timers, and
    the store is consistent. Before that, check_consistency reports the open incident."""
    broken, fixed = STEPS.parent / "decide", tmp_path / "fixed"
    shutil.copytree(broken, fixed)
    dmn = fixed / "fx_level.dmn"
    second_rule = """<rule id="Rule_second">
        <inputEntry id="UnaryTests_second"><text>"乙"</text></inputEntry>
        <outputEntry id="LiteralExpression_second"><text>"二级"</text></outputEntry>
      </rule>
    </decisionTable>"""
    dmn.write_text(dmn.read_text(encoding="utf-8").replace("</decisionTable>", second_rule), encoding="utf-8")
    engine = make_engine(broken, clock=clock, retry=RetryPolicy(attempts=1))
    instance_id = engine.start("fx_decide", {"grade": "乙"}, CLERK).id
    clock.advance(timedelta(hours=1))
    engine.tick()
    (incident,) = engine.incidents()
    assert incident.error == "DecisionError"
    report = engine.check_consistency()
    assert {(f.instance_id, f.check) for f in report.findings} == {(instance_id, "open_incident")}

    repaired = make_engine(fixed, clock=clock, retry=RetryPolicy(attempts=1))
    view = repaired.retry_incident(incident.id, OPERATOR)
    assert view.incident_id is None
    assert [t.element_id for t in view.tasks] == ["Task_Done"]
    assert view.data["level"] == "二级"
    assert repaired.incidents() == []
    assert _incident_of(repaired, instance_id).status == "resolved"
    resolved = [e for e in repaired.history(instance_id) if e.kind == "incident_resolved"]
    assert [(e.actor, e.after["incident_id"]) for e in resolved] == [("ops-1", incident.id)]
    assert repaired.check_consistency().ok
    with repaired.store.read() as reader:
        assert all(d.incident_id is None for d in reader.deadlines_of(instance_id))


def test_a_retry_that_fails_again_raises_and_stays_open(engine: Engine, clock: FakeClock) -> None:
    """retry_incident on an unrepaired step raises the step's error and records one more attempt."""
    failing = _start(engine, 0)
    clock.advance(timedelta(hours=1))
    for _ in range(3):
        engine.tick()
        clock.advance(timedelta(minutes=5))
    (incident,) = engine.incidents()
    with pytest.raises(ScriptError):
        engine.retry_incident(incident.id, OPERATOR)
    (again,) = engine.incidents()
    assert (again.id, again.attempts) == (incident.id, 4)
    assert engine.instance(failing).incident_id == incident.id


def test_retry_incident_refuses_what_it_cannot_retry(engine: Engine, clock: FakeClock) -> None:
    """An unknown id is UnknownIncident, a resolved one InvalidState, a bad actor InvalidInput."""
    with pytest.raises(UnknownIncident):
        engine.retry_incident("00000000-0000-4000-8000-000000000000", OPERATOR)
    with pytest.raises(InvalidInput):
        engine.retry_incident("x", None)  # type: ignore[arg-type]
    failing = _start(engine, 0)
    clock.advance(timedelta(hours=1))
    engine.tick()
    record = _incident_of(engine, failing)
    with engine.store.transaction() as tx:  # the step repaired by hand: divisor no longer read
        tx.update_incident(record.id, status="resolved")
    with pytest.raises(InvalidState):
        engine.retry_incident(record.id, OPERATOR)


def test_a_moot_retry_resolves_itself(engine: Engine, clock: FakeClock) -> None:
    """An instance suspended after its step failed (its timers held anyway) has nothing to retry: the due
    retry resolves the incident and unparks the rows; resuming then runs the step as resume always does."""
    failing = _start(engine, 0)
    clock.advance(timedelta(hours=1))
    engine.tick()
    engine.suspend(failing, "等待补正", CLERK)
    clock.advance(timedelta(minutes=1))
    engine.tick()
    assert _incident_of(engine, failing).status == "resolved"
    assert engine.instance(failing).incident_id is None


def test_a_failing_message_is_kept_and_retried(make_engine: Callable[..., Engine], clock: FakeClock) -> None:
    """A message whose step fails is kept: the call returns the instance unchanged with its incident, tick()
    retries the delivery with backoff, and after the repair-free attempts the incident is open; the payload
    survives to the last attempt."""
    engine = make_engine(STEPS.parent / "decide", clock=clock, retry=RetryPolicy(attempts=2))
    instance_id = engine.start("fx_decide_message", {}, CLERK).id
    view = engine.message("verdict", {"grade": "丙"}, {"instance_id": instance_id})
    assert view.incident_id is not None
    assert view.version == 1  # unchanged: the message's step was rolled back
    record = _incident_of(engine, instance_id)
    assert (record.kind, record.status, record.attempts) == ("message", "retrying", 1)
    clock.advance(timedelta(seconds=30))
    engine.tick()
    (incident,) = engine.incidents()
    assert (incident.kind, incident.attempts, incident.error) == ("message", 2, "DecisionError")
    with pytest.raises(InvalidState):  # a caller's message to an instance not waiting for it is refused
        engine.message("nothing", {}, {"instance_id": instance_id})


def test_retry_policy_waits_and_validation() -> None:
    """Waits double from the first delay up to max_delay; the last attempt has no wait; bad values refused."""
    policy = RetryPolicy(attempts=5, delay=timedelta(seconds=10), factor=3, max_delay=timedelta(minutes=2))
    assert [policy.wait_after(n) for n in range(1, 6)] == [
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(seconds=90),
        timedelta(minutes=2),
        None,
    ]
    for bad in (
        {"attempts": 0},
        {"attempts": True},
        {"delay": timedelta(seconds=-1)},
        {"factor": 0.5},
        {"max_delay": timedelta(0), "delay": timedelta(seconds=1)},
    ):
        with pytest.raises(InvalidInput):
            RetryPolicy(**bad)  # type: ignore[arg-type]
