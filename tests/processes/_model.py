"""Read processes/ (BPMN, DMN and YAML) with the standard library, for tests that need no engine."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
BPMN_FILES = sorted(PROCESSES.glob("*.bpmn"))
DMN_FILES = sorted(PROCESSES.glob("*.dmn"))
PROCESS_IDS = [
    "complaint_closure",
    "window_escalation",
    "accountability",
    "supervision_ladder",
    "task_ledger",
    "good_bad_review",
]

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/",
}
CAMUNDA_DECISION_REF = f"{{{NS['camunda']}}}decisionRef"

FLOW_NODE_TAGS = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "userTask",
    "scriptTask",
    "serviceTask",
    "businessRuleTask",
    "receiveTask",
    "sendTask",
    "manualTask",
    "task",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "subProcess",
    "callActivity",
}

#: The timer functions of conventions §4.
TIMER_FUNCTIONS = {"working_days", "days", "hours", "months", "time_limit"}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass
class Element:
    id: str
    tag: str
    name: str
    node: ET.Element

    @property
    def documentation(self) -> str:
        doc = self.node.find("bpmn:documentation", NS)
        return (doc.text or "") if doc is not None else ""


@dataclass
class BpmnModel:
    path: Path
    root: ET.Element
    process: ET.Element
    nodes: dict[str, Element] = field(default_factory=dict)
    flows: dict[str, ET.Element] = field(default_factory=dict)
    lane_of: dict[str, str] = field(default_factory=dict)  # flow node id -> lane name

    @property
    def id(self) -> str:
        return self.process.get("id", "")

    def of(self, *tags: str) -> list[Element]:
        return [n for n in self.nodes.values() if n.tag in tags]

    def timers(self) -> list[tuple[Element, str]]:
        """Every timer event with the body of its timeDate."""
        found = []
        for node in self.nodes.values():
            body = node.node.find("bpmn:timerEventDefinition/bpmn:timeDate", NS)
            if body is not None:
                found.append((node, (body.text or "").strip()))
        return found

    def conditions(self) -> dict[str, str]:
        out = {}
        for fid, flow in self.flows.items():
            cond = flow.find("bpmn:conditionExpression", NS)
            if cond is not None:
                out[fid] = (cond.text or "").strip()
        return out

    def scripts(self) -> dict[str, str]:
        return {n.id: (n.node.findtext("bpmn:script", "", NS) or "").strip() for n in self.of("scriptTask")}

    def messages(self) -> dict[str, str]:
        """Message id -> message name."""
        return {m.get("id", ""): m.get("name", "") for m in self.root.findall("bpmn:message", NS)}

    def message_refs(self) -> set[str]:
        """The names of the messages the process catches."""
        by_id = self.messages()
        refs = {n.node.get("messageRef") for n in self.nodes.values() if n.node.get("messageRef")}
        for n in self.nodes.values():
            for definition in n.node.findall("bpmn:messageEventDefinition", NS):
                refs.add(definition.get("messageRef"))
        return {by_id[r] for r in refs if r}


@cache
def bpmn(path: Path) -> BpmnModel:
    root = ET.parse(path).getroot()
    processes = root.findall("bpmn:process", NS)
    assert len(processes) == 1, f"{path.name}: one process per file (conventions §1)"
    model = BpmnModel(path, root, processes[0])
    for child in model.process:
        tag = local(child.tag)
        if tag in FLOW_NODE_TAGS:
            model.nodes[child.get("id", "")] = Element(child.get("id", ""), tag, child.get("name", ""), child)
        elif tag == "sequenceFlow":
            model.flows[child.get("id", "")] = child
    for lane in model.process.iter(f"{{{NS['bpmn']}}}lane"):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            model.lane_of[(ref.text or "").strip()] = lane.get("name", "")
    return model


def model(process_id: str) -> BpmnModel:
    return bpmn(PROCESSES / f"{process_id}.bpmn")


@cache
def yaml_file(name: str) -> Any:
    return yaml.safe_load((PROCESSES / name).read_text(encoding="utf-8"))


@dataclass
class DmnDecision:
    id: str
    path: Path
    inputs: list[str]
    input_values: dict[str, str]
    outputs: list[str]
    rules: list[tuple[list[str], list[str], str]]  # (input entries, output entries, description)


@cache
def dmn_decisions() -> dict[str, DmnDecision]:
    out: dict[str, DmnDecision] = {}
    for path in DMN_FILES:
        root = ET.parse(path).getroot()
        for decision in root.findall("dmn:decision", NS):
            table = decision.find("dmn:decisionTable", NS)
            assert table is not None, f"{path.name}: {decision.get('id')} has no decision table"
            inputs, values = [], {}
            for inp in table.findall("dmn:input", NS):
                expr = (inp.findtext("dmn:inputExpression/dmn:text", "", NS) or "").strip()
                inputs.append(expr)
                allowed = inp.find("dmn:inputValues/dmn:text", NS)
                if allowed is not None:
                    values[expr] = (allowed.text or "").strip()
            outputs = [o.get("name", "") for o in table.findall("dmn:output", NS)]
            rules = [
                (
                    [
                        (e.findtext("dmn:text", "", NS) or "").strip()
                        for e in rule.findall("dmn:inputEntry", NS)
                    ],
                    [
                        (e.findtext("dmn:text", "", NS) or "").strip()
                        for e in rule.findall("dmn:outputEntry", NS)
                    ],
                    (rule.findtext("dmn:description", "", NS) or "").strip(),
                )
                for rule in table.findall("dmn:rule", NS)
            ]
            decision_id = decision.get("id", "")
            out[decision_id] = DmnDecision(decision_id, path, inputs, values, outputs, rules)
    return out


def names_read(source: str, mode: str) -> set[str]:
    """The variable names an expression (mode "eval") or a script (mode "exec") reads (a comprehension's own
    loop variables excluded)."""
    tree = ast.parse(source, mode=mode)
    bound = {
        n.id
        for c in ast.walk(tree)
        if isinstance(c, ast.comprehension)
        for n in ast.walk(c.target)
        if isinstance(n, ast.Name)
    }
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - bound - {"True", "False", "None"}


def names_assigned(source: str) -> set[str]:
    tree = ast.parse(source, mode="exec")
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def resolve_limit(entry: dict[str, Any], **keys: Any) -> str:
    """conventions §5: the first variant whose `when` matches every key it names, else the entry's limit."""
    for variant in entry.get("variants", []):
        if all(name in keys and keys[name] == value for name, value in variant["when"].items()):
            return str(variant["limit"])
    return str(entry["limit"])
