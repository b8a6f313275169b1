"""Files a Camunda Modeler user writes (issue 15, item 3): candidate groups as roles, formData as the task's
form (``TaskView.form``) and its data's schema, durations as timers; and the Camunda extensions the engine
does not run, refused by name instead of ignored."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from efficacy_flow import shipped_processes
from efficacy_flow.calendar import china
from efficacy_flow.clock import CHINA_TZ
from efficacy_flow.engine import Actor, Engine, FormChoice, FormField
from efficacy_flow.engine._definitions import DefinitionSource, Services, build_deployment
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.errors import InvalidData, NotAuthorized, ProcessDefinitionError, UnknownProcess
from efficacy_flow.testing import FakeClock

REPO = Path(__file__).parents[2]
MODELER5 = Path(__file__).parent / "fixtures" / "modeler5"
FILE = MODELER5 / "fx_modeler5.bpmn"

CLERK = Actor("clerk-1", ["intake_clerk"])
OFFICE = Actor("office-1", ["supervision_office"])
LEADER = Actor("leader-1", ["supervision_leader"])
UNIT = Actor("unit-1", ["responsible_unit"])
REGISTERED = {"title": "窗口推诿", "category": "attitude", "phone": "13812345678"}


def _only(engine: Engine, instance_id: str) -> tuple[str, str]:
    (task,) = engine.tasks(instance_id=instance_id)
    return task.id, task.element_id


def test_the_file_opens_in_the_modeler_readers_and_lints_clean() -> None:
    """The fixture is what Camunda Modeler reads without a warning (bpmn-moddle with Camunda's and the
    engine's descriptors) and passes bpmnlint's recommended rules: it is a real modeler file, not one
    shaped for this engine."""
    if not (REPO / "node_modules" / "bpmn-moddle").is_dir() or shutil.which("node") is None:
        pytest.skip("node_modules is not installed (npm ci): the model readers are not here")
    checked = subprocess.run(
        ["node", "scripts/check-models.mjs", str(FILE)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    linted = subprocess.run(
        ["npx", "--no-install", "bpmnlint", str(FILE)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_candidate_groups_are_the_roles(make_engine: Callable[..., Engine]) -> None:
    """Without lanes, each task's role is its camunda:candidateGroups id; only its holders may complete."""
    engine = make_engine(MODELER5)
    case = engine.start("fx_modeler5", {}, CLERK)
    (task,) = engine.tasks(instance_id=case.id)
    assert (task.element_id, task.role) == ("Activity_Register", "intake_clerk")
    with pytest.raises(NotAuthorized):
        engine.complete(task.id, REGISTERED, OFFICE)
    engine.complete(task.id, REGISTERED, CLERK)
    (review,) = engine.tasks(role="supervision_office")
    assert review.element_id == "Activity_Review"


def test_form_data_is_the_task_form(make_engine: Callable[..., Engine]) -> None:
    """TaskView.form lists the formData fields in order, with labels, types, required flags, choices and
    defaults — on the view a call returns and on the work list read from the store."""
    engine = make_engine(MODELER5)
    case = engine.start("fx_modeler5", {}, CLERK)
    expected = (
        FormField("title", "投诉标题", "string", True),
        FormField(
            "category",
            "投诉类别",
            "string",
            False,
            (
                FormChoice("efficiency", "效能问题"),
                FormChoice("attitude", "服务态度"),
                FormChoice("other", "其他"),
            ),
            "efficiency",
        ),
        FormField("phone", "联系电话", "string", False),
        FormField("repeats", "重复投诉次数", "integer", False, (), 0),
    )
    assert case.tasks[0].form == expected
    assert engine.tasks(instance_id=case.id)[0].form == expected
    # A second engine on the same store has cached nothing: the form comes with the listed row.
    other = make_engine(MODELER5)
    assert [t.form for t in other.tasks(role="intake_clerk")] == [expected]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"category": "attitude"}, "title"),
        ({**REGISTERED, "category": "投诉"}, "category"),
        ({**REGISTERED, "repeats": 12}, "repeats"),
        ({**REGISTERED, "title": "x" * 201}, "title"),
        ({**REGISTERED, "note": "not on the form"}, "note"),
    ],
    ids=["required-missing", "not-a-choice", "over-max", "over-maxlength", "unknown-field"],
)
def test_completion_data_is_checked_against_the_form(
    make_engine: Callable[..., Engine], data: dict[str, object], field: str
) -> None:
    """The form is the schema: what it does not allow is refused, naming the field, and nothing changes."""
    engine = make_engine(MODELER5)
    case = engine.start("fx_modeler5", {}, CLERK)
    task_id, _ = _only(engine, case.id)
    with pytest.raises(InvalidData) as caught:
        engine.complete(task_id, data, CLERK)
    assert field in {e["field"] for e in caught.value.errors}
    assert _only(engine, case.id) == (task_id, "Activity_Register")


