"""Bounded expressions through the engine (issue 12): each of the issue's payloads, in a script, a condition
or a timer, run by a call or by tick(), ends in a typed error naming the element, changes nothing, and the
engine serves the next call. How long each takes to stop is measured by benchmarks/bench_expressions.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.engine._generated import script_process, timed_process

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine, Limits, RetryPolicy
from efficacy_flow.errors import ExpressionLimitExceeded, UnsafeExpression
from efficacy_flow.testing import FakeClock

CLERK = Actor("c", {"受理员"})
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)
#: A short budget keeps the time payloads quick; the default is 1 s (Limits.expression_seconds).
LIMITS = Limits(expression_seconds=0.2)

#: (payload as an expression, the limit it meets)
EXPRESSIONS = [
    pytest.param("9**9**9", "size", id="power-tower"),
    pytest.param("10**10**7", "size", id="huge-power"),
    pytest.param("len('x' * 10**10)", "size", id="repeat"),
    pytest.param("sum(range(10**10))", "size", id="range"),
    pytest.param("[0] * 10**9", "size", id="list-repeat"),
]
#: (payload as a script, the limit it meets)
SCRIPTS = [
    *EXPRESSIONS,
    pytest.param("while True: pass", "time", id="while-true"),
    pytest.param("x = 0\nwhile True: x = x + 1", "time", id="busy-loop"),
    pytest.param("f = lambda n: f(n + 1)\nf(0)", "depth", id="recursion"),
]


def _engine(folder: Path, tmp_path: Path, clock: FakeClock | None = None) -> Engine:
    return Engine(
        store=f"sqlite:///{tmp_path / 'e.db'}",
        processes=folder,
        clock=clock or FakeClock(START),
        calendar=china(),
        limits=LIMITS,
        retry=RetryPolicy(attempts=1),
    )


@pytest.mark.parametrize(("payload", "limit"), SCRIPTS)
def test_a_script_payload_fails_its_call_naming_the_script(tmp_path: Path, payload: str, limit: str) -> None:
    """In a script run by start(): ExpressionLimitExceeded naming Script_Make; nothing stored; the engine
    starts the next case."""
    script = payload if "\n" in payload or payload.startswith(("while", "x =")) else f"v = {payload}"
    engine = _engine(script_process(tmp_path / "bad", script), tmp_path)
    with pytest.raises(ExpressionLimitExceeded) as raised:
        engine.start("fx_script", {}, CLERK)
    assert (raised.value.limit, raised.value.fields["element_id"]) == (limit, "Script_Make")
    assert raised.value.fields["path"] == "fx_script.bpmn"
    assert engine.instances() == []
    engine.deploy(script_process(tmp_path / "good", "v = 1", process_id="fx_good"))
    assert engine.start("fx_good", {}, CLERK).status == "active"


@pytest.mark.parametrize(("payload", "limit"), EXPRESSIONS)
def test_a_condition_payload_fails_its_call_naming_the_flow(tmp_path: Path, payload: str, limit: str) -> None:
    """In a gateway condition evaluated by complete(): the task stays ready; the error names the gateway that
    evaluates it and quotes the condition."""
    engine = _engine(script_process(tmp_path / "p", "v = 1", condition=f"{payload} > 0"), tmp_path)
    case = engine.start("fx_script", {}, CLERK)
    (task,) = case.tasks
    with pytest.raises(ExpressionLimitExceeded) as raised:
        engine.complete(task.id, {}, CLERK)
    assert raised.value.limit == limit
    assert raised.value.fields["element_id"] == "Gateway_Decide"
    assert raised.value.fields["expression"] == f"{payload} > 0"
    assert [t.id for t in engine.tasks(instance_id=case.id)] == [task.id]
    assert engine.instance(case.id).version == case.version


@pytest.mark.parametrize(
    "timer",
    [
        pytest.param("working_days(10**10**7)", id="huge-count"),
        pytest.param("hours(9**9**9)", id="power-tower"),
    ],
)
def test_a_timer_payload_fails_the_call_that_makes_it_ready(tmp_path: Path, timer: str) -> None:
    """A timer's expression runs when the timer becomes ready (here at start): ExpressionLimitExceeded naming
    the timer, nothing stored."""
    engine = _engine(timed_process(tmp_path / "p", timer=timer), tmp_path)
    with pytest.raises(ExpressionLimitExceeded) as raised:
        engine.start("fx_timed", {}, CLERK)
    assert raised.value.limit == "size"
    assert raised.value.fields["element_id"] == "Timer_Wait"
    assert engine.instances() == []


def test_a_loop_in_a_timer_expression_is_refused_at_deployment(tmp_path: Path) -> None:
    """A timer expression is one expression: a comprehension over a huge range is stopped, a statement is not
    even an expression (refused when the file is deployed)."""
    with pytest.raises(UnsafeExpression):
        _engine(timed_process(tmp_path / "p", timer="while True: pass"), tmp_path)


@pytest.mark.parametrize(("payload", "limit"), SCRIPTS)
def test_a_payload_run_by_tick_is_an_incident_and_the_others_fire(
    tmp_path: Path, payload: str, limit: str
) -> None:
    """After a timer, in tick(): the failing instance becomes an incident naming the script (its timers held);
    the healthy instance fires in the same round."""
    clock = FakeClock(START)
    script = payload if "\n" in payload or payload.startswith(("while", "x =")) else f"v = {payload}"
    folder = timed_process(tmp_path / "p", script=script, process_id="fx_timed")
    timed_process(folder, script="v = 1", process_id="fx_fine")
    engine = _engine(folder, tmp_path, clock)
    bad = engine.start("fx_timed", {}, CLERK).id
    good = engine.start("fx_fine", {}, CLERK).id
    clock.advance(timedelta(hours=1))
    fired = engine.tick()
    assert [f.instance_id for f in fired] == [good]
    (incident,) = engine.incidents()
    assert (incident.instance_id, incident.element_id, incident.error) == (
        bad,
        "Script_Late",
        "ExpressionLimitExceeded",
    )
    assert limit in incident.message or incident.message
    assert [t.element_id for t in engine.tasks(instance_id=good)] == ["Task_After"]
