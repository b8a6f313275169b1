"""Reading .bpmn files at deployment: one hardened parse per file, the declared encoding honoured, the stored
text of a UTF-8 file unchanged (so definition hashes and redeployments stay as they were).

Refused files (a DOCTYPE with entities, an XInclude, a file over the cap, bytes not in the declared encoding)
fail the whole deployment with a ProcessDefinitionError naming the file; nothing of the folder is deployed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from efficacy_flow.engine import Actor, Engine
from efficacy_flow.engine._definitions import DefinitionSource, read_folder
from efficacy_flow.errors import ProcessDefinitionError

PROCESSES = Path(__file__).parents[2] / "processes"
BASIC = Path(__file__).parent / "fixtures" / "basic"
PASSWD = Path("/etc/passwd")
ROLE = "承办单位"
CLERK = Actor("clerk-1", [ROLE])


def bpmn(process_id: str, name: str, *, prolog: str = "", extra: str = "", declaration: str = "UTF-8") -> str:
    """A one-task process; ``name`` is the task's name, ``prolog`` goes before the root, ``extra`` inside
    the process."""
    return f"""<?xml version="1.0" encoding="{declaration}"?>
{prolog}<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_{process_id}"
    targetNamespace="http://efficacy-flow.test/fixtures">
  <bpmn:process id="{process_id}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="{ROLE}"><bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>
    <bpmn:userTask id="Task_1" name="{name}"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="Script_1"/>
    <bpmn:scriptTask id="Script_1" name="记录" scriptFormat="python">
      <bpmn:script>done = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_1" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>{extra}
  </bpmn:process>
