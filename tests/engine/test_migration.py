"""engine.migrate (issue 13), on SQLite and PostgreSQL: a running case moves to another deployed version of
its process, element ids mapped (identity by default); an element without a counterpart is a typed error
naming it with nothing changed; a case stuck on a broken definition is rescued after the fix."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.engine.conftest import BASIC

from efficacy_flow.engine import Actor, Engine, RolePermissions
from efficacy_flow.errors import InvalidInput, InvalidState, NotAuthorized, ScriptError

OPERATOR = Actor("op-1", {"受理员"})
ZJ_1 = Actor("zj-1", {"承办单位"}, unit="市住建局")
START = {"title": "路灯不亮", "unit": "市住建局"}


def _version(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    """A copy of the basic fixtures with fx_handle.bpmn edited (text replaced)."""
    folder = tmp_path / name
    shutil.copytree(BASIC, folder)
    bpmn = folder / "fx_handle.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    bpmn.write_text(text, encoding="utf-8")
    return folder


def _case(engine: Engine) -> tuple[str, str]:
    case = engine.start("fx_handle", START, OPERATOR)
    return case.id, engine.tasks(instance_id=case.id)[0].id


def test_a_case_moves_to_the_latest_version(make_engine: Callable[..., Engine], tmp_path: Path) -> None:
    """Identity mapping: the ready task keeps its id and deadline; the next step runs as version 2 says."""
    engine = make_engine()
    case_id, task_id = _case(engine)
    before = engine.tasks(instance_id=case_id)[0]
    old_hash = engine.instance(case_id).definition_hash
    engine.deploy(_version(tmp_path, "v2", ('name="审核"', 'name="复核"')))
    view = engine.migrate(case_id, OPERATOR)
    assert view.definition_hash != old_hash
    assert engine.tasks(instance_id=case_id) == [before]
    event = engine.history(case_id)[-1]
    assert (event.kind, event.after["from"], event.after["to"]) == (
        "migrated",
        old_hash,
        view.definition_hash,
    )
    after = engine.complete(task_id, {"reply": "待核实", "resolved": False}, ZJ_1)
    assert [t.name for t in after.tasks] == ["复核"]
    assert engine.check_consistency().ok
    with pytest.raises(InvalidState, match="already runs"):
        engine.migrate(case_id, OPERATOR)


def test_an_element_without_a_counterpart_is_named(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """Version 2 renames the active task: without a mapping the migration names it and changes nothing;
    with ``{"Task_Handle": "Task_Deal"}`` the case runs on, its task under the new id."""
    engine = make_engine()
    case_id, task_id = _case(engine)
    version = engine.instance(case_id).version
    engine.deploy(_version(tmp_path, "v2", ("Task_Handle", "Task_Deal")))
    with pytest.raises(InvalidState, match="element Task_Handle has no counterpart") as caught:
        engine.migrate(case_id, OPERATOR)
    assert caught.value.element_id == "Task_Handle"
    assert "Task_Handle" in caught.value.unmapped
    assert engine.instance(case_id).version == version
    view = engine.migrate(case_id, OPERATOR, mapping={"Task_Handle": "Task_Deal"})
    (task,) = view.tasks
    assert (task.id, task.element_id) == (task_id, "Task_Deal")
    assert engine.complete(task_id, {"reply": "好", "resolved": True}, ZJ_1).status == "completed"
    assert engine.check_consistency().ok


def test_a_stuck_case_is_rescued_after_the_fix(make_engine: Callable[..., Engine], tmp_path: Path) -> None:
    """Version 1's script after 办理 has a typo: every completion fails and changes nothing. The fixed file is
    deployed, the case migrated, and the completion goes through."""
    broken = _version(tmp_path, "broken", ("handled_count = len(reply)", "handled_count = len(repl)"))
    engine = make_engine(broken)
    case_id, task_id = _case(engine)
    with pytest.raises(ScriptError):
        engine.complete(task_id, {"reply": "已修复", "resolved": True}, ZJ_1)
    engine.deploy(BASIC)
    engine.migrate(case_id, OPERATOR)
    done = engine.complete(task_id, {"reply": "已修复", "resolved": True}, ZJ_1)
    assert (done.status, done.data["handled_count"]) == ("completed", 3)
    assert engine.check_consistency().ok


def test_refusals(make_engine: Callable[..., Engine], tmp_path: Path) -> None:
    """The migrate permission; an unknown target; a closed case."""
    engine = make_engine(authorizer=RolePermissions({"migrate": ["效能办"]}))
    case_id, task_id = _case(engine)
    engine.deploy(_version(tmp_path, "v2", ('name="审核"', 'name="复核"')))
    with pytest.raises(NotAuthorized, match="may not migrate"):
        engine.migrate(case_id, OPERATOR)
    office = Actor("xn-1", {"效能办"})
    with pytest.raises(InvalidInput, match="no stored definition"):
        engine.migrate(case_id, office, to="0" * 64)
    with pytest.raises(InvalidInput, match="mapping"):
        engine.migrate(case_id, office, mapping=["Task_Handle"])  # type: ignore[arg-type]
    engine.complete(task_id, {"reply": "好", "resolved": True}, ZJ_1)
    with pytest.raises(InvalidState, match="completed"):
        engine.migrate(case_id, office)


def test_a_ticket_stuck_on_a_broken_timer_script_is_migrated_and_retried(
    make_engine: Callable[..., Engine], tmp_path: Path, clock: Any
) -> None:
    """The shipped 12345 loop with a typo in 记录逾期 (Script_Overdue, run when the handling limit fires): the
    tick fails into an incident and the ticket is stuck. The fixed folder is deployed, the ticket migrated,
    the incident retried: the limit fires, 督办 is ready, overdue_count is 1."""
    from tests.processes._drive import at

    from efficacy_flow import shipped_processes
    from efficacy_flow.engine import RetryPolicy
    from efficacy_flow.testing import complete_task

    broken = tmp_path / "broken"
    shutil.copytree(shipped_processes(), broken)
    bpmn = broken / "complaint_closure.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    bpmn.write_text(
        text.replace("overdue_count = overdue_count + 1", "overdue_count = overdue_cont + 1"), "utf-8"
    )
    engine = make_engine(broken, retry=RetryPolicy(attempts=1))
    clock.set(at(2025, 10, 9, 9))
    cg = Actor("cg-1", {"承办单位"}, unit="市城管局")
    case = engine.start("complaint_closure", {"title": "路灯不亮", "content": "幸福小区"}, OPERATOR)
    complete_task(engine, case.id, "Task_Dispatch", {"unit": "市城管局", "dispatch_note": "路灯"}, OPERATOR)
    complete_task(engine, case.id, "Task_Acknowledge", {"ack_decision": "签收"}, cg)
    clock.set(at(2025, 10, 20))
    engine.tick()
    (incident,) = engine.incidents(case.id)
    assert incident.element_id == "Script_Overdue"
    engine.deploy(shipped_processes())
    admin = Actor("admin-1", {"系统管理员"})
    with pytest.raises(NotAuthorized):
        engine.migrate(case.id, OPERATOR)  # shipped settings: 系统管理员 migrates
    engine.migrate(case.id, admin)
    view = engine.retry_incident(incident.id, OPERATOR)
    assert [t.element_id for t in view.tasks] == ["Task_Supervise"]
    assert view.data["overdue_count"] == 1
    assert engine.incidents(case.id) == []
    assert engine.check_consistency().ok
