"""Timers a modeler writes as a Duration (issue 15, item 3): ``<bpmn:timeDuration>`` in ISO 8601, elapsed or
counted on a calendar the timer names (``ef:calendar``, or Flowable's ``businessCalendarName``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from efficacy_flow.calendar import CALENDAR_DAYS, HOURS, MINUTES, MONTHS, WORKING_DAYS, TimeLimit, china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._durations import (
    DurationRefused,
    add_elapsed,
    duration_limit,
    elapsed_limit,
    parse_cycle,
    parse_duration,
)
from efficacy_flow.errors import ProcessDefinitionError
from efficacy_flow.testing import FakeClock

ROLE = "承办单位"
CLERK = Actor("clerk-1", [ROLE])
EF = "https://efficacy-flow.org/schema/bpmn"
FLOWABLE = "http://flowable.org/bpmn"


def _timer_process(timer: str, *, attributes: str = "") -> str:
    """A one-task process whose task carries an interrupting boundary timer defined by ``timer``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:ef="{EF}"
    xmlns:flowable="{FLOWABLE}" id="Defs_fx_duration" targetNamespace="http://efficacy-flow.test/fixtures">
  <bpmn:process id="fx_duration" name="测试：时长" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="{ROLE}"><bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>
    <bpmn:userTask id="Task_1" name="办理"/>
    <bpmn:boundaryEvent id="Timer_Limit" name="办理期满" attachedToRef="Task_1">
      <bpmn:timerEventDefinition id="TimerDef_1"{attributes}>{timer}</bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="EndEvent_1"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Timer_Limit" targetRef="EndEvent_2"/>
    <bpmn:endEvent id="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_2"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _folder(tmp_path: Path, text: str, limits: str | None = None) -> Path:
    folder = tmp_path / "processes"
    folder.mkdir(exist_ok=True)
    (folder / "fx_duration.bpmn").write_text(text, encoding="utf-8")
    if limits is not None:
        (folder / "time_limits.yaml").write_text(limits, encoding="utf-8")
    return folder


def _due(make_engine: Callable[..., Engine], folder: Path) -> datetime:
    engine = make_engine(folder)
    instance = engine.start("fx_duration", {}, CLERK)
    (task,) = engine.tasks(instance_id=instance.id)
    assert task.due_at is not None
    return task.due_at


# The test clock starts Friday 2025-09-26 10:00 (Beijing): Sunday 09-28 is a make-up working day (调休上班),
# 10-01..10-08 the National Day holiday, 10-11 (Saturday) a make-up working day.
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("timer", "attributes", "expected"),
    [
        # Elapsed time, as Camunda means it: 5 × 24 hours, the holiday notwithstanding.
        ("<bpmn:timeDuration>P5D</bpmn:timeDuration>", "", START + timedelta(days=5)),
        ("<bpmn:timeDuration>PT2H30M</bpmn:timeDuration>", "", START + timedelta(hours=2, minutes=30)),
        ("<bpmn:timeDuration>P1M</bpmn:timeDuration>", "", datetime(2025, 10, 26, 10, 0, tzinfo=CHINA_TZ)),
        # 5 working days from Friday 09-26: 09-28 (make-up Sunday), 09-29, 09-30, 10-09, 10-10; ends 24:00.
        (
            "<bpmn:timeDuration>P5D</bpmn:timeDuration>",
            ' ef:calendar="working_days"',
            datetime(2025, 10, 11, 0, 0, tzinfo=CHINA_TZ),
        ),
        # Flowable's attribute counts the same.
        (
            "<bpmn:timeDuration>P5D</bpmn:timeDuration>",
            ' flowable:businessCalendarName="working_days"',
            datetime(2025, 10, 11, 0, 0, tzinfo=CHINA_TZ),
        ),
        # 7 calendar days end on 10-03, a holiday: rolled to the next working day, 10-09 (民法典 第203条).
        (
            "<bpmn:timeDuration>P7D</bpmn:timeDuration>",
            ' ef:calendar="calendar_days"',
            datetime(2025, 10, 10, 0, 0, tzinfo=CHINA_TZ),
        ),
        ("<bpmn:timeDuration>P1W</bpmn:timeDuration>", ' ef:calendar="calendar_days"', None),
        # Hours on a calendar are elapsed hours.
        (
            "<bpmn:timeDuration>PT4H</bpmn:timeDuration>",
            ' ef:calendar="working_days"',
            START + timedelta(hours=4),
        ),
    ],
    ids=[
        "elapsed-days",
        "elapsed-hours-minutes",
        "elapsed-month",
        "working-days",
        "flowable-attribute",
        "calendar-days-rolled",
        "calendar-weeks",
        "working-calendar-hours",
    ],
)
def test_duration_counts_as_its_calendar_says(
    make_engine: Callable[..., Engine], tmp_path: Path, timer: str, attributes: str, expected: datetime | None
) -> None:
    """The due instant of a timeDuration timer: elapsed without a calendar, counted on the one named."""
    due = _due(make_engine, _folder(tmp_path, _timer_process(timer, attributes=attributes)))
    if expected is None:  # P1W = P7D on calendar days
        expected = china().due(START, TimeLimit(7, CALENDAR_DAYS)).due_at
    assert due == expected


