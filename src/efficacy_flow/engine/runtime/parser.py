"""Reading a parsed BPMN document into SpiffWorkflow specs, with the engine's timers, messages and
business-rule tasks.

The engine parses every file once, hardened (no DTD, no entities, no network), and hands the tree here: this
module never reads a file or a string itself, so SpiffWorkflow never parses with lxml's defaults.
"""

from __future__ import annotations

from typing import Any, ClassVar

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask, SendTask
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaEventDefinitionParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser

from efficacy_flow.engine.runtime.exceptions import StepErrors, annotate
from efficacy_flow.engine.runtime.specs import (
    ClockCycleEventDefinition,
    ClockTimeDateEventDefinition,
    EngineMessageEventDefinition,
    LoopSafeParallelGateway,
    PolicyRuleTask,
)
from efficacy_flow.errors import ProcessDefinitionError

__all__ = ["CALENDAR_ATTRIBUTES", "EngineParser", "parse_specs"]

#: The attributes of ``<bpmn:timerEventDefinition>`` that name the calendar a ``timeDuration`` counts on:
#: the engine's own (``ef:calendar``), and Flowable's ``businessCalendarName`` (a Flowable file counts the
#: same).
EF_NS = "https://efficacy-flow.org/schema/bpmn"
FLOWABLE_NS = "http://flowable.org/bpmn"
CALENDAR_ATTRIBUTES = (f"{{{EF_NS}}}calendar", f"{{{FLOWABLE_NS}}}businessCalendarName")


class _PolicyRuleTaskParser(CamundaTaskParser):  # type: ignore[misc]
    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        # BpmnDmnParser collects decision dependencies through this hook.
        ref = node.get(f"{{{CAMUNDA_MODEL_NS}}}decisionRef")
        return str(ref) if ref is not None else None

    def create_task(self) -> PolicyRuleTask:
        ref = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}decisionRef")
        if not ref:
            self.raise_validation_exception("a businessRuleTask needs camunda:decisionRef")
        result_variable = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}resultVariable")
        return PolicyRuleTask(
            self.spec, self.bpmn_id, decision_ref=ref, result_variable=result_variable, **self.bpmn_attributes
        )


class _EventParsing:
    """Replaces the timer and message definitions the stock event parsers build."""

    def parse_timer_event(self, event: Any) -> ClockTimeDateEventDefinition:
        parser: Any = self
        name = parser.node.get("name", parser.node.get("id"))
        description = parser.get_event_description(event)
        time_date = first(parser.xpath(".//bpmn:timeDate"))
        if time_date is not None and (time_date.text or "").strip():
            return ClockTimeDateEventDefinition(name, time_date.text.strip(), description=description)
        time_duration = first(parser.xpath(".//bpmn:timeDuration"))
        if time_duration is not None and (time_duration.text or "").strip():
            # The deployment check (engine/_definitions.py) has read the calendar attribute already.
            calendar = next((event.get(a) for a in CALENDAR_ATTRIBUTES if event.get(a)), None)
            return ClockTimeDateEventDefinition(
                name, time_duration.text.strip(), duration=True, calendar=calendar, description=description
            )
        time_cycle = first(parser.xpath(".//bpmn:timeCycle"))
        if time_cycle is not None and (time_cycle.text or "").strip():
            # Checked at deployment (engine/_definitions.py): R<n>/<duration> on a non-interrupting boundary.
            count, _, every = time_cycle.text.strip().upper().partition("/")
            calendar = next((event.get(a) for a in CALENDAR_ATTRIBUTES if event.get(a)), None)
            return ClockCycleEventDefinition(
                name,
                every,
                repeats=int(count[1:]) if count[1:] else None,
                calendar=calendar,
                description=description,
            )
        raise ValidationException(
            "a timer needs a <bpmn:timeDate>, <bpmn:timeDuration> or <bpmn:timeCycle> (conventions §4)",
            node=parser.node,
            file_name=parser.filename,
        )

    def parse_message_event(self, message_event: Any) -> EngineMessageEventDefinition:
        parsed = super().parse_message_event(message_event)  # type: ignore[misc]
        return EngineMessageEventDefinition(
            parsed.name, parsed.correlation_properties, parsed.expression, parsed.result_var
        )


class _Start(_EventParsing, CamundaStartEventParser):  # type: ignore[misc]
    pass


class _End(_EventParsing, CamundaEndEventParser):  # type: ignore[misc]
    pass


class _Catch(_EventParsing, CamundaIntermediateCatchEventParser):  # type: ignore[misc]
    pass


class _Throw(_EventParsing, CamundaIntermediateThrowEventParser):  # type: ignore[misc]
    pass


