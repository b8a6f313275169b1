"""The process files keep the promises of conventions.md without running an engine.

Each BPMN file holds one executable Camunda-7 process with a diagram, roles as lanes, timers written only with
the conventions' functions, every time limit in the time-limit table with its source, decisions that exist,
and data that schemas.yaml declares, so every process can run end to end.
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.processes._model import (
    BPMN_FILES,
    CAMUNDA_DECISION_REF,
    DMN_FILES,
    NS,
    PROCESS_IDS,
    PROCESSES,
    TIMER_FUNCTIONS,
    dmn_decisions,
    model,
    names_assigned,
    names_read,
    resolve_limit,
    yaml_file,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$")
# A citation: a seed file and section, a statute's article, or an explicit [setting] / [secondary] mark.
CITATION = re.compile(
    r"(\d{3}_[0-9a-f]{16}\.txt §)|(第[一二三四五六七八九十百零]+条)|\[setting\]|\[secondary\]|\[local\]"
)
CAP_KEYS = {"max_extensions", "max_total", "caps_source"}
SAFE_BUILTINS = {
    "len",
    "min",
    "max",
    "abs",
    "round",
    "int",
    "float",
    "str",
    "bool",
    "sorted",
    "sum",
    "any",
    "all",
}
SCHEMA_TYPES = {"string", "integer", "number", "boolean", "date", "datetime"}
SCHEMA_KEYS = {
    "type",
    "required",
    "default",
    "enum",
    "pattern",
    "min_length",
    "max_length",
    "minimum",
    "maximum",
    "pii",
}

ids = [p.stem for p in BPMN_FILES]


def known_variables(process_id: str) -> set[str]:
    """Every variable a process can hold: start, task and message data, script and decision outputs."""
    schema = yaml_file("schemas.yaml")[process_id]
    names = set(schema.get("start", {}))
    for fields in (schema.get("tasks") or {}).values():
        names |= set(fields)
    for fields in (schema.get("messages") or {}).values():
        names |= set(fields)
    m = model(process_id)
    for script in m.scripts().values():
        names |= names_assigned(script)
    decisions = dmn_decisions()
    for rule in m.of("businessRuleTask"):
        names |= set(decisions[rule.node.get(CAMUNDA_DECISION_REF, "")].outputs)
    return names


def test_the_shipped_processes_exist() -> None:
    """processes/ holds exactly the shipped processes (issue 15 adds good_bad_review), each in a file named
    after its id."""
    assert sorted(p.stem for p in BPMN_FILES) == sorted(PROCESS_IDS)


@pytest.mark.parametrize("path", BPMN_FILES + DMN_FILES, ids=lambda p: p.name)
def test_file_parses_as_xml(path: Path) -> None:
    """Every .bpmn and .dmn file is well-formed XML with a UTF-8 declaration."""
    ET.parse(path)
    assert path.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_one_executable_camunda_process_named_after_the_file(path: Path) -> None:
    """One executable process per file; its id is the file's stem; the Camunda namespace is declared."""
    m = model(path.stem)
    assert m.id == path.stem
    assert m.process.get("isExecutable") == "true"
    assert NS["camunda"] in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_every_node_flow_and_lane_has_di(path: Path) -> None:
    """Every flow node and lane has a BPMNShape with bounds; every sequence flow a BPMNEdge (2+ points)."""
    m = model(path.stem)
    shapes = {s.get("bpmnElement"): s for s in m.root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in m.root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    lanes = [lane.get("id") for lane in m.process.iter(f"{{{NS['bpmn']}}}lane")]
    missing_shapes = [
        i for i in [*m.nodes, *lanes] if i not in shapes or shapes[i].find("dc:Bounds", NS) is None
    ]
    missing_edges = [i for i in m.flows if i not in edges or len(edges[i].findall("di:waypoint", NS)) < 2]
    assert missing_shapes == []
    assert missing_edges == []


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_every_flow_node_sits_in_exactly_one_lane(path: Path) -> None:
    """Roles are lanes (conventions §2): every flow node, user tasks above all, is in one named lane."""
    m = model(path.stem)
    refs = [
        (ref.text or "").strip()
        for lane in m.process.iter(f"{{{NS['bpmn']}}}lane")
        for ref in lane.findall("bpmn:flowNodeRef", NS)
    ]
    assert sorted(refs) == sorted(m.nodes), "each flow node listed once, in one lane"
    assert all(CJK.search(m.lane_of[t.id]) for t in m.of("userTask"))


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_names_are_chinese_and_ids_english(path: Path) -> None:
    """Element names are Chinese labels; ids are ASCII identifiers (conventions §1)."""
    m = model(path.stem)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", i) for i in [*m.nodes, *m.flows])
    unnamed_ok = {"parallelGateway"}
    merges = {n.id for n in m.of("exclusiveGateway") if len(n.node.findall("bpmn:outgoing", NS)) == 1}
    for node in m.nodes.values():
        if node.tag in unnamed_ok or node.id in merges:
            continue
        assert CJK.search(node.name), f"{node.id} needs a Chinese name"


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_timer_bodies_use_only_the_convention_functions(path: Path) -> None:
    """A timer body is one call of working_days/days/hours/months/time_limit, or an ISO time with offset."""
    m = model(path.stem)
    known = known_variables(path.stem)
    assert m.timers(), "every process has at least one time limit"
    for node, body in m.timers():
        if ISO_WITH_OFFSET.match(body):
            continue
        call = ast.parse(body, mode="eval").body
        assert isinstance(call, ast.Call), f"{node.id}: {body}"
        assert isinstance(call.func, ast.Name), f"{node.id}: {body}"
        assert call.func.id in TIMER_FUNCTIONS, f"{node.id}: {call.func.id} is not a timer function"
        if call.func.id == "time_limit":
            assert len(call.args) == 1
            assert isinstance(call.args[0], ast.Constant)
            assert isinstance(call.args[0].value, str)
        else:
            assert len(call.args) == 1
            assert isinstance(call.args[0], ast.Constant)
            assert isinstance(call.args[0].value, int)
            assert call.args[0].value > 0
        for keyword in call.keywords:
            assert isinstance(keyword.value, ast.Name | ast.Constant), f"{node.id}: {ast.unparse(keyword)}"
            assert names_read(ast.unparse(keyword.value), "eval") <= known, f"{node.id}: unknown variable"


def _time_limit_names(path: Path) -> set[str]:
    names = set()
    for _, body in model(path.stem).timers():
        call = ast.parse(body, mode="eval").body
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "time_limit":
            names.add(call.args[0].value)  # type: ignore[attr-defined]
    return names


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_every_time_limit_used_is_in_the_table(path: Path) -> None:
    """Every time_limit("name") a process uses exists in processes/time_limits.yaml (conventions §5)."""
    table = yaml_file("time_limits.yaml")["limits"]
    assert _time_limit_names(path) - set(table) == set()


def test_time_limit_table_entries_have_label_limit_and_source() -> None:
    """Every entry and variant has a limit and a citation; every entry a label; the format is version 1."""
    raw = yaml_file("time_limits.yaml")
    assert raw["version"] == 1
    assert raw["jurisdiction"]
    for name, entry in raw["limits"].items():
        assert set(entry) <= {"label", "limit", "source", "variants", "ladder", *CAP_KEYS}, name
        assert CJK.search(entry["label"]), name
        assert CITATION.search(entry["source"]), f"{name}: source must cite a seed, an article or a mark"
        if set(entry) & CAP_KEYS:
            assert CITATION.search(entry["caps_source"]), f"{name}: caps_source must cite its caps"
        for variant in entry.get("variants", []):
            assert set(variant) == {"when", "limit", "source"}, name
            assert CITATION.search(variant["source"]), name
        if "ladder" in entry:  # 电子监察: the ladder and every step that names its own source cite it
            ladder = entry["ladder"]
            assert CITATION.search(ladder["source"]), f"{name}: the ladder must cite its source"
            for step in ("warning", "reminders", "yellow", "red"):
                if isinstance(ladder.get(step), dict) and "source" in ladder[step]:
                    assert CITATION.search(ladder[step]["source"]), f"{name}: ladder {step}"


def test_time_limit_table_limits_parse() -> None:
    """Every limit in the table is read by the calendar's TimeLimit.parse."""
    from efficacy_flow.calendar import TimeLimit

    raw = yaml_file("time_limits.yaml")["limits"]
    texts = [e["limit"] for e in raw.values()] + [
        v["limit"] for e in raw.values() for v in e.get("variants", [])
    ]
    for text in texts:
        assert str(TimeLimit.parse(text)) == text


def test_every_time_limit_entry_is_used_or_documented_as_host_side() -> None:
    """Entries no timer uses are the ones a host passes to engine.extend (a comment in the table says so)."""
    used = set().union(*(_time_limit_names(p) for p in BPMN_FILES))
    unused = set(yaml_file("time_limits.yaml")["limits"]) - used
    assert unused == {"complaint_extension", "accountability_appeal_extension"}


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_elements_with_a_limit_or_consequence_cite_a_source(path: Path) -> None:
    """Timers and business-rule tasks carry documentation citing a source (conventions §10)."""
    m = model(path.stem)
    carriers = [node for node, _ in m.timers()] + m.of("businessRuleTask")
    for node in carriers:
        assert "来源" in node.documentation, node.id
        assert CITATION.search(node.documentation), node.id
    assert CITATION.search(m.process.findtext("bpmn:documentation", "", NS))


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_decision_refs_exist(path: Path) -> None:
    """Every business-rule task's camunda:decisionRef names a decision in processes/*.dmn (conventions §6)."""
    decisions = dmn_decisions()
    for rule in model(path.stem).of("businessRuleTask"):
        ref = rule.node.get(CAMUNDA_DECISION_REF)
        assert ref in decisions, f"{rule.id}: unknown decision {ref!r}"
        assert set(decisions[ref].inputs) <= known_variables(path.stem), (
            f"{rule.id}: inputs not in process data"
        )


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_exclusive_gateways_have_a_default_and_conditions(path: Path) -> None:
    """A forking exclusive gateway has a default flow and a condition on every other flow (conventions §7)."""
    m = model(path.stem)
    conditions = m.conditions()
    for gateway in m.of("exclusiveGateway"):
        outgoing = [(o.text or "").strip() for o in gateway.node.findall("bpmn:outgoing", NS)]
        if len(outgoing) < 2:
            continue
        default = gateway.node.get("default")
        assert default in outgoing, f"{gateway.id} needs a default flow"
        assert all(f in conditions for f in outgoing if f != default), gateway.id
        assert default not in conditions


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_conditions_and_scripts_read_only_known_variables(path: Path) -> None:
    """Each name a condition or script reads is set by start, task or message data, a script or a decision."""
    m = model(path.stem)
    known = known_variables(path.stem) | SAFE_BUILTINS
    for flow_id, condition in m.conditions().items():
        assert names_read(condition, "eval") <= known, f"{flow_id}: {condition}"
    for script_id, script in m.scripts().items():
        assert names_read(script, "exec") <= known, f"{script_id}: {script}"


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_schemas_declare_every_user_task_and_message(path: Path) -> None:
    """schemas.yaml has completion data for exactly the user tasks, and a payload for each message."""
    schema = yaml_file("schemas.yaml")[path.stem]
    m = model(path.stem)
    assert set(schema["tasks"]) == {t.id for t in m.of("userTask")}
    assert set(schema.get("messages") or {}) == m.message_refs()


def test_schema_fields_use_only_documented_keys() -> None:
    """Every field spec uses the types and keys of conventions §9, and enum defaults are among the values."""
    for process_id, schema in yaml_file("schemas.yaml").items():
        groups = [schema["start"], *schema["tasks"].values(), *(schema.get("messages") or {}).values()]
        for fields in groups:
            for name, spec in fields.items():
                where = f"{process_id}.{name}"
                assert set(spec) <= SCHEMA_KEYS, where
                assert spec["type"] in SCHEMA_TYPES, where
                if "enum" in spec and "default" in spec:
                    assert spec["default"] in spec["enum"], where
                if "pii" in spec:
                    assert spec["pii"] in {"phone", "id_number", "name"}, where


def test_settings_have_sources_and_match_schema_defaults() -> None:
    """Each setting has a value and a source; one carried as start data has that value as its default."""
    raw = yaml_file("settings.yaml")
    schemas = yaml_file("schemas.yaml")
    assert raw["version"] == 1
    for name, setting in raw["settings"].items():
        assert setting["source"], name
        if "allowed" in setting:
            assert setting["value"] in setting["allowed"], name
        if "schema" in setting:
            process_id, group, field_name = setting["schema"].split(".")
            assert schemas[process_id][group][field_name]["default"] == setting["value"], name
    assert raw["settings"]["admonition_year"]["value"] == "calendar"


@pytest.mark.parametrize("path", DMN_FILES, ids=lambda p: p.name)
def test_dmn_files_are_dmn13_with_a_diagram(path: Path) -> None:
    """DMN files are DMN 1.3 as dmn-js saves them, with a DMNDI shape for every decision."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{NS['dmn']}}}definitions"
    decisions = {d.get("id") for d in root.findall("dmn:decision", NS)}
    shapes = {s.get("dmnElementRef") for s in root.iter(f"{{{NS['dmndi']}}}DMNShape")}
    assert decisions
    assert decisions <= shapes


# FEEL unary tests as dmn-js writes them (a simple-positive-unary-test list, not(), or "-").
_LITERAL = r'("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null|date\("\d{4}-\d{2}-\d{2}"\))'
_TEST = rf"((<|<=|>|>=)\s*{_LITERAL}|[\[\]\(]\s*{_LITERAL}\s*\.\.\s*{_LITERAL}\s*[\]\[\)]|{_LITERAL})"
UNARY = re.compile(rf"^(-|{_TEST}(\s*,\s*{_TEST})*|not\(\s*{_TEST}(\s*,\s*{_TEST})*\s*\))$")
OUTPUT_LITERAL = re.compile(rf"^{_LITERAL}$")


def test_dmn_cells_are_feel_unary_tests_and_literals() -> None:
    """Input entries are dmn-js FEEL unary tests; output entries are literals; each rule is annotated."""
    for decision in dmn_decisions().values():
        for inputs, outputs, description in decision.rules:
            assert all(UNARY.match(cell) for cell in inputs), (decision.id, inputs)
            assert all(OUTPUT_LITERAL.match(cell) for cell in outputs), (decision.id, outputs)
            assert description, f"{decision.id}: every rule carries its source as an annotation"


def test_the_decisions_the_issue_names_exist() -> None:
    """processes/ ships the person's and the unit's admonition tables, the ladder and the urgency table."""
    assert set(dmn_decisions()) == {
        "admonition_consequence",
        "unit_admonition_consequence",
        "supervision_ladder",
        "complaint_urgency",
        "card_rules",
        "section_chief_grade",
    }
    paths = {dmn_decisions()[d].path.name for d in ("admonition_consequence", "unit_admonition_consequence")}
    assert paths == {"admonition_consequence.dmn"}


def test_every_decision_is_called_by_a_process() -> None:
    """Each shipped decision is the decisionRef of some business-rule task, or one the library itself calls
    (card_rules: the deadline ladder's cards, docs/supervision.md; section_chief_grade: the 百名科长 grades,
    docs/metrics.md): no table is dead weight."""
    refs = {
        rule.node.get(CAMUNDA_DECISION_REF)
        for path in BPMN_FILES
        for rule in model(path.stem).of("businessRuleTask")
    }
    called = {"card_rules", "section_chief_grade"}
    assert refs | called == set(dmn_decisions())
    assert not refs & called


def test_accountability_routes_the_consequence_by_subject_type() -> None:
    """告诫对象？ sends 单位 to unit_admonition_consequence and 个人 (default) to admonition_consequence.

    Both tables read only admonitions_this_year; both branches merge into one gateway before 送达处理决定.
    """
    m = model("accountability")
    gateway = m.nodes["Gateway_SubjectType"]
    assert (gateway.tag, gateway.name) == ("exclusiveGateway", "告诫对象？")
    conditions = m.conditions()
    targets = {}
    for out in gateway.node.findall("bpmn:outgoing", NS):
        flow = m.flows[(out.text or "").strip()]
        target = m.nodes[flow.get("targetRef", "")]
        assert target.tag == "businessRuleTask"
        is_default = flow.get("id") == gateway.node.get("default")
        key = "default" if is_default else conditions[flow.get("id", "")]
        targets[key] = target.node.get(CAMUNDA_DECISION_REF)
        [after] = [f for f in m.flows.values() if f.get("sourceRef") == target.id]
        assert after.get("targetRef") == "Gateway_ConsequenceMerge"
    assert targets == {
        'subject_type == "单位"': "unit_admonition_consequence",
        "default": "admonition_consequence",
    }
    enum = yaml_file("schemas.yaml")["accountability"]["start"]["subject_type"]["enum"]
    assert enum == ["个人", "单位"], "the default branch stands for 个人 only while these are the two types"


@pytest.mark.parametrize("urgency", ["紧急", "较急", "一般", "复杂"])
def test_urgency_table_agrees_with_the_time_limit_table(urgency: str) -> None:
    """complaint_urgency's handling_limit for a tier (any category) is time_limits.yaml's complaint_handling
    for it; for 一般, each category rule's is the table's for its categories."""
    decision = dmn_decisions()["complaint_urgency"]
    entry = yaml_file("time_limits.yaml")["limits"]["complaint_handling"]
    limit_column = decision.outputs.index("handling_limit")
    rows = [outputs for inputs, outputs, _ in decision.rules if inputs == [f'"{urgency}"', "-"]]
    assert len(rows) == 1
    assert rows[0][limit_column] == f'"{resolve_limit(entry, urgency=urgency)}"'
    for inputs, outputs, _ in decision.rules:
        if inputs[0] == f'"{urgency}"' and inputs[1] != "-":
            for category in inputs[1].replace('"', "").split(","):
                limit = resolve_limit(entry, urgency=urgency, category=category)
                assert outputs[limit_column] == f'"{limit}"'


def test_urgency_tiers_agree_across_schema_and_table() -> None:
    """The urgency enum in schemas.yaml lists the tiers of the complaint_urgency table, in order."""
    enum = yaml_file("schemas.yaml")["complaint_closure"]["start"]["urgency"]["enum"]
    allowed = dmn_decisions()["complaint_urgency"].input_values["urgency"]
    assert allowed == ",".join(f'"{tier}"' for tier in enum)


def test_bpmnlint_configuration_extends_recommended() -> None:
    """CI lints with npm's bpmnlint and its recommended rules; the package is pinned and locked."""
    import json

    root = PROCESSES.parent
    rc = json.loads((root / ".bpmnlintrc").read_text(encoding="utf-8"))
    package = json.loads((root / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((root / "package-lock.json").read_text(encoding="utf-8"))
    assert rc["extends"] == "bpmnlint:recommended"
    assert rc.get("rules", {}) == {}, "a rule disabled needs a reason in docs/processes.md; none is"
    assert package["devDependencies"]["bpmnlint"].startswith("~11.")
    assert lock["packages"]["node_modules/bpmnlint"]["version"].startswith("11.")


@pytest.mark.parametrize("path", BPMN_FILES, ids=ids)
def test_designer_doc_describes_every_element(path: Path) -> None:
    """docs/processes.md names every flow node of every process (its element tables stay whole)."""
    doc = (PROCESSES.parent / "docs" / "processes.md").read_text(encoding="utf-8")
    assert [node for node in model(path.stem).nodes if f"| {node} |" not in doc] == []
