"""SpiffWorkflow's own Camunda parser, with its XSD validation, reads every process (no engine needed)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from tests.processes._model import BPMN_FILES, DMN_FILES, NS, PROCESS_IDS

DECISION = f"{{{NS['dmn']}}}decision"


def _add_dmn(parser: CamundaParser, path: Path) -> None:
    """Validate a DMN file whole, then register each of its decisions from a copy holding only that one.

    SpiffWorkflow's DMNParser registers only a file's first decision (its bpmn_id reads dmn:decision[1]);
    efficacy_flow.policy, which runs the tables (conventions §6), reads every decision of a file.
    """
    root = etree.parse(str(path)).getroot()
    parser.add_dmn_xml(root, filename=str(path))
    for keep in root.iter(DECISION):
        single = copy.deepcopy(root)
        for other in single.findall(DECISION):
            if other.get("id") != keep.get("id"):
                single.remove(other)
        parser.add_dmn_xml(single, filename=str(path))


@pytest.fixture(scope="module")
def parser() -> CamundaParser:
    parser = CamundaParser(validator=BpmnValidator())
    for path in DMN_FILES:
        _add_dmn(parser, path)
    for path in BPMN_FILES:
        parser.add_bpmn_file(str(path))
    return parser


@pytest.mark.parametrize("process_id", PROCESS_IDS)
def test_process_validates_and_parses(parser: CamundaParser, process_id: str) -> None:
    """The file validates against the BPMN 2.0 XSD and builds a spec whose user tasks all carry a lane."""
    spec = parser.get_spec(process_id)
    user_tasks = [t for t in spec.task_specs.values() if type(t).__name__ == "UserTask"]
    assert user_tasks
    assert [t.name for t in user_tasks if not t.lane] == []
