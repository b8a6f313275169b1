"""Caps on approved extensions (延期, issue 13) on SQLite and PostgreSQL: ``max_extensions`` and ``max_total``
of the limit a task's timer counts by (time_limits.yaml) refuse an extension with InvalidTimeLimit, writing
nothing; a limit without caps is extended as often as before. The table's model refuses a cap without its
source."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.engine._stepping import deployments

from efficacy_flow import shipped_processes
from efficacy_flow.calendar import CALENDAR_DAYS, WORKING_DAYS, TimeLimit, china
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.errors import InvalidTimeLimit, ProcessDefinitionError
from efficacy_flow.policy import load_time_limits, parse_time_limits
from efficacy_flow.testing import FakeClock

CAPS = Path(__file__).parent / "fixtures" / "caps"
BASIC = Path(__file__).parent / "fixtures" / "basic"
UNIT = Actor("zj-1", {"承办单位"})
HEAD = Actor("head-1", {"单位负责人"})


@pytest.fixture
def capped(make_engine: Callable[..., Engine]) -> Engine:
    """An engine with the cap fixtures deployed."""
    return make_engine(CAPS)


def _started(engine: Engine, process_id: str) -> tuple[str, str]:
    case = engine.start(process_id, {}, UNIT)
    (task,) = case.tasks
    return case.id, task.id


def _due(engine: Engine, task_id: str) -> datetime | None:
    (task,) = [t for t in engine.tasks() if t.id == task_id]
    return task.due_at


def _deadlines(engine: Engine, instance_id: str) -> list[tuple[str, Any]]:
    with engine.store.read() as reader:
        return sorted((row.element_id, row.due_at) for row in reader.deadlines_of(instance_id))


def _refused(engine: Engine, instance_id: str, task_id: str, limit: str) -> InvalidTimeLimit:
    """Extend, expect a refusal, and check that nothing was written: due time, deadlines and history."""
    due, deadlines = _due(engine, task_id), _deadlines(engine, instance_id)
    history = engine.history(instance_id)
    with pytest.raises(InvalidTimeLimit) as caught:
        engine.extend(task_id, limit, "情况复杂", approved_by=HEAD)
    assert _due(engine, task_id) == due
    assert _deadlines(engine, instance_id) == deadlines
    assert engine.history(instance_id) == history
    assert caught.value.task_id == task_id
    return caught.value


def test_a_second_extension_beyond_max_extensions_is_refused(capped: Engine) -> None:
    """fx_once allows one extension: the first moves the deadline, the second is refused and writes nothing
    (the task's uncapped warning timer does not lift the cap)."""
    instance_id, task_id = _started(capped, "fx_cap_once")
    due = _due(capped, task_id)
    extended = capped.extend(task_id, "2个工作日", "情况复杂", approved_by=HEAD)
    assert due is not None
    assert extended.due_at is not None
    assert extended.due_at > due
    error = _refused(capped, instance_id, task_id, "1个工作日")
    assert error.entry == "fx_once"
    assert error.max_extensions == 1
    assert error.extensions == 1
    assert [e.kind for e in capped.history(instance_id)].count("extended") == 1
    assert capped.check_consistency().ok


def test_extensions_up_to_max_total_are_accepted_beyond_it_refused(capped: Engine) -> None:
    """fx_total allows 30日 in all: 20日 is accepted, 11日 more is refused (31日), 10日 more is accepted
    (30日), then even 1日 is refused."""
    instance_id, task_id = _started(capped, "fx_cap_total")
    capped.extend(task_id, "20日", "案情复杂", approved_by=HEAD)
    error = _refused(capped, instance_id, task_id, "11日")
    assert (error.entry, error.max_total, error.total) == (
        "fx_total",
        TimeLimit(30, CALENDAR_DAYS),
        TimeLimit(31, CALENDAR_DAYS),
    )
    before = _due(capped, task_id)
    extended = capped.extend(task_id, "10日", "案情复杂", approved_by=HEAD)
    assert before is not None
    assert extended.due_at is not None
    assert (extended.due_at - before).days >= 10
    assert _refused(capped, instance_id, task_id, "1日").total == TimeLimit(31, CALENDAR_DAYS)
    events = [e.after["limit"] for e in capped.history(instance_id) if e.kind == "extended"]
    assert events == ["20日", "10日"]


def test_one_extension_past_max_total_is_refused_at_once(capped: Engine) -> None:
    """31日 exceeds a cap of 30日 on its own; 30日 fits it exactly."""
    instance_id, task_id = _started(capped, "fx_cap_total")
    _refused(capped, instance_id, task_id, "31日")
    capped.extend(task_id, "30日", "案情复杂", approved_by=HEAD)


def test_an_extension_in_another_unit_than_max_total_is_refused(capped: Engine) -> None:
    """Working days cannot be counted against a cap in calendar days: refused, saying so."""
    instance_id, task_id = _started(capped, "fx_cap_total")
    error = _refused(capped, instance_id, task_id, "5个工作日")
    assert error.entry == "fx_total"
    assert error.text == "5个工作日"
    assert "cannot be counted" in str(error)
    _refused(capped, instance_id, task_id, "24小时")


def test_every_cap_of_the_tasks_timers_applies(capped: Engine) -> None:
    """A task with a fx_once timer and a fx_total timer: 31日 is refused by fx_total, 10日 accepted, then any
    second extension refused by fx_once."""
    instance_id, task_id = _started(capped, "fx_cap_both")
    assert _refused(capped, instance_id, task_id, "31日").entry == "fx_total"
    assert _refused(capped, instance_id, task_id, "3个工作日").entry == "fx_total"
    capped.extend(task_id, "10日", "案情复杂", approved_by=HEAD)
    assert _refused(capped, instance_id, task_id, "5日").entry == "fx_once"


def test_caps_count_the_tasks_own_extensions(capped: Engine) -> None:
    """Another case's extension does not use up this task's one."""
    _, first = _started(capped, "fx_cap_once")
    _, second = _started(capped, "fx_cap_once")
    capped.extend(first, "2个工作日", "情况复杂", approved_by=HEAD)
    assert capped.extend(second, "2个工作日", "情况复杂", approved_by=HEAD).id == second


def test_without_caps_extensions_are_unlimited(capped: Engine) -> None:
    """fx_free has no caps: three extensions of 60个工作日 each are accepted and each moves the deadline."""
    instance_id, task_id = _started(capped, "fx_cap_none")
    dues = [_due(capped, task_id)]
    for _ in range(3):
        dues.append(capped.extend(task_id, "60个工作日", "情况复杂", approved_by=HEAD).due_at)
    assert all(a is not None and b is not None and b > a for a, b in itertools.pairwise(dues))
    assert [e.kind for e in capped.history(instance_id)].count("extended") == 3


def test_deployments_record_the_limit_each_timer_counts_by(clock: FakeClock) -> None:
    """The first literal time_limit("name") of each timer; a working_days(3) timer names none."""
    caps = deployments(CAPS, clock)
    assert caps["fx_cap_both"].timer_limits == {"Timer_Once": "fx_once", "Timer_Total": "fx_total"}
    table = caps["fx_cap_both"].time_limits
    assert table is not None
    assert table.entries["fx_once"].max_extensions == 1
    assert deployments(BASIC, clock)["fx_handle"].timer_limits == {"Timer_Warning": "fx_warning"}


def test_the_shipped_caps() -> None:
    """12345 handling: one extension of at most 5个工作日 (安阳 第五十条; once: [setting]); an appeal's
    decision: at most 30日 more (公务员法 第九十六条); a limit that is not a timer carries no cap."""
    table = load_time_limits(shipped_processes())
    handling = table.entries["complaint_handling"]
    assert (handling.max_extensions, handling.max_total) == (1, TimeLimit(5, WORKING_DAYS))
    assert handling.caps_source is not None
    assert "第五十条" in handling.caps_source
    assert "[setting]" in handling.caps_source
    appeal = table.entries["accountability_appeal_decision"]
    assert (appeal.max_extensions, appeal.max_total) == (None, TimeLimit(30, CALENDAR_DAYS))
    assert appeal.caps_source is not None
    assert "第九十六条" in appeal.caps_source
    extension = table.entries["complaint_extension"]
    assert (extension.max_extensions, extension.max_total) == (None, None)


ENTRY = "version: 1\nlimits:\n  a:\n    label: 测试\n    limit: 60日\n    source: 测试用\n"


@pytest.mark.parametrize(
    ("extra", "entry", "problem"),
    [
        pytest.param("    max_extensions: 1\n", "limits.a", "caps_source", id="max-extensions-uncited"),
        pytest.param("    max_total: 30日\n", "limits.a", "caps_source", id="max-total-uncited"),
        pytest.param(
            "    caps_source: 公务员法 第九十六条\n", "limits.a", "cites no cap", id="caps-source-without-cap"
        ),
        pytest.param(
            "    max_extensions: -1\n    caps_source: '[setting] x'\n",
            "limits.a.max_extensions",
            "greater than or equal to 0",
            id="negative-max-extensions",
        ),
        pytest.param(
            "    max_extensions: true\n    caps_source: '[setting] x'\n",
            "limits.a.max_extensions",
            "",
            id="bool-max-extensions",
        ),
        pytest.param(
            "    max_total: 三十天左右\n    caps_source: '[setting] x'\n",
            "limits.a.max_total",
            "cannot read limit",
            id="unreadable-max-total",
        ),
        pytest.param(
            "    max_total: 30日\n    caps_source: '  '\n",
            "limits.a.caps_source",
            "non-empty",
            id="blank-source",
        ),
    ],
)
def test_the_table_refuses_bad_caps(extra: str, entry: str, problem: str) -> None:
    """A bad cap is a ProcessDefinitionError naming the file and the entry."""
    with pytest.raises(ProcessDefinitionError) as caught:
        parse_time_limits(ENTRY + extra, "t.yaml")
    assert caught.value.path == "t.yaml"
    assert caught.value.fields["entry"] == entry
    assert problem in caught.value.fields["problem"]


def test_the_table_carries_caps_into_its_entries() -> None:
    """max_total is parsed as limit is; an entry without caps has none."""
    table = parse_time_limits(
        ENTRY + "    max_extensions: 0\n    max_total: 三十日\n    caps_source: 公务员法 第九十六条\n",
        "t.yaml",
    )
    entry = table.entries["a"]
    assert (entry.max_extensions, entry.max_total, entry.caps_source) == (
        0,
        TimeLimit(30, CALENDAR_DAYS),
        "公务员法 第九十六条",
    )
    plain = parse_time_limits(ENTRY, "t.yaml").entries["a"]
    assert (plain.max_extensions, plain.max_total, plain.caps_source) == (None, None, None)


def test_max_extensions_zero_refuses_every_extension(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """max_extensions: 0 — no extension at all."""
    folder = tmp_path / "zero"
    folder.mkdir()
    (folder / "fx_cap_once.bpmn").write_text((CAPS / "fx_cap_once.bpmn").read_text(encoding="utf-8"), "utf-8")
    table = (
        (CAPS / "time_limits.yaml")
        .read_text(encoding="utf-8")
        .replace("max_extensions: 1", "max_extensions: 0")
    )
    (folder / "time_limits.yaml").write_text(table, encoding="utf-8")
    engine = make_engine(folder, calendar=china())
    instance_id, task_id = _started(engine, "fx_cap_once")
    assert _refused(engine, instance_id, task_id, "1个工作日").max_extensions == 0
