"""Process data is JSON data (issue 12): what a step leaves that would not come back identical from a save is
refused at that step, naming it, so a cached and a reloaded instance always decide the same; and data has a
size limit."""

from __future__ import annotations

import math
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.engine._generated import script_process

from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine, Limits
from efficacy_flow.engine.runtime import json_problem
from efficacy_flow.errors import EfficacyFlowError, InvalidData
from efficacy_flow.testing import FakeClock

CLERK = Actor("c", {"受理员"})
START = datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ)


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("value", "where", "problem"),
    [
        pytest.param({1, 2}, "x", "a set", id="set"),
        pytest.param((1, 2), "x", "a tuple", id="tuple"),
        pytest.param({1: "a"}, "x", "the key 1 is not a string", id="int-key"),
        pytest.param({"a": [1, {"b": (1,)}]}, "x.a[1].b", "a tuple", id="nested-tuple"),
        pytest.param(float("nan"), "x", "nan is not a JSON number", id="nan"),
        pytest.param(-math.inf, "x", "-inf is not a JSON number", id="infinity"),
        pytest.param("\ud800", "x", "lone surrogate", id="lone-surrogate"),
        pytest.param(2**63, "x", "beyond 64 bits", id="int-beyond-64-bits"),
        pytest.param(len, "x", "a function", id="function"),
        pytest.param(b"\x00", "x", "bytes", id="bytes"),
        pytest.param(datetime(2025, 1, 1), "x", "a datetime", id="datetime"),
        pytest.param(_deep(100), "x" + ".a" * 64, "nested deeper than 64", id="deep"),
        pytest.param({"a": {"typename": "datetime"}}, "x.a", "reserved", id="reserved-key"),
    ],
)
def test_values_that_are_not_json_data(value: object, where: str, problem: str) -> None:
    """Each kind of value that a save would change (or could not write) is named, with where it sits."""
    found = json_problem(value, "x")
    assert found is not None
    assert found[0] == where
    assert problem in found[1]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"title": "路灯不亮", "n": 3, "ok": True, "none": None}, id="flat"),
        pytest.param(
            {"scores": [1, 2.5, -3.0, 2**63 - 1, -(2**63)], "nested": {"a": [{"b": []}]}}, id="nested"
        ),
        pytest.param(_deep(63), id="deep-but-within"),
        pytest.param("全角１２３😀", id="non-ascii"),
    ],
)
def test_json_data_passes(value: object) -> None:
    """Strings (any Unicode), 64-bit integers, finite floats, booleans, None, lists and str-keyed dicts."""
    assert json_problem(value, "x") is None


@pytest.mark.parametrize(
    ("script", "field", "problem"),
    [
        pytest.param("t = (1, 2)", "t", "a tuple", id="tuple"),
        pytest.param("s = {1, 2}", "s", "a set", id="set"),
        pytest.param("d = {1: 'a'}", "d", "the key 1", id="int-key"),
        pytest.param("f = lambda: 1", "f", "a function", id="function"),
        pytest.param("x = float('nan')", "x", "nan", id="nan"),
        pytest.param("n = [0, [1, (2,)]]", "n[1][1]", "a tuple", id="nested"),
        pytest.param("big = 2 ** 70", "big", "64 bits", id="big-int"),
    ],
)
def test_a_script_leaving_data_that_is_not_json_is_refused_at_its_step(
    tmp_path: Path, script: str, field: str, problem: str
) -> None:
    """The step that made the value fails with InvalidData naming the element and the field; nothing is
    stored (the start fails as a whole)."""
    engine = Engine(
        store=f"sqlite:///{tmp_path / 'e.db'}",
        processes=script_process(tmp_path / "p", script),
        clock=FakeClock(START),
        calendar=china(),
    )
    with pytest.raises(InvalidData) as raised:
        engine.start("fx_script", {}, CLERK)
    error = raised.value
    assert error.fields["element_id"] == "Script_Make"
    assert error.errors[0]["field"] == field
    assert problem in error.errors[0]["problem"]
    assert "Script_Make" in str(error)
    assert engine.instances() == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"tags": {"a", "b"}}, id="set"),
        pytest.param({"pair": (1, 2)}, id="tuple"),
        pytest.param({"by_year": {2025: "x"}}, id="int-key"),
        pytest.param({"ratio": float("inf")}, id="infinity"),
        pytest.param({"text": "\udcff"}, id="lone-surrogate"),
        pytest.param({"deep": _deep(200)}, id="deep"),
    ],
)
def test_start_data_that_is_not_json_is_refused(tmp_path: Path, data: dict[str, Any]) -> None:
    """Without a schema any mapping is accepted — but only JSON data; nothing is stored."""
    engine = Engine(
        store=f"sqlite:///{tmp_path / 'e.db'}",
        processes=script_process(tmp_path / "p", "seen = True"),
        clock=FakeClock(START),
        calendar=china(),
    )
    with pytest.raises(InvalidData):
        engine.start("fx_script", data, CLERK)
    assert engine.instances() == []