def test_form_defaults_and_pii_apply(make_engine: Callable[..., Engine]) -> None:
    """defaultValue fills a field left out; the pii property masks the phone in the history."""
    engine = make_engine(MODELER5)
    case = engine.start("fx_modeler5", {}, CLERK)
    task_id, _ = _only(engine, case.id)
    view = engine.complete(task_id, {"title": "推诿"}, CLERK)
    assert (view.data["category"], view.data["repeats"]) == ("efficiency", 0)
    other = engine.start("fx_modeler5", {}, CLERK)
    engine.complete(_only(engine, other.id)[0], REGISTERED, CLERK)
    assert engine.instance(other.id).data["phone"] == "138****5678"
    completed = [e for e in engine.history(other.id) if e.kind == "task_completed"]
    assert "13812345678" not in repr([(e.before, e.after) for e in completed])


def test_every_path_runs_with_the_duration_timers(
    make_engine: Callable[..., Engine], clock: FakeClock
) -> None:
    """Registered Friday 2025-09-26 10:00: 审核 has 3 working days (09-28 the make-up Sunday, 09-29, 09-30),
    so 审核期满 fires at 10-01 00:00, before the holiday; 督办 decides; 整改's PT4H reminder is elapsed time
    and does not end the task."""
    engine = make_engine(MODELER5)
    case = engine.start("fx_modeler5", {}, CLERK)
    engine.complete(_only(engine, case.id)[0], REGISTERED, CLERK)
    (review,) = engine.tasks(instance_id=case.id)
    assert review.due_at == datetime(2025, 10, 1, 0, 0, tzinfo=CHINA_TZ)
    clock.set(datetime(2025, 9, 30, 23, 59, tzinfo=CHINA_TZ))
    assert engine.tick() == []
    clock.set(datetime(2025, 10, 1, 0, 0, tzinfo=CHINA_TZ))
    assert [f.element_id for f in engine.tick()] == ["Event_ReviewLimit"]
    supervise_id, element = _only(engine, case.id)
    assert element == "Activity_Supervise"
    assert [f.id for f in engine.tasks(instance_id=case.id)[0].form] == ["approved", "opinion"]
    engine.complete(supervise_id, {"approved": True, "opinion": "责令整改"}, LEADER)
    rectify_id, element = _only(engine, case.id)
    assert element == "Activity_Rectify"
    clock.advance(timedelta(hours=4))
    assert [f.element_id for f in engine.tick()] == ["Event_RectifyReminder"]
    assert _only(engine, case.id) == (rectify_id, "Activity_Rectify")
    done = engine.complete(rectify_id, {"rectification": "已整改", "rectified_on": "2025-10-09"}, UNIT)
    assert done.status == "completed"
    assert done.data["rectified_on"] == date(2025, 10, 9).isoformat()

    dismissed = engine.start("fx_modeler5", {}, CLERK)
    engine.complete(_only(engine, dismissed.id)[0], REGISTERED, CLERK)
    view = engine.complete(_only(engine, dismissed.id)[0], {"approved": False, "opinion": "查无实据"}, OFFICE)
    assert view.status == "completed"
    assert "rectification" not in view.data
    assert [e.kind for e in engine.history(dismissed.id)].count("task_completed") == 2


