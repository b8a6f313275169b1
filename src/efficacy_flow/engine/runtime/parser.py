"""Reading a parsed BPMN document into SpiffWorkflow specs, with the engine's timers, messages and
business-rule tasks.

The engine parses every file once, hardened (no DTD, no entities, no network), and hands the tree here: this
module never reads a file or a string itself, so SpiffWorkflow never parses with lxml's defaults.
"""

from __future__ import annotations

from typing import Any, ClassVar

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
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
    ClockTimeDateEventDefinition,
    EngineMessageEventDefinition,
    PolicyRuleTask,
)
from efficacy_flow.errors import ProcessDefinitionError

__all__ = ["EngineParser", "parse_specs"]


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
        time_date = first(parser.xpath(".//bpmn:timeDate"))
        if time_date is None or not (time_date.text or "").strip():
            raise ValidationException(
                "only <bpmn:timeDate> timers are supported (conventions §4)",
                node=parser.node,
                file_name=parser.filename,
            )
        name = parser.node.get("name", parser.node.get("id"))
        return ClockTimeDateEventDefinition(
            name, time_date.text.strip(), description=parser.get_event_description(event)
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
        full_tag("receiveTask"): (_Receive, ReceiveTask),
        full_tag("sendTask"): (_Send, SendTask),
    }


def parse_specs(root: Any, path: str, process_id: str) -> tuple[Any, dict[str, Any]]:
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
    for task_spec in [
        *spec.task_specs.values(),
        *(t for s in subprocess_specs.values() for t in s.task_specs.values()),
    ]:
        if (
            getattr(task_spec, "manual", False)
            and not isinstance(task_spec, CatchingEvent)
            and not task_spec.lane
        ):
            raise ProcessDefinitionError(
                f"{path}: user task {task_spec.bpmn_id} is outside any lane "
                "(conventions §2: lanes are roles)",
                path=path,
                element_id=task_spec.bpmn_id,
                process_id=process_id,
            )
    return spec, subprocess_specs