def test_duration_fires_at_its_due_instant(
    make_engine: Callable[..., Engine], tmp_path: Path, clock: FakeClock
) -> None:
    """A working-day duration fires at the instant the calendar gives, not before."""
    folder = _folder(
        tmp_path,
        _timer_process(
            "<bpmn:timeDuration>P2D</bpmn:timeDuration>", attributes=' ef:calendar="working_days"'
        ),
    )
    engine = make_engine(folder)
    instance = engine.start("fx_duration", {}, CLERK)
    due = datetime(2025, 9, 30, 0, 0, tzinfo=CHINA_TZ)  # 09-28 (make-up Sunday), 09-29
    clock.set(due - timedelta(seconds=1))
    assert engine.tick() == []
    clock.set(due)
    fired = engine.tick()
    assert [f.element_id for f in fired] == ["Timer_Limit"]
    assert engine.instance(instance.id).status == "completed"


def test_duration_expression_may_give_a_limit_or_a_duration(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """A designer who switches the Modeler's Type from Date to Duration keeps the time_limit(...) text: it
    still counts by the table; an expression giving a duration text is counted on the named calendar."""
    limits = (
        "version: 1\njurisdiction: 测试\nlimits:\n"
        "  handling: {label: 办理时限, limit: 5个工作日, source: '[setting] test'}\n"
    )
    folder = _folder(
        tmp_path,
        _timer_process('<bpmn:timeDuration>time_limit("handling")</bpmn:timeDuration>'),
        limits,
    )
    assert _due(make_engine, folder) == datetime(2025, 10, 11, 0, 0, tzinfo=CHINA_TZ)
    folder = _folder(
        tmp_path,
        _timer_process(
            "<bpmn:timeDuration>'P' + '2' + 'D'</bpmn:timeDuration>", attributes=' ef:calendar="working_days"'
        ),
    )
    assert _due(make_engine, folder) == datetime(2025, 9, 30, 0, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("timer", "attributes", "message"),
    [
        ("<bpmn:timeDuration>P1DT2H</bpmn:timeDuration>", ' ef:calendar="working_days"', "exactly one part"),
        ("<bpmn:timeDuration>P1W</bpmn:timeDuration>", ' ef:calendar="working_days"', "weeks are not"),
        ("<bpmn:timeDuration>PT30S</bpmn:timeDuration>", ' ef:calendar="calendar_days"', "no seconds"),
        ("<bpmn:timeDuration>P5D</bpmn:timeDuration>", ' ef:calendar="lunar"', "names calendar 'lunar'"),
        (
            "<bpmn:timeDate>2025-10-01T09:00:00+08:00</bpmn:timeDate>",
            ' ef:calendar="working_days"',
            "only a <bpmn:timeDuration>",
        ),
        ("", "", "needs a <bpmn:timeDate>, a <bpmn:timeDuration> or a <bpmn:timeCycle>"),
    ],
    ids=["two-parts", "weeks-on-working-days", "seconds", "unknown-calendar", "calendar-on-date", "empty"],
)
def test_durations_a_calendar_cannot_count_are_refused_at_deployment(
    make_engine: Callable[..., Engine], tmp_path: Path, timer: str, attributes: str, message: str
) -> None:
    """Refused when deployed, naming the file and the timer, with what to write instead."""
    folder = _folder(tmp_path, _timer_process(timer, attributes=attributes))
    with pytest.raises(ProcessDefinitionError) as caught:
        make_engine(folder)
    assert message in caught.value.message
    assert caught.value.fields["element_id"] == "Timer_Limit"
    assert "fx_duration.bpmn" in caught.value.message


def test_an_expression_giving_a_bad_duration_fails_naming_the_timer(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """A computed duration the calendar cannot count fails when the timer starts, as a typed error."""
    folder = _folder(
        tmp_path,
        _timer_process(
            "<bpmn:timeDuration>'P1DT' + '2H'</bpmn:timeDuration>", attributes=' ef:calendar="working_days"'
        ),
    )
    engine = make_engine(folder)
    with pytest.raises(ProcessDefinitionError) as caught:
        engine.start("fx_duration", {}, CLERK)
    assert "exactly one part" in caught.value.message
    assert caught.value.fields["element_id"] == "Timer_Limit"
    assert engine.instances() == []


# -- the parsing functions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("P5D", {"D": 5}),
        ("p5d", {"D": 5}),
        ("PT4H", {"H": 4}),
        ("P1Y2M3DT4H5M6S", {"Y": 1, "MO": 2, "D": 3, "H": 4, "MI": 5, "S": 6}),
        ("P2W", {"W": 2}),
        ("PT", None),
        ("P", None),
        ("P1DT", None),
        ("P1.5D", None),
        ("5D", None),
        ("2025-10-01", None),
    ],
)
def test_parse_duration(text: str, parts: dict[str, int] | None) -> None:
    assert parse_duration(text) == parts