def test_the_start_event_form_is_the_start_data(make_engine: Callable[..., Engine]) -> None:
    """A start event's formData is what start() takes, and engine.start_form() shows it."""
    engine = make_engine(MODELER5)
    assert engine.start_form("fx_modeler5") == (
        FormField(
            "channel",
            "来源渠道",
            "string",
            False,
            (FormChoice("hotline", "12345热线"), FormChoice("web", "网上投诉")),
            "hotline",
        ),
    )
    assert engine.start("fx_modeler5", {}, CLERK).data["channel"] == "hotline"
    with pytest.raises(InvalidData) as caught:
        engine.start("fx_modeler5", {"channel": "wechat"}, CLERK)
    assert [e["field"] for e in caught.value.errors] == ["channel"]
    with pytest.raises(UnknownProcess):
        engine.start_form("no_such_process")


def test_schemas_yaml_fields_are_forms_too(make_engine: Callable[..., Engine]) -> None:
    """A task whose fields schemas.yaml declares shows them as its form (one declaration, two uses)."""
    engine = make_engine(shipped_processes())
    case = engine.start(
        "complaint_closure", {"title": "路灯不亮", "content": "幸福路路灯不亮"}, Actor("op", ["受理员"])
    )
    (dispatch,) = engine.tasks(instance_id=case.id)
    assert dispatch.element_id == "Task_Dispatch"
    declared = yaml.safe_load((REPO / "processes" / "schemas.yaml").read_text(encoding="utf-8"))
    fields = declared["complaint_closure"]["tasks"]["Task_Dispatch"]
    assert [(f.id, f.type, f.required) for f in dispatch.form] == [
        (name, decl.get("type", "string"), decl.get("required", False)) for name, decl in fields.items()
    ]
    assert ("unit", "string", True) in [(f.id, f.type, f.required) for f in dispatch.form]
    start = {f.id: f for f in engine.start_form("complaint_closure")}
    assert start["title"].required
    assert [c.value for c in start["urgency"].choices] == ["紧急", "较急", "一般", "复杂"]
    assert start["urgency"].default == "一般"


# -- refused at deployment, naming the file and the element ----------------------------------------------


def _variant(tmp_path: Path, old: str, new: str, schemas: str | None = None) -> Path:
    folder = tmp_path / "variant"
    folder.mkdir()
    text = FILE.read_text(encoding="utf-8")
    assert old in text
    (folder / FILE.name).write_text(text.replace(old, new, 1), encoding="utf-8")
    if schemas is not None:
        (folder / "schemas.yaml").write_text(schemas, encoding="utf-8")
    return folder


REGISTER = '<bpmn:userTask id="Activity_Register" name="登记投诉" camunda:candidateGroups="intake_clerk">'
TITLE = '<camunda:formField id="title" label="投诉标题" type="string">'


@pytest.mark.parametrize(
    ("old", "new", "schemas", "element", "message"),
    [
        (
            REGISTER,
            REGISTER,
            "fx_modeler5:\n  tasks:\n    Activity_Register:\n      title: {type: string}\n",
            "Activity_Register",
            "in camunda:formData and in schemas.yaml",
        ),
        (
            REGISTER,
            REGISTER,
            "fx_modeler5:\n  start:\n    channel: {type: string}\n",
            "StartEvent_1",
            "schemas.yaml declares them too",
        ),
        (TITLE, TITLE.replace('"string"', '"customType"'), None, "Activity_Register", "type 'customType'"),
        (
            '<camunda:constraint name="maxlength" config="200" />',
            '<camunda:constraint name="readonly" />',
            None,
            "Activity_Register",
            "constraint 'readonly' is not run",
        ),
        (
            '<camunda:constraint name="maxlength" config="200" />',
            '<camunda:constraint name="maxlength" config="many" />',
            None,
            "Activity_Register",
            "needs a number",
        ),
        (TITLE, TITLE.replace('id="title"', 'id="title text"'), None, "Activity_Register", "variable name"),
        (
            REGISTER,
            REGISTER.replace('"intake_clerk"', '"intake_clerk, supervision_office"'),
            None,
            "Activity_Register",
            "name exactly one group",
        ),
        (
            REGISTER,
            REGISTER.replace('camunda:candidateGroups="intake_clerk"', 'camunda:assignee="${starter}"'),
            None,
            "Activity_Register",
            "camunda:assignee",
        ),
        (
            "<bpmn:extensionElements>\n        <camunda:formData>",
            '<bpmn:extensionElements>\n        <camunda:executionListener class="a.B" event="start" />\n'
            "        <camunda:formData>",
            None,
            "StartEvent_1",
            "<camunda:executionListener>",
        ),
    ],
    ids=[
        "declared-twice",
        "start-declared-twice",
        "custom-type",
        "readonly",
        "constraint-not-a-number",
        "field-id-not-a-name",
        "two-groups",
        "assignee",
        "execution-listener",
    ],
)
def test_what_the_engine_cannot_honour_is_refused(
    make_engine: Callable[..., Engine],
    tmp_path: Path,
    old: str,
    new: str,
    schemas: str | None,
    element: str | None,
    message: str,
) -> None:
    folder = _variant(tmp_path, old, new, schemas)
    with pytest.raises(ProcessDefinitionError) as caught:
        make_engine(folder)
    assert message in caught.value.message
    assert caught.value.fields.get("element_id") == element
    assert "fx_modeler5.bpmn" in caught.value.message