class _Boundary(_EventParsing, CamundaBoundaryEventParser):  # type: ignore[misc]
    pass


class _Receive(_EventParsing, CamundaEventDefinitionParser, ReceiveTaskParser):  # type: ignore[misc]
    pass


class _Send(_EventParsing, CamundaEventDefinitionParser, SendTaskParser):  # type: ignore[misc]
    pass


_STOCK = CamundaParser.OVERRIDE_PARSER_CLASSES


class EngineParser(CamundaParser):  # type: ignore[misc]
    """CamundaParser with the engine's timers, messages and business-rule tasks."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, tuple[Any, Any]]] = {
        **_STOCK,
        full_tag("startEvent"): (_Start, _STOCK[full_tag("startEvent")][1]),
        full_tag("endEvent"): (_End, _STOCK[full_tag("endEvent")][1]),
        full_tag("intermediateCatchEvent"): (_Catch, _STOCK[full_tag("intermediateCatchEvent")][1]),
        full_tag("intermediateThrowEvent"): (_Throw, _STOCK[full_tag("intermediateThrowEvent")][1]),
        full_tag("boundaryEvent"): (_Boundary, _STOCK[full_tag("boundaryEvent")][1]),
        full_tag("businessRuleTask"): (_PolicyRuleTaskParser, PolicyRuleTask),
        # The stock parser, the engine's join (runtime/specs.py): a loop through a fork joins per pass.
        full_tag("parallelGateway"): (
            BpmnParser.PARSER_CLASSES[full_tag("parallelGateway")][0],
            LoopSafeParallelGateway,
        ),
        full_tag("receiveTask"): (_Receive, ReceiveTask),
        full_tag("sendTask"): (_Send, SendTask),
    }


def parse_specs(
    root: Any, path: str, process_id: str, *, candidate_groups: bool = True
) -> tuple[Any, dict[str, Any]]:
    """The spec of ``process_id`` and of the processes it calls, from a parsed BPMN document.

    Raises:
        ProcessDefinitionError: SpiffWorkflow refuses the document, or a user task sits outside every lane
            (conventions §2: lanes are roles), naming the file and the element.
    """
    parser = EngineParser()
    try:
        with StepErrors(process_id, path, None):
            parser.add_bpmn_xml(root, filename=path)
            spec = parser.get_spec(process_id)
            subprocess_specs = dict(parser.get_subprocess_specs(process_id))
    except ProcessDefinitionError as exc:
        cause = exc.__cause__
        if isinstance(cause, ValidationException) and getattr(cause, "id", None):
            annotate(exc, element_id=cause.id)  # the parser names the element it refused in its own field
        raise
    groups = _candidate_groups(root, path, process_id) if candidate_groups else {}
    for task_spec in [
        *spec.task_specs.values(),
        *(t for s in subprocess_specs.values() for t in s.task_specs.values()),
    ]:
        group = groups.get(str(task_spec.bpmn_id)) if getattr(task_spec, "manual", False) else None
        if group is not None:
            # camunda:candidateGroups names the role by id; it wins over the lane (which is then layout only,
            # as in Camunda). The lane is the spec's public attribute the runtime reads the role from.
            task_spec.lane = group
        if (
            getattr(task_spec, "manual", False)
            and not isinstance(task_spec, CatchingEvent)
            and not task_spec.lane
        ):
            raise ProcessDefinitionError(
                f"{path}: user task {task_spec.bpmn_id} is outside any lane and names no"
                " camunda:candidateGroups (conventions §2: the lane or the candidate group is the role)",
                path=path,
                element_id=task_spec.bpmn_id,
                process_id=process_id,
            )
    return spec, subprocess_specs


def _candidate_groups(root: Any, path: str, process_id: str) -> dict[str, str]:
    """User task id → the role its ``camunda:candidateGroups`` names (one group: the engine's work lists and
    permissions have one role per task)."""
    groups: dict[str, str] = {}
    attribute = f"{{{CAMUNDA_MODEL_NS}}}candidateGroups"
    for node in root.iter(full_tag("userTask")):
        text = node.get(attribute)
        if text is None:
            continue
        names = [name.strip() for name in text.split(",") if name.strip()]
        element_id = str(node.get("id"))
        if len(names) != 1 or "${" in text or "#{" in text:
            raise ProcessDefinitionError(
                f"{path}: user task {element_id} has camunda:candidateGroups {text!r}: name exactly one group"
                " (its role id), not an expression or a list",
                path=path,
                element_id=element_id,
                process_id=process_id,
            )
        groups[element_id] = names[0]
    return groups
