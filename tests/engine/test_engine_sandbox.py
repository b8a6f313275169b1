"""The sandbox: every expression is compiled at deployment; escapes are refused naming the element."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficacy_flow.calendar import china
from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.errors import ExpressionLimitExceeded, ProcessDefinitionError, UnsafeExpression

BASIC = Path(__file__).parent / "fixtures" / "basic"

ESCAPES = [
    pytest.param("__import__('os').system('touch {marker}')", id="dunder-import"),
    pytest.param("open('{marker}', 'w').write('x')", id="open"),
    pytest.param("().__class__.__base__.__subclasses__()", id="subclasses"),
    pytest.param("getattr(title, '__class__')", id="getattr"),
    pytest.param("'{{0.__class__}}'.format(title)", id="str-format"),
    pytest.param("'{{x.__class__}}'.format_map({{'x': title}})", id="format-map"),
    pytest.param("f'{{title.__class__}}'", id="f-string-attribute"),
    pytest.param("eval('1')", id="eval"),
    pytest.param("exec('x = 1')", id="exec"),
    pytest.param("type(title)", id="type"),
    pytest.param("vars()", id="vars"),
    pytest.param("globals()", id="globals"),
    pytest.param("[c for c in ().__class__.__mro__]", id="mro"),
    pytest.param("(lambda: 0).__code__", id="code-object"),
    pytest.param("title._private", id="underscore-attribute"),
]


def _deploy(
    tmp_path: Path,
    marker: Path,
    *,
    script: str | None = None,
    condition: str | None = None,
    timer: str | None = None,
) -> Engine:
    folder = tmp_path / "processes"
    folder.mkdir()
    for name in ("time_limits.yaml", "schemas.yaml", "fx_ten.bpmn"):
        (folder / name).write_text((BASIC / name).read_text(encoding="utf-8"), encoding="utf-8")
    body = (BASIC / "fx_handle.bpmn").read_text(encoding="utf-8")
    if script is not None:
        body = body.replace(
            "<bpmn:script>handled_count = len(reply)</bpmn:script>", f"<bpmn:script>{script}</bpmn:script>"
        )
    if condition is not None:
        body = body.replace("resolved == True", condition)
    if timer is not None:
        body = body.replace("working_days(3)", timer)
    (folder / "fx_handle.bpmn").write_text(body, encoding="utf-8")
    return Engine(store=f"sqlite:///{tmp_path / 'e.db'}", processes=folder, calendar=china())


@pytest.mark.parametrize("place", ["script", "condition", "timer"])
@pytest.mark.parametrize("code", ESCAPES)
def test_escape_refused_at_deployment(tmp_path: Path, code: str, place: str) -> None:
    """Each escape is refused when the process is deployed, naming the element; nothing runs."""
    marker = tmp_path / "pwned"
    source = code.format(marker=marker).replace("&", "&amp;").replace("<", "&lt;")
    element = {"script": "Script_Count", "condition": "Flow_Done", "timer": "Timer_HandlingLimit"}[place]
    with pytest.raises(UnsafeExpression) as caught:
        _deploy(tmp_path, marker, **{place: source})
    assert caught.value.element_id == element
    assert element in caught.value.message
    assert not marker.exists()


def test_unknown_time_limit_name_fails_deployment(tmp_path: Path) -> None:
    """A literal time_limit() name missing from the table is a deployment error naming the timer."""
    with pytest.raises(ProcessDefinitionError) as caught:
        _deploy(tmp_path, tmp_path / "m", timer='time_limit("no_such_limit")')
    assert caught.value.element_id == "Timer_HandlingLimit"
    assert caught.value.entry == "no_such_limit"


def test_syntax_error_fails_deployment(tmp_path: Path) -> None:
    """A condition that is not Python fails deployment as UnsafeExpression naming the flow."""
    with pytest.raises(UnsafeExpression) as caught:
        _deploy(tmp_path, tmp_path / "m", condition="resolved ==")
    assert caught.value.element_id == "Flow_Done"


def test_user_task_outside_lane_fails_deployment(tmp_path: Path) -> None:
    """A user task in no lane is a ProcessDefinitionError naming it (conventions §2)."""
    folder = tmp_path / "p"
    folder.mkdir()
    body = (
        (BASIC / "fx_ten.bpmn")
        .read_text(encoding="utf-8")
        .replace("        <bpmn:flowNodeRef>Task_07</bpmn:flowNodeRef>\n", "")
    )
    (folder / "fx_ten.bpmn").write_text(body, encoding="utf-8")
    with pytest.raises(ProcessDefinitionError) as caught:
        Engine(store=f"sqlite:///{tmp_path / 'e.db'}", processes=folder, calendar=china())
    assert caught.value.element_id == "Task_07"


def test_reserved_ids_fail_deployment(tmp_path: Path) -> None:
    """An element with id Start or End (SpiffWorkflow's own task names) is refused instead of silently
    breaking."""
    folder = tmp_path / "p"
    folder.mkdir()
    body = (BASIC / "fx_ten.bpmn").read_text(encoding="utf-8").replace('"StartEvent"', '"Start"')
    (folder / "fx_ten.bpmn").write_text(body, encoding="utf-8")
    with pytest.raises(ProcessDefinitionError) as caught:
        Engine(store=f"sqlite:///{tmp_path / 'e.db'}", processes=folder, calendar=china())
    assert caught.value.element_id == "Start"


@pytest.mark.parametrize(
    ("source", "variables", "expected"),
    [
        pytest.param("rating == '不满意'", {"rating": "不满意"}, True, id="comparison"),
        pytest.param("len(items) + max(items)", {"items": [1, 5]}, 7, id="builtins"),
        pytest.param("sorted(d)[0]", {"d": {"b": 1, "a": 2}}, "a", id="sorted-dict"),
        pytest.param("d['a'] * 2", {"d": {"a": 2}}, 4, id="subscript"),
        pytest.param("sum(x for x in range(4))", {}, 6, id="generator"),
        pytest.param("title.strip().upper()", {"title": " ab "}, "AB", id="public-methods"),
    ],
)
def test_safe_expressions_evaluate(source: str, variables: dict[str, object], expected: object) -> None:
    """Ordinary process expressions work in the sandbox."""
    assert Sandbox().evaluate(source, variables) == expected


def test_script_assigns_and_deletes_variables() -> None:
    """A script's assignments land in the process variables; deleted names disappear."""
    variables: dict[str, object] = {"rework_count": 1, "tmp": 3}
    Sandbox().execute("rework_count += 1\ntotal = [0]\ntotal[0] = total[0] + 5\ndel tmp", variables)
    assert variables == {"rework_count": 2, "total": [5]}


def test_compiled_code_is_cached() -> None:
    """The same source compiles once: the second call returns the very same code object."""
    sandbox = Sandbox()
    assert sandbox.compile("a + 1", "eval") is sandbox.compile("a + 1", "eval")


def test_runtime_attribute_guard() -> None:
    """Even code compiled elsewhere cannot reach underscore attributes through the guard at run time."""
    from efficacy_flow.engine._sandbox_guards import guarded_getattr as _guarded_getattr

    with pytest.raises(AttributeError):
        _guarded_getattr("x", "__class__")
    with pytest.raises(AttributeError):
        _guarded_getattr("x", "format")


@pytest.mark.parametrize(
    "script",
    [
        pytest.param("class A: pass", id="class"),
        pytest.param("range.leak = reply", id="attribute-write-on-builtin"),
        pytest.param("del reply.x", id="attribute-delete"),
        pytest.param("with reply: pass", id="with"),
        pytest.param("a = [1]\nb = [*a, *a]", id="star-display"),
    ],
)
def test_new_refusals_fail_deployment(tmp_path: Path, script: str) -> None:
    """A script that defines a class, writes an attribute, uses ``with`` or star-unpacks into a display is
    refused when the process is deployed, naming the script task."""
    with pytest.raises(UnsafeExpression) as caught:
        _deploy(tmp_path, tmp_path / "m", script=script)
    assert caught.value.element_id == "Script_Count"


OPERATOR = Actor("op-1", {"受理员"})
HANDLER = Actor("h-1", {"承办单位"}, unit="市住建局")
START = {"title": "路灯不亮", "unit": "市住建局"}


def test_script_past_its_budget_fails_the_call_and_the_engine_serves_the_next(tmp_path: Path) -> None:
    """A deployed ``while True: pass`` ends the call that runs it with ExpressionLimitExceeded (time) after
    the default budget of 1 s; the call rolls back, and the same instance then takes its other branch."""
    engine = _deploy(tmp_path, tmp_path / "m", script="while True: pass")
    instance = engine.start("fx_handle", START, OPERATOR)
    (task,) = engine.tasks(instance_id=instance.id)
    with pytest.raises(ExpressionLimitExceeded) as caught:
        engine.complete(task.id, {"reply": "已修复", "resolved": True}, HANDLER)
    assert (caught.value.limit, caught.value.budget) == ("time", 1.0)
    assert [t.id for t in engine.tasks(instance_id=instance.id)] == [task.id]
    after = engine.complete(task.id, {"reply": "转办", "resolved": False}, HANDLER)
    assert [t.element_id for t in after.tasks] == ["Task_Review"]


@pytest.mark.parametrize(
    ("place", "code"),
    [
        pytest.param("condition", "9**9**9 > 0", id="condition-power-tower"),
        pytest.param("condition", "len('x' * 10**10) > 0", id="condition-repeat"),
        pytest.param("timer", "working_days(10**10**7)", id="timer-huge-power"),
    ],
)
def test_condition_and_timer_payloads_end_in_typed_errors(tmp_path: Path, place: str, code: str) -> None:
    """A condition or timer expression that would build a huge value fails its call with
    ExpressionLimitExceeded (size) at once; nothing is left half-done and the engine serves the next call."""
    engine = _deploy(tmp_path, tmp_path / "m", **{place: code})
    if place == "timer":
        # The timer is evaluated when the task it guards becomes ready: at start.
        with pytest.raises(ExpressionLimitExceeded) as caught:
            engine.start("fx_handle", START, OPERATOR)
        assert engine.tasks() == []
    else:
        instance = engine.start("fx_handle", START, OPERATOR)
        (task,) = engine.tasks(instance_id=instance.id)
        with pytest.raises(ExpressionLimitExceeded) as caught:
            engine.complete(task.id, {"reply": "已修复", "resolved": True}, HANDLER)
        assert [t.id for t in engine.tasks(instance_id=instance.id)] == [task.id]
    assert caught.value.limit == "size"
    assert engine.start("fx_ten", {}, OPERATOR).status == "active"