def test_process_data_over_the_limit_is_refused(tmp_path: Path) -> None:
    """A step that would leave more data than Limits.data_bytes is refused; below it, the same runs."""
    folder = script_process(tmp_path / "p", "blob = 'x' * size")
    engine = Engine(
        store=f"sqlite:///{tmp_path / 'e.db'}",
        processes=folder,
        clock=FakeClock(START),
        calendar=china(),
        limits=Limits(data_bytes=4096, event_bytes=100_000),
    )
    engine.start("fx_script", {"size": 3000}, CLERK)
    with pytest.raises(InvalidData) as raised:
        engine.start("fx_script", {"size": 5000}, CLERK)
    assert raised.value.fields["limit"] == 4096
    assert len(engine.instances()) == 1


def test_an_event_over_the_limit_is_refused(tmp_path: Path) -> None:
    """An audit event recording more than Limits.event_bytes (here the start data) is refused."""
    engine = Engine(
        store=f"sqlite:///{tmp_path / 'e.db'}",
        processes=script_process(tmp_path / "p", "seen = True"),
        clock=FakeClock(START),
        calendar=china(),
        limits=Limits(data_bytes=1 << 20, event_bytes=2048),
    )
    with pytest.raises(InvalidData) as raised:
        engine.start("fx_script", {"note": "长" * 3000}, CLERK)
    assert raised.value.fields["limit"] == 2048
    assert engine.instances() == []


# -- a cached and a reloaded instance decide the same --------------------------------------------------------

#: Values a script can build: JSON data and things that are not (each refused at the script's step).
VALUES = st.sampled_from(
    [
        "1",
        "'文字'",
        "[1, 2]",
        "{'k': [1, {'j': None}]}",
        "2.5",
        "True",
        "(1, 2)",
        "{1, 2}",
        "{1: 'a'}",
        "float('inf')",
        "[(1,)]",
        "{'k': {2}}",
        "2 ** 64",
    ]
)
#: Conditions comparing what the script left with a literal (what changed after a reload on main).
CONDITIONS = st.sampled_from(
    [
        "v == (1, 2)",
        "v == [1, 2]",
        "v == {1: 'a'}",
        "v == 1",
        "isinstance(v, list)",
        "isinstance(v, tuple)",
        "len(str(v)) > 3",
        "w == v",
    ]
)


def _run(folder: Path, cache_size: int, clock_start: datetime) -> list[Any]:
    """Run one instance of the generated process to its end; the history as (kind, actor, after) less ids,
    or the error that stopped it."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(
            store=f"sqlite:///{Path(tmp) / 'e.db'}",
            processes=folder,
            clock=FakeClock(clock_start),
            calendar=china(),
            cache_size=cache_size,
        )
        try:
            view = engine.start("fx_script", {}, CLERK)
            steps: list[Any] = []
            while view.tasks:
                steps.append(view.tasks[0].element_id)
                view = engine.complete(view.tasks[0].id, {}, CLERK)
            history = [(e.kind, e.actor, _without_ids(e.after)) for e in engine.history(view.id)]
            return [view.status, steps, history]
        except EfficacyFlowError as exc:
            return ["failed", type(exc).__name__, exc.fields.get("element_id")]
        finally:
            engine.store.close()


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "task_id"}
    return value


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES, other=VALUES, condition=CONDITIONS)
def test_cached_and_reloaded_instances_have_identical_histories(
    value: str, other: str, condition: str
) -> None:
    """Random processes (a script leaving values, a person, a decision on them) run once with the workflow
    cache and once with ``cache_size=0`` (every call reloads the saved state): the same outcome and the same
    history, event for event — including the same refusal at the same step when a value is not JSON data."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = script_process(Path(tmp) / "p", f"v = {value}\nw = {other}", condition)
        cached = _run(folder, 256, START)
        reloaded = _run(folder, 0, START)
    assert cached == reloaded