</bpmn:definitions>
"""


def _start_and_name(engine: Engine, process_id: str) -> str:
    instance = engine.start(process_id, {}, CLERK)
    (task,) = engine.tasks(instance_id=instance.id)
    return task.name


# -- encodings -----------------------------------------------------------------------------------------------

NAME = "受理诉求"
#: ISO-8859-1 cannot hold Chinese: that file writes it as character references (&#21463;...), as editors do.
#: The process id each encoded file holds (a file is named for its process).
ENCODED_IDS = {"iso-8859-1": "fx_latin1", "utf-16": "fx_utf16", "gb18030": "fx_gb18030"}
ENCODED: dict[str, bytes] = {
    "iso-8859-1": bpmn("fx_latin1", NAME, declaration="ISO-8859-1", extra="<!-- caf\xe9 -->").encode(
        "latin-1", "xmlcharrefreplace"
    ),
    "utf-16": bpmn("fx_utf16", NAME, declaration="UTF-16").encode("utf-16"),
    "gb18030": bpmn("fx_gb18030", NAME, declaration="GB18030").encode("gb18030"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_files_in_other_encodings_deploy_and_keep_their_chinese_names(
    make_engine: Callable[..., Engine], tmp_path: Path, encoding: str
) -> None:
    """A file declared ISO-8859-1, UTF-16 or GB18030 deploys; its names read as written, also after a
    restart (the stored definition is the document re-serialized as UTF-8 with a UTF-8 declaration)."""
    (tmp_path / f"{ENCODED_IDS[encoding]}.bpmn").write_bytes(ENCODED[encoding])
    engine = make_engine(tmp_path)
    (process_id,) = engine.process_ids
    assert _start_and_name(engine, process_id) == NAME
    (source,) = read_folder(tmp_path)[0]
    assert source.bpmn.startswith("<?xml version='1.0' encoding='UTF-8'?>")
    restarted = make_engine(None, cache_size=0)
    (task,) = restarted.tasks()
    assert restarted.complete(task.id, {}, CLERK).status == "completed"


def _normalized(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


def _bom_and_crlf(tmp_path: Path) -> Path:
    folder = tmp_path / "bom"
    shutil.copytree(BASIC, folder)
    for path in folder.iterdir():
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        path.write_bytes(text.encode("utf-8-sig"))
    return folder


@pytest.mark.parametrize(
    "make",
    [lambda _: PROCESSES, lambda _: BASIC, _bom_and_crlf],
    ids=["processes", "basic-fixtures", "utf-8-bom-and-crlf"],
)
def test_utf8_definitions_hash_as_before(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    """For UTF-8 files (with or without a byte-order mark, any line endings) every stored definition is what
    the text reader before the hardened one built: the file's text with line endings normalized, the table's
    text, the raw schema section. The same hashes, so redeploying unchanged files after an upgrade is a
    no-op."""
    folder = make(tmp_path)
    sources, _ = read_folder(folder)
    assert sources
    schemas = yaml.safe_load((folder / "schemas.yaml").read_text(encoding="utf-8"))
    for source in sources:
        before = DefinitionSource(
            source.process_id,
            source.filename,
            _normalized(folder / source.filename),
            _normalized(folder / "time_limits.yaml"),
            schemas.get(source.process_id),
        )
        assert source.hash == before.hash


def test_redeploying_unchanged_files_gives_the_same_hashes(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    """Redeploying an unchanged folder (UTF-8 and re-serialized files alike) is a no-op: the same hashes."""
    (tmp_path / "fx_a.bpmn").write_text(bpmn("fx_a", NAME), encoding="utf-8")
    (tmp_path / "fx_utf16.bpmn").write_bytes(ENCODED["utf-16"])
    engine = make_engine(tmp_path)
    first = engine.deploy(tmp_path)
    assert engine.deploy(tmp_path) == first
    assert make_engine(tmp_path).deploy(tmp_path) == first


# -- refusals ------------------------------------------------------------------------------------------------


def _secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-7f3a9c", encoding="utf-8")
    return path


LAUGHS = (
    '<!DOCTYPE bpmn:definitions [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    + "]>\n"
)


def _bad_file(case: str, tmp_path: Path) -> bytes:
    secret = _secret(tmp_path).as_uri()
    if case == "external-entity":
        return bpmn(
            "fx_bad",
            "&x;",
            prolog='<!DOCTYPE bpmn:definitions [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
        ).encode()
    if case == "external-entity-secret":
        return bpmn(
            "fx_bad", "&x;", prolog=f'<!DOCTYPE bpmn:definitions [<!ENTITY x SYSTEM "{secret}">]>\n'
        ).encode()
    if case == "internal-entity-in-script":
        # main's check left &s; unexpanded while SpiffWorkflow expanded it: a script past the sandbox.
        script = (
            '<bpmn:scriptTask id="Script_X" scriptFormat="python"><bpmn:script>&s;</bpmn:script>'
            "</bpmn:scriptTask>"
        )
        return bpmn(
            "fx_bad",
            NAME,
            prolog="<!DOCTYPE bpmn:definitions [<!ENTITY s \"__import__('os').system('id')\">]>\n",
            extra=script,
        ).encode()
    if case == "parameter-entity":
        return bpmn(
            "fx_bad", NAME, prolog=f'<!DOCTYPE bpmn:definitions [<!ENTITY % p SYSTEM "{secret}"> %p;]>\n'
        ).encode()
    if case == "billion-laughs":
        return bpmn("fx_bad", "&lol9;", prolog=LAUGHS).encode()
    if case == "xinclude":
        include = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'
        return bpmn("fx_bad", NAME, extra=include).encode()
    if case == "over-the-cap":
        return bpmn("fx_bad", NAME, extra="<!--" + "x" * (10 * 1024 * 1024) + "-->").encode()
    if case == "invalid-bytes":
        return bpmn("fx_bad", NAME).encode().replace(NAME.encode(), b"\xff\xfe\xfd", 1)
    if case == "gbk-declared-utf-8":
        return bpmn("fx_bad", NAME).encode("gbk")
    raise AssertionError(case)


REFUSALS = {
    "external-entity": "DOCTYPE",
    "external-entity-secret": "DOCTYPE",
    "internal-entity-in-script": "DOCTYPE",
    "parameter-entity": "DOCTYPE",
    "billion-laughs": "DOCTYPE",
    "xinclude": "XInclude",
    "over-the-cap": "over the limit of 10,485,760 bytes",
    "invalid-bytes": "not UTF-8",
    "gbk-declared-utf-8": "not UTF-8",
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refused_file_fails_the_deployment_naming_it(
    make_engine: Callable[..., Engine], tmp_path: Path, case: str
) -> None:
    """The bad file is named (path, problem); the good file beside it is not deployed either, and neither
    the secret an entity points at nor /etc/passwd appears in the error."""
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "fx_good.bpmn").write_text(bpmn("fx_good", NAME), encoding="utf-8")
    bad = folder / "zz_bad.bpmn"  # read after the good one: the good one was parsed when the bad one fails
    bad.write_bytes(_bad_file(case, tmp_path))
    engine = make_engine(None)
    with pytest.raises(ProcessDefinitionError) as caught:
        engine.deploy(folder)
    error = caught.value
    assert error.path == str(bad)
    assert REFUSALS[case] in error.problem
    assert str(error).startswith(str(bad))
    assert engine.process_ids == frozenset()
    good_only = tmp_path / "good_only"
    good_only.mkdir()
    shutil.copy(folder / "fx_good.bpmn", good_only)
    (good,) = read_folder(good_only)[0]
    with engine.store.transaction() as tx:
        assert tx.get_definition(good.hash) is None
    shown = str(error) + repr(error.fields)
    assert "TOP-SECRET" not in shown
    if PASSWD.exists():
        for line in PASSWD.read_text(encoding="utf-8", errors="replace").splitlines()[:3]:
            assert line not in shown


# -- the folder's tables -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "replace", "by", "entry", "problem"),
    [
        pytest.param(
            "schemas.yaml",
            "title: {type: string,",
            "title: {type: text,",
            "fx_handle.start.title.type",
            "must be one of 'string', 'integer', 'number', 'boolean', 'date' or 'datetime', got 'text'",
            id="schema-type",
        ),
        pytest.param(
            "schemas.yaml",
            "pii: phone",
            "pii: email",
            "fx_handle.start.requester_phone.pii",
            "must be one of 'phone', 'id_number' or 'name'",
            id="schema-pii",
        ),
        pytest.param(
            "schemas.yaml",
            "required: true, max_length: 200",
            "required: true, maxlength: 200",
            "fx_handle.start.title.maxlength",
            "unknown field 'maxlength'",
            id="schema-unknown-key",
        ),
        pytest.param(
            "schemas.yaml",
            "  tasks:\n    Task_Handle:",
            "  task:\n    Task_Handle:",
            "fx_handle.task",
            "unknown field 'task'",
            id="schema-unknown-section",
        ),
        pytest.param(
            "schemas.yaml",
            'pattern: "^1[3-9][0-9]{9}$"',
            'pattern: "^1[3-9"',
            "fx_handle.start.requester_phone.pattern",
            "is not a regular expression",
            id="schema-bad-pattern",
        ),
        pytest.param(
            "schemas.yaml",
            "enum: [紧急, 较急, 一般]",
            "enum: []",
            "fx_handle.start.urgency.enum",
            "at least 1 item",
            id="schema-empty-enum",
        ),
        pytest.param(
            "time_limits.yaml",
            "    limit: 2个工作日\n",
            "    limit: 两天左右\n",
            "limits.fx_warning.limit",
            "cannot read limit '两天左右'",
            id="time-limit",
        ),
    ],
)
def test_a_bad_table_fails_the_deployment_naming_file_and_entry(
    make_engine: Callable[..., Engine],
    tmp_path: Path,
    file: str,
    replace: str,
    by: str,
    entry: str,
    problem: str,
) -> None:
    """schemas.yaml and time_limits.yaml are checked against their models when the folder is read: the error
    names the file itself and the entry as a dotted path; nothing is deployed."""
    folder = tmp_path / "processes"
    shutil.copytree(BASIC, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert replace in text
    (folder / file).write_text(text.replace(replace, by, 1), encoding="utf-8")
    engine = make_engine(None)
    with pytest.raises(ProcessDefinitionError) as caught:
        engine.deploy(folder)
    assert caught.value.path == str(folder / file)
    assert caught.value.entry == entry
    assert problem in caught.value.problem
    assert engine.process_ids == frozenset()


def test_schema_declarations_given_directly_are_checked_too(make_engine: Callable[..., Engine]) -> None:
    """Engine(schemas=...) mappings go through the same field model: the entry names process and field."""
    schemas = {"fx_handle": {"start": {"title": {"type": "string", "min_length": -1}}}}
    with pytest.raises(ProcessDefinitionError) as caught:
        make_engine(schemas=schemas)
    assert caught.value.entry == "start.title.min_length"
    assert caught.value.process_id == "fx_handle"
    assert "greater than or equal to 0" in caught.value.problem


# -- isExecutable --------------------------------------------------------------------------------------------


def test_a_process_without_is_executable_runs_as_spiffworkflow_takes_it(tmp_path: Path) -> None:
    """A missing isExecutable means executable (SpiffWorkflow's reading; 281 of the 831 BPMN MIWG files omit
    it); isExecutable="false" on the only process is refused, naming the file."""
    (tmp_path / "fx_plain.bpmn").write_text(
        bpmn("fx_plain", NAME).replace(' isExecutable="true"', ""), encoding="utf-8"
    )
    engine = Engine(f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    assert _start_and_name(engine, "fx_plain") == NAME
    engine.store.close()
    off = tmp_path / "off"
    off.mkdir()
    (off / "fx_off.bpmn").write_text(
        bpmn("fx_off", NAME).replace('isExecutable="true"', 'isExecutable="false"'), encoding="utf-8"
    )
    refused = r"fx_off\.bpmn: expected exactly one executable process"
    with pytest.raises(ProcessDefinitionError, match=refused):
        Engine(f"sqlite:///{tmp_path / 'b.db'}", off)


def test_an_iso_date_without_an_offset_is_read_in_china_time(tmp_path: Path) -> None:
    """Camunda Modeler's hint for a timer date is an ISO date without an offset: it is read in the engine's
    zone (Asia/Shanghai), not refused with a Python octal-literal message."""
    from datetime import datetime

    from efficacy_flow.calendar import china
    from efficacy_flow.clock import CHINA_TZ
    from efficacy_flow.testing import FakeClock

    wait = (
        '<bpmn:intermediateCatchEvent id="Timer_At" name="到点"><bpmn:timerEventDefinition id="TED_At">'
        "<bpmn:timeDate>2025-10-01T09:00:00</bpmn:timeDate></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )
    text = bpmn("fx_at", NAME).replace(
        '<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>',
        '<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Timer_At"/>'
        + wait
        + '<bpmn:sequenceFlow id="Flow_At" sourceRef="Timer_At" targetRef="Task_1"/>',
    )
    (tmp_path / "fx_at.bpmn").write_text(text, encoding="utf-8")
    clock = FakeClock(datetime(2025, 9, 30, 10, tzinfo=CHINA_TZ))
    engine = Engine(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, china(), clock)
    case = engine.start("fx_at", {}, CLERK)
    clock.set(datetime(2025, 10, 1, 8, 59, tzinfo=CHINA_TZ))
    assert engine.tick() == []
    clock.set(datetime(2025, 10, 1, 9, 0, tzinfo=CHINA_TZ))
    [fired] = engine.tick()
    assert fired.due_at == datetime(2025, 10, 1, 9, 0, tzinfo=CHINA_TZ)
    assert [t.name for t in engine.tasks(instance_id=case.id)] == [NAME]
    engine.store.close()


def test_a_process_id_that_is_not_its_file_name_is_refused(tmp_path: Path) -> None:
    """A file holding process fx_other under another name would deploy, and be started, as fx_other: the error
    names the file and both names (issue 15)."""
    (tmp_path / "complaint.bpmn").write_text(bpmn("fx_other", NAME), encoding="utf-8")
    with pytest.raises(ProcessDefinitionError) as caught:
        Engine(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    assert caught.value.fields["process_id"] == "fx_other"
    assert "is not the file's name 'complaint'" in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "complaint.bpmn"))


@pytest.mark.parametrize(
    ("attribute", "body", "named"),
    [
        ("", "${approved == true}", "JUEL"),
        (' language="javascript"', "approved === true", "JavaScript"),
        (' language="feel"', "approved = true", "FEEL"),
        (' language="ruby"', "approved", "ruby"),
    ],
)
def test_a_condition_in_another_language_is_refused_naming_it(
    tmp_path: Path, attribute: str, body: str, named: str
) -> None:
    """A condition a Camunda Modeler user writes in JUEL (``${…}``) or marks as another language is refused
    naming the language, the file and the flow, instead of running with Python's meaning by chance."""
    flow = (
        '<bpmn:exclusiveGateway id="Gateway_1" default="Flow_Default"/>'
        '<bpmn:sequenceFlow id="Flow_Cond" sourceRef="Gateway_1" targetRef="EndEvent_2">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"{attribute}>{body}'
        "</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="Flow_Default" sourceRef="Gateway_1" targetRef="EndEvent_2"/>'
        '<bpmn:endEvent id="EndEvent_2"/>'
    )
    text = bpmn("fx_lang", NAME, extra=flow).replace(
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    )
    (tmp_path / "fx_lang.bpmn").write_text(text.replace("&", "&amp;"), encoding="utf-8")
    with pytest.raises(ProcessDefinitionError) as caught:
        Engine(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    assert caught.value.fields["language"] == named
    assert caught.value.element_id == "Flow_Cond"
    assert str(caught.value).startswith("fx_lang.bpmn: the expression of Flow_Cond is " + named)