def test_duration_limits_on_each_calendar() -> None:
    assert duration_limit({"D": 3}, "working_days") == TimeLimit(3, WORKING_DAYS)
    assert duration_limit({"D": 3}, "calendar_days") == TimeLimit(3, CALENDAR_DAYS)
    assert duration_limit({"W": 2}, "calendar_days") == TimeLimit(14, CALENDAR_DAYS)
    assert duration_limit({"MO": 2}, "working_days") == TimeLimit(2, MONTHS)
    assert duration_limit({"Y": 1}, "calendar_days") == TimeLimit(12, MONTHS)
    assert duration_limit({"MI": 90}, "working_days") == TimeLimit(90, MINUTES)
    assert duration_limit({"D": 0, "H": 5}, "working_days") == TimeLimit(5, HOURS)
    with pytest.raises(DurationRefused):
        duration_limit({"D": 0}, "working_days")


def test_elapsed_durations() -> None:
    assert elapsed_limit({"D": 1, "H": 2}) == TimeLimit(26, HOURS)
    assert elapsed_limit({"H": 1, "MI": 30}) == TimeLimit(90, MINUTES)
    assert elapsed_limit({"MO": 1}) is None
    assert elapsed_limit({"S": 30}) is None
    # Months on the calendar: 01-31 + P1M is the month's last day.
    start = datetime(2025, 1, 31, 9, 0, tzinfo=CHINA_TZ)
    assert add_elapsed(start, {"MO": 1}) == datetime(2025, 2, 28, 9, 0, tzinfo=CHINA_TZ)
    assert add_elapsed(start, {"Y": 1, "MO": 1, "D": 1}) == datetime(2026, 3, 1, 9, 0, tzinfo=CHINA_TZ)
    assert add_elapsed(start, {"S": 30}) == start + timedelta(seconds=30)


def test_parse_cycle() -> None:
    cycle = parse_cycle("R3/P1D")
    assert cycle is not None
    assert (cycle.repeats, cycle.every) == (3, {"D": 1})
    unbounded = parse_cycle("R/PT4H")
    assert unbounded is not None
    assert unbounded.repeats is None
    assert parse_cycle("P1D") is None
    assert parse_cycle("R3/2025-10-01T09:00/P1D") is None
    assert parse_cycle("Rx/P1D") is None


# -- timeCycle: repeated reminders -------------------------------------------------------------------------


def _cycle_process(cycle: str, *, attributes: str = "", interrupting: bool = False) -> str:
    """A one-task process whose task carries a boundary cycle timer (non-interrupting unless asked)."""
    cancel = "" if interrupting else ' cancelActivity="false"'
    return _timer_process("", attributes="").replace(
        '<bpmn:boundaryEvent id="Timer_Limit" name="办理期满" attachedToRef="Task_1">\n'
        '      <bpmn:timerEventDefinition id="TimerDef_1"></bpmn:timerEventDefinition>',
        f'<bpmn:boundaryEvent id="Timer_Limit" name="催办"{cancel} attachedToRef="Task_1">\n'
        f'      <bpmn:timerEventDefinition id="TimerDef_1"{attributes}>'
        f"<bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>",
    )


def _fired(engine: Engine, instance_id: str) -> int:
    return sum(1 for e in engine.history(instance_id) if e.kind == "timer_fired")


def test_cycle_fires_its_repeats_on_working_days(
    make_engine: Callable[..., Engine], tmp_path: Path, clock: FakeClock
) -> None:
    """R3/P1D on working days from Friday 09-26 10:00: at the end of 09-28 (make-up Sunday), 09-29 and 09-30,
    each once; the task stays ready throughout, and nothing fires after the third."""
    text = _cycle_process("R3/P1D", attributes=' ef:calendar="working_days"')
    assert "<bpmn:timeCycle>R3/P1D</bpmn:timeCycle>" in text
    engine = make_engine(_folder(tmp_path, text))
    case = engine.start("fx_duration", {}, CLERK)
    (task,) = engine.tasks(instance_id=case.id)
    assert task.due_at is None  # a reminder is not the task's limit
    dues = [datetime(2025, 9, day, 0, 0, tzinfo=CHINA_TZ) for day in (29, 30)]
    dues.append(datetime(2025, 10, 1, 0, 0, tzinfo=CHINA_TZ))
    for n, due in enumerate(dues, start=1):
        clock.set(due - timedelta(minutes=1))
        assert engine.tick() == []
        clock.set(due)
        assert [(f.element_id, f.due_at) for f in engine.tick()] == [("Timer_Limit", due)]
        assert _fired(engine, case.id) == n
        assert [t.id for t in engine.tasks(instance_id=case.id)] == [task.id]
    clock.set(datetime(2025, 10, 20, 0, 0, tzinfo=CHINA_TZ))
    assert engine.tick() == []
    assert _fired(engine, case.id) == 3
    assert engine.complete(task.id, {}, CLERK).status == "completed"
    assert engine.check_consistency().ok