def test_roles_by_id_show_their_labels(make_engine: Callable[..., Engine], tmp_path: Path) -> None:
    """settings.yaml ``roles`` labels a candidate group's id (what a work list shows); a role without a label
    (a lane's, which is its name) shows as itself."""
    folder = tmp_path / "labelled"
    folder.mkdir()
    shutil.copy(FILE, folder / FILE.name)
    (folder / "settings.yaml").write_text(
        "version: 1\nroles:\n  supervision_office: 效能办\n  intake_clerk: 受理员\n", encoding="utf-8"
    )
    engine = make_engine(folder)
    case = engine.start("fx_modeler5", {}, CLERK)
    (task,) = engine.tasks(instance_id=case.id)
    assert (task.role, engine.role_label(task.role or "")) == ("intake_clerk", "受理员")
    assert engine.role_label("supervision_office") == "效能办"
    assert engine.role_label("承办单位") == "承办单位"


LANED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_fx_laned" targetNamespace="http://x.test">
  <bpmn:process id="fx_laned" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="承办单位"><bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>
    <bpmn:userTask id="Task_1" name="办理" camunda:candidateGroups="handling_office"{extra}>
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="note" label="意见" type="string">
          <camunda:validation><camunda:constraint name="required"/></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize("definition_format", [1, 2])
def test_a_stored_definition_keeps_the_reading_it_was_deployed_with(definition_format: int) -> None:
    """Format 2 (this version) reads candidate groups, formData and refuses unrun extensions; a definition
    stored in format 1 keeps format 1's reading — the lane is the role, formData and camunda:assignee are
    ignored — so an instance that started on it is never stopped by a stricter version."""
    clock = FakeClock(datetime(2025, 9, 26, 10, 0, tzinfo=CHINA_TZ))
    services = Services(sandbox=Sandbox(), clock=clock, calendar=china())

    def source(extra: str) -> DefinitionSource:
        text = LANED.replace("{extra}", extra)
        return DefinitionSource("fx_laned", "fx_laned.bpmn", text, None, None, definition_format)

    with_assignee = source(' camunda:assignee="someone"')
    assert json.loads(with_assignee.content())["format"] == definition_format
    assert DefinitionSource.from_content(with_assignee.content()) == with_assignee
    if definition_format == 2:
        with pytest.raises(ProcessDefinitionError, match="camunda:assignee"):
            build_deployment(with_assignee, services)
        dep = build_deployment(source(""), services)
    else:
        dep = build_deployment(with_assignee, services)
    workflow = dep.runtime.new("i-1")
    workflow.start({}, clock.now())
    (task,) = workflow.snapshot(clock.now()).tasks
    if definition_format == 2:
        assert task.lane == "handling_office"
        assert [f.id for f in dep.forms["Task_1"]] == ["note"]
        with pytest.raises(InvalidData):
            dep.schema.validate_task("Task_1", {})
    else:
        assert task.lane == "承办单位"
        assert dep.forms == {}
        assert dep.schema.validate_task("Task_1", {}) == {}


def test_a_format_1_body_without_a_format_reads_as_format_1() -> None:
    body = {"process_id": "p", "filename": "p.bpmn", "bpmn": "<x/>", "time_limits": None, "schema": None}
    assert DefinitionSource.from_content(json.dumps(body).encode()).format == 1