def test_unbounded_cycle_repeats_until_the_task_ends(
    make_engine: Callable[..., Engine], tmp_path: Path, clock: FakeClock
) -> None:
    """R/PT4H: every 4 elapsed hours, until the task it sits on is completed; then nothing waits."""
    engine = make_engine(_folder(tmp_path, _cycle_process("R/PT4H")))
    case = engine.start("fx_duration", {}, CLERK)
    for hours in (4, 8, 12, 16):
        clock.set(START + timedelta(hours=hours))
        assert [f.due_at for f in engine.tick()] == [START + timedelta(hours=hours)]
    (task,) = engine.tasks(instance_id=case.id)
    assert engine.complete(task.id, {}, CLERK).status == "completed"
    clock.set(START + timedelta(hours=40))
    assert engine.tick() == []
    assert _fired(engine, case.id) == 4


def test_a_late_tick_keeps_the_cycle_schedule(
    make_engine: Callable[..., Engine], tmp_path: Path, clock: FakeClock
) -> None:
    """A worker back after two reminders were due fires them one by one, each at its own due instant: the
    schedule counts from the due that passed, not from when it was fired."""
    engine = make_engine(_folder(tmp_path, _cycle_process("R3/PT4H")))
    case = engine.start("fx_duration", {}, CLERK)
    clock.set(START + timedelta(hours=9))
    fired = []
    while batch := engine.tick():
        fired += [f.due_at for f in batch]
    assert fired == [START + timedelta(hours=4), START + timedelta(hours=8)]
    clock.set(START + timedelta(hours=12))
    assert [f.due_at for f in engine.tick()] == [START + timedelta(hours=12)]
    assert _fired(engine, case.id) == 3


def test_a_suspended_cycle_does_not_fire(
    make_engine: Callable[..., Engine], tmp_path: Path, clock: FakeClock
) -> None:
    """While the instance is suspended its reminders wait; resumed, the pending one keeps what was left."""
    engine = make_engine(_folder(tmp_path, _cycle_process("R2/PT4H")))
    case = engine.start("fx_duration", {}, CLERK)
    clock.set(START + timedelta(hours=1))
    engine.suspend(case.id, "等待材料", Actor("admin", ["承办单位"]))
    clock.set(START + timedelta(hours=30))
    assert engine.tick() == []
    engine.resume(case.id, Actor("admin", ["承办单位"]))
    clock.set(START + timedelta(hours=32, minutes=59))
    assert engine.tick() == []
    clock.set(START + timedelta(hours=33))
    assert [f.due_at for f in engine.tick()] == [START + timedelta(hours=33)]
    clock.set(START + timedelta(hours=37))
    assert [f.due_at for f in engine.tick()] == [START + timedelta(hours=37)]
    assert _fired(engine, case.id) == 2


@pytest.mark.parametrize(
    ("cycle", "attributes", "interrupting", "message"),
    [
        ("R3/P1D", "", True, "non-interrupting boundary event"),
        ("P1D", "", False, "write R<n>/"),
        ("R3/2025-10-01T09:00/P1D", "", False, "write R<n>/"),
        ("R0/P1D", "", False, "R0 never fires"),
        ("R3/P1W", ' ef:calendar="working_days"', False, "weeks are not"),
        ("R/PT0M", "", False, "zero duration"),
    ],
    ids=["interrupting", "no-repeat", "with-start", "zero-repeats", "weeks-on-working-days", "zero-every"],
)
def test_cycles_that_cannot_run_are_refused(
    make_engine: Callable[..., Engine],
    tmp_path: Path,
    cycle: str,
    attributes: str,
    interrupting: bool,
    message: str,
) -> None:
    folder = _folder(tmp_path, _cycle_process(cycle, attributes=attributes, interrupting=interrupting))
    with pytest.raises(ProcessDefinitionError) as caught:
        make_engine(folder)
    assert message in caught.value.message
    assert caught.value.fields["element_id"] == "Timer_Limit"
