"""The seam to SpiffWorkflow: parser, script engine, clock-bound timers, messages, business rules, serializer.

Nothing here patches SpiffWorkflow: the stock classes are subclassed and registered with the parser (and the
serializer, under the stock type names), so a workflow reads time from the engine's clock through its script
engine and runs every expression in the sandbox.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import zstandard

try:  # optional: the state is the same JSON without it, written more slowly (docs/engine.md)
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask, SendTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
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
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.clock import Clock
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine._workflow import EngineWorkflow
from efficacy_flow.errors import EfficacyFlowError, StoreError

__all__ = [
    "STATE_FORMAT_VERSION",
    "ClockTimeDateEventDefinition",
    "EngineMessageEventDefinition",
    "EngineParser",
    "EngineScriptEngine",
    "PolicyRuleTask",
    "compress_state",
    "decompress_state",
    "dump_state",
    "is_timer",
    "load_state",
    "message_event",
]

#: The saved-state format this version writes (``format_version`` in every saved instance).
STATE_FORMAT_VERSION = 1

#: Internal-data keys the engine keeps on SpiffWorkflow tasks (they travel inside the saved state).
READY_AT = "ef_ready_at"
UNIT = "ef_unit"
KIND = "ef_kind"
REMAINING = "ef_remaining"

TimerEvaluator = Callable[[Any, str], tuple[str, str]]


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Where SpiffWorkflow evaluates through ``script_engine.environment`` directly (message correlations)."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__({})
        self.sandbox = sandbox

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Any = None) -> Any:
        return self.sandbox.evaluate(expression, context, external_context or {})

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        self.sandbox.execute(script, context, external_context or {})
        return True


class EngineScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Runs conditions and scripts in the sandbox and gives timers and business rules the engine's services.

    One instance per deployed definition (it carries that definition's time-limit table); the sandbox, clock
    and
    calendar are shared by the whole engine.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        clock: Clock,
        timer_evaluator: TimerEvaluator,
        decide: Callable[[str, Mapping[str, Any]], Any] | None = None,
    ) -> None:
        super().__init__(environment=_SandboxEnvironment(sandbox))
        self.sandbox = sandbox
        self.clock = clock
        self._timer_evaluator = timer_evaluator
        self._decide = decide

    def validate(self, expression: str) -> None:
        self.sandbox.compile(expression, "eval")

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        try:
            return self.sandbox.evaluate(expression, task.data, external_context or {})
        except EfficacyFlowError:
            raise
        except Exception as exc:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}'", task=task, exception=exc
            ) from exc

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        try:
            self.sandbox.execute(script, task.data, external_context or {})
        except EfficacyFlowError:
            raise
        except Exception as exc:
            raise self.create_task_exec_exception(task, script, exc) from exc
        return True

    def evaluate_timer(self, task: Any, expression: str) -> tuple[str, str]:
        """The due instant (ISO-8601, +08:00) of a timer becoming ready now, and its kind (for suspension)."""
        return self._timer_evaluator(task, expression)

    def decide(self, task: Any, decision_ref: str, result_variable: str | None) -> None:
        """Run a DMN decision through efficacy_flow.policy and put its result into the task data
        (conventions §6)."""
        if self._decide is None:
            raise WorkflowTaskException(f"no decisions are loaded for {decision_ref!r}", task=task)
        result = self._decide(decision_ref, dict(task.data))
        if isinstance(result, dict):
            task.data.update(result)
        else:
            task.data[result_variable or decision_ref] = result


class ClockTimeDateEventDefinition(TimeDateEventDefinition):  # type: ignore[misc]
    """A ``timeDate`` timer evaluated by the engine and compared with the engine's clock (never the wall's).

    The due instant is computed once, when the timer becomes ready (so it counts from the moment the
    attached task
    became ready). It fires when ``due <= now``: a period ending at 24:00 has ended at 00:00 of the next day.
    While the instance is suspended it does not fire.
    """

    def has_fired(self, my_task: Any) -> bool:
        engine: EngineScriptEngine = my_task.workflow.top_workflow.script_engine
        value = my_task._get_internal_data("event_value")
        if value is None:
            value, kind = engine.evaluate_timer(my_task, self.expression)
            my_task._set_internal_data(event_value=value, **{KIND: kind})
        if my_task._get_internal_data("event_fired", False):
            return True
        if getattr(my_task.workflow.top_workflow, "ef_suspended", False):
            return False
        if datetime.fromisoformat(value) <= engine.clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class EngineMessageEventDefinition(CamundaMessageDefinition):  # type: ignore[misc]
    """A message whose payload is merged into the process data (conventions §8) unless a result variable is
    set."""

    def update_internal_data(self, my_task: Any, event: Any) -> None:
        my_task.internal_data[self.name] = event.payload

    def update_task_data(self, my_task: Any) -> None:
        event_data = my_task.internal_data.get(self.name) or {}
        payload = event_data.get("payload")
        result_var = self.result_var or event_data.get("result_var")
        if result_var:
            my_task.data[result_var] = payload
        elif isinstance(payload, dict):
            my_task.data.update(payload)


def message_event(name: str, payload: Mapping[str, Any]) -> Any:
    """The event ``engine.message`` sends into a workflow."""
    return BpmnEvent(
        EngineMessageEventDefinition(name), payload={"payload": dict(payload), "result_var": None}
    )


class PolicyRuleTask(ScriptEngineTask, BpmnSpecMixin):  # type: ignore[misc]
    """A business-rule task evaluated through efficacy_flow.policy (never SpiffWorkflow's own DMN engine)."""

    def __init__(
        self, wf_spec: Any, bpmn_id: str, decision_ref: str, result_variable: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref
        self.result_variable = result_variable

    def _execute(self, task: Any) -> bool:
        engine: EngineScriptEngine = task.workflow.top_workflow.script_engine
        try:
            engine.decide(task, self.decision_ref, self.result_variable)
        except EfficacyFlowError:
            raise
        except Exception as exc:
            raise WorkflowTaskException(
                f"decision {self.decision_ref!r} failed", task=task, exception=exc
            ) from exc
        # SpiffWorkflow reads True as "finished"; None would leave the task STARTED forever.
        return True


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


class EngineParser(CamundaParser):  # type: ignore[misc]
    """CamundaParser with the engine's timers, messages and business-rule tasks."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, tuple[Any, Any]]] = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (_Start, CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("startEvent")][1]),
        full_tag("endEvent"): (_End, CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("endEvent")][1]),
        full_tag("intermediateCatchEvent"): (
            _Catch,
            CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("intermediateCatchEvent")][1],
        ),
        full_tag("intermediateThrowEvent"): (
            _Throw,
            CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("intermediateThrowEvent")][1],
        ),
        full_tag("boundaryEvent"): (
            _Boundary,
            CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("boundaryEvent")][1],
        ),
        full_tag("businessRuleTask"): (_PolicyRuleTaskParser, PolicyRuleTask),
        full_tag("receiveTask"): (_Receive, ReceiveTask),
        full_tag("sendTask"): (_Send, SendTask),
    }


#: Values the stock converters pass through unchanged (``DefaultRegistry.restore`` returns them as they are).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _native(value: Any) -> bool:
    """Whether orjson writes ``value`` exactly as ``json.dumps`` would read back: str-keyed dicts, lists,
    strings, ints, bools, None and finite floats (orjson writes NaN and infinities as null)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if not (kind is str or item is None or kind is bool or kind is int) and not _native(item):
                return False
        return True
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return bool(value - value == 0.0)  # False for NaN and the infinities
    if kind is list or kind is tuple:
        return all(_native(v) for v in value)
    return False


class _FastTaskConverter(TaskConverter):  # type: ignore[misc]
    """The stock task converter's exact output (same keys, order and data delta), built without the generic
    per-value dispatch of the registry, which is most of the cost of saving a workflow."""

    def to_dict(self, task: Any) -> dict[str, Any]:
        return self.task_dict(task, _ids(task.workflow), task.workflow.tasks)[0]

    def task_dict(self, task: Any, ids: _Ids, tasks: dict[UUID, Any]) -> tuple[dict[str, Any], bool]:
        """TaskConverter.to_dict(task) without ``typename``, and whether it is :func:`_native`.

        ``ids``: the workflow's id texts (see :func:`_ids`); ``tasks``: its task map.
        """
        parent = tasks.get(task._parent)  # task.parent, without the property call
        data, delta, internal, native = self._contents(task, parent)
        if internal is task.internal_data:
            internal = dict(internal)  # what registry.convert returns for plain values (a cleaned copy)
        changed = task.last_state_change
        dct = {
            "id": _text(ids, task.id),
            "parent": _text(ids, task._parent) if parent is not None else None,
            "children": [_text(ids, child) for child in task._children],
            "last_state_change": changed,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": internal,
            "data": data,
            "delta": delta,
        }
        return dct, native and type(changed) is float and changed - changed == 0.0

    def piece(self, task: Any, key: UUID, parent: Any, ids: _Ids, typename: str) -> bytes | None:
        """The task's entry in the saved ``tasks`` map, ``"<key>":{...}``, as orjson writes
        ``registry.convert(task)``; None when a value is not :func:`_native` (or orjson refuses it).

        :meth:`task_dict` and one ``orjson.dumps``, minus its temporary objects: ``parent`` is the task's
        parent (``None`` for the root) and ``typename`` the one of :class:`Task`.
        """
        data, delta, internal, native = self._contents(task, parent)
        changed = task.last_state_change
        if not (native and type(changed) is float and changed - changed == 0.0):
            return None
        try:
            body = orjson.dumps(
                {
                    "id": _text(ids, task.id),
                    "parent": _text(ids, task._parent) if parent is not None else None,
                    "children": [_text(ids, child) for child in task._children],
                    "last_state_change": changed,
                    "state": task._state,  # Task.state, without the property call (the type is Task)
                    "task_spec": task.task_spec.name,
                    "triggered": task.triggered,
                    "internal_data": internal,
                    "data": data,
                    "delta": delta,
                    "typename": typename,
                }
            )
        except orjson.JSONEncodeError:
            return None
        return b'"' + _text(ids, key).encode("ascii") + b'":' + body

    def _contents(self, task: Any, parent: Any) -> tuple[Any, dict[str, Any], dict[str, Any], bool]:
        """A task's ``data``, ``delta`` and ``internal_data`` as the stock converter writes them, and whether
        they are all :func:`_native`. Plain internal data is returned as the task's own dict (the stock
        conversion would be an equal copy: plain values are neither callables nor modules)."""
        after = task.data
        if parent is None:
            data: Any = after
            delta: dict[str, Any] = {}
            native = not after or _native(after)
        else:
            # DeepMerge.get_updated_keys / get_deleted_keys: the same comparisons, in the same order. The keys
            # of the parent's data also in the task's are counted: deletions are only looked for when one is
            # missing.
            before = parent.data
            data = {}
            updates = {}
            common = 0
            for k, v in after.items():
                if k in before:
                    common += 1
                    if v != before[k]:
                        updates[k] = v
                else:
                    updates[k] = v
            deletions = []
            native = not updates or _native(updates)
            if common != len(before):
                for k in before:
                    if k not in after:
                        deletions.append(k)
                        if type(k) is not str:  # _native(deletions), without a generator for text keys
                            native = native and _native(k)
            delta = {"updates": updates, "deletions": deletions}
        internal = task.internal_data
        if internal:
            for v in internal.values():
                if type(v) not in _PLAIN:
                    internal = self.registry.convert(internal)
                    break
            native = native and _native(internal)
        return data, delta, internal, native


#: Task states whose tasks are not written to in place (see :meth:`_SpeclessWorkflowConverter.encoded`).
_SETTLED = TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.FINISHED_MASK
#: A task's cached JSON piece: the task, its stamp, its children then, the piece, its parent task.
_Piece = tuple[Any, tuple[Any, ...], list[Any], bytes, Any]

#: Id texts by ``id()`` of the UUID object, which is kept alongside so that a recycled ``id()`` never
#: matches (hashing a UUID runs Python code; hashing an int does not).
_Ids = dict[int, tuple[UUID, str]]


def _ids(workflow: Any) -> _Ids:
    # Task ids never change, and str(UUID) is slow: a workflow (kept in the engine's cache between calls)
    # remembers the text of every id object it has seen.
    ids: _Ids | None = getattr(workflow, "ef_ids", None)
    if ids is None:
        ids = workflow.ef_ids = {}
    return ids


def _text(ids: _Ids, key: UUID) -> str:
    found = ids.get(id(key))
    if found is None or found[0] is not key:
        found = ids[id(key)] = (key, str(key))
    return found[1]


#: The start of a saved state whose workflow data and correlations are empty, up to ``last_task``'s value.
_HEAD = b'{"format_version":%d,"workflow":{"data":{},"correlations":{},"last_task":' % STATE_FORMAT_VERSION
#: Typenames as JSON strings.
_TYPENAMES: dict[str, bytes] = {}


def _quoted(name: str) -> bytes:
    found = _TYPENAMES.get(name)
    if found is None:
        found = _TYPENAMES[name] = orjson.dumps(name)
    return found


def _fields_native(dct: Mapping[str, Any]) -> bool:
    """Whether a workflow's own fields (all but its tasks) are :func:`_native`."""
    return (
        _native(dct["data"])
        and _native(dct["correlations"])
        and _native(dct["subprocesses"])
        and _native(dct["bpmn_events"])
        and type(dct["success"]) is bool
        and type(dct["completed"]) is bool
    )


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Serializes a workflow without its specs (they live once, in the definitions table)."""

    def __init__(self, target_class: Any, registry: Any, tasks: _FastTaskConverter) -> None:
        super().__init__(target_class, registry, typename="BpmnWorkflow")
        self.tasks = tasks

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        return self.body(workflow)[0]

    def body(self, workflow: Any) -> tuple[dict[str, Any], bool]:
        """``to_dict(workflow)`` (the stock converters' output) and whether all of it is :func:`_native`."""
        registry = self.registry
        if any(type(t) is not Task for t in workflow.tasks.values()):
            dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
            native = False
        else:
            # WorkflowConverter.to_dict with the task loop inlined (same keys, same order).
            ids = _ids(workflow)
            typename = registry.typenames[Task]
            tasks = {}
            native = True
            all_tasks = workflow.tasks
            task_dict = self.tasks.task_dict
            for key, task in all_tasks.items():
                item, plain = task_dict(task, ids, all_tasks)
                item["typename"] = typename
                tasks[_text(ids, key)] = item
                native = native and plain
            dct = {**self._head(workflow, ids), "tasks": tasks, "root": _text(ids, workflow.task_tree.id)}
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        return dct, native and _fields_native(dct)

    def _head(self, workflow: Any, ids: _Ids) -> dict[str, Any]:
        """The workflow's fields that come before its tasks, as WorkflowConverter.to_dict writes them."""
        last = workflow.last_task
        return {
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": _text(ids, last.id) if last is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
        }

    def encoded(self, workflow: Any) -> bytes | None:
        """``orjson.dumps({"format_version": ..., "workflow": to_dict(workflow)})`` from per-task pieces.

        The same bytes as :func:`dump_state`'s whole-dict path (tests/engine/test_engine_state_writer.py
        compares them with the stock converters at every step), but a task that is *settled* — predicted
        (MAYBE, LIKELY, FUTURE) or finished (COMPLETED, ERROR, CANCELLED), with a settled parent — is written
        once and its JSON piece reused while nothing it is made of has changed: its state, state-change time,
        ``triggered`` flag and children, and the identity and size of its data, its internal data and its
        parent's data. That relies on one property of SpiffWorkflow and this engine, checked by the tests
        above and by a simulated month of the shipped processes: the data of a settled task is never changed
        in place (SpiffWorkflow copies data into a task when it becomes ready, and only READY, STARTED and
        WAITING tasks — never cached — are written to). A piece is written by :meth:`_FastTaskConverter.piece`
        with the parent found on the first save (a task's parent never changes). The workflow's own fields
        are written as constants when they are empty (the usual case), and converted and checked otherwise;
        nothing of them is cached. None when a value needs the stdlib, or a task is not a plain :class:`Task`
        (then the caller takes the whole-dict path).
        """
        if orjson is None:  # pragma: no cover
            return None  # type: ignore[unreachable]
        registry = self.registry
        ids = _ids(workflow)
        typename = registry.typenames[Task]
        all_tasks = workflow.tasks
        piece_of = self.tasks.piece
        cached: dict[int, _Piece] = getattr(workflow, "ef_pieces", None) or {}
        kept: dict[int, _Piece] = {}
        pieces: list[bytes] = []
        append = pieces.append
        for key, task in all_tasks.items():
            if type(task) is not Task:  # e.g. a subclass with its own converter: the whole-dict path
                return None
            state = task._state
            tid = id(task)
            entry = cached.get(tid)
            if entry is not None and entry[0] is task:
                parent = entry[4]  # a task's parent never changes (hashing its UUID costs more than this)
            else:
                entry = None
                parent = all_tasks.get(task._parent)
            if state & _SETTLED and (parent is None or parent._state & _SETTLED):
                data, internal = task.data, task.internal_data
                parent_data = parent.data if parent is not None else None
                stamp = (
                    state,
                    task.last_state_change,
                    task.triggered,
                    data,
                    len(data),
                    internal,
                    len(internal),
                    parent_data,
                    -1 if parent_data is None else len(parent_data),
                )
                if entry is not None and entry[1] == stamp and entry[2] == task._children:
                    kept[tid] = entry
                    append(entry[3])
                    continue
            else:
                stamp = None
            piece = piece_of(task, key, parent, ids, typename)
            if piece is None:
                return None
            if stamp is not None:
                kept[tid] = (task, stamp, list(task._children), piece, parent)
            append(piece)
        workflow.ef_pieces = kept
        tasks = b",".join(pieces)
        last = workflow.last_task
        root = _text(ids, workflow.task_tree.id)
        data = workflow.data
        success, completed = workflow.success, workflow.completed
        if (
            not data
            and type(data) is dict
            and not workflow.correlations
            and type(workflow.correlations) is dict
            and not workflow.subprocesses
            and not workflow.bpmn_events
            and type(workflow.bpmn_events) is list
            and type(success) is bool
            and type(completed) is bool
        ):
            # The common case, written without converting or checking anything: the stock conversion of an
            # empty data dict, correlations map or subprocess map is {}, of an empty event list [].
            return b"".join(
                (
                    _HEAD,
                    b'"' + _text(ids, last.id).encode("ascii") + b'"' if last is not None else b"null",
                    b',"success":true,"completed":' if success else b',"success":false,"completed":',
                    b'true,"tasks":{' if completed else b'false,"tasks":{',
                    tasks,
                    b'},"root":"',
                    root.encode("ascii"),
                    b'","subprocesses":{},"bpmn_events":[],"typename":',
                    _quoted(registry.typenames[type(workflow)]),
                    b"}}",
                )
            )
        head = self._head(workflow, ids)
        tail = {
            "root": root,
            "subprocesses": self.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": registry.convert(workflow.bpmn_events),
            "typename": registry.typenames[type(workflow)],
        }
        if not _fields_native({**head, **tail}):
            return None
        try:
            # {"format_version":N,"workflow":{<head>,"tasks":{<pieces>},<tail>}}
            start = orjson.dumps({"format_version": STATE_FORMAT_VERSION, "workflow": head})[:-2]
            end = orjson.dumps(tail)[1:]
        except orjson.JSONEncodeError:
            return None
        return b"".join((start, b',"tasks":{', tasks, b"},", end, b"}"))

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> Any:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> tuple[Any, _SpeclessWorkflowConverter]:
    registry = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
    # Registered under the stock type names, so saved states read the same with or without this engine.
    TimerConditionalEventDefinitionConverter(
        ClockTimeDateEventDefinition, registry, typename="TimeDateEventDefinition"
    )
    MessageEventDefinitionConverter(EngineMessageEventDefinition, registry, typename="MessageEventDefinition")
    # Replaces the stock TaskConverter (same output, also inside subprocesses).
    tasks = _FastTaskConverter(Task, registry)
    # The engine's workflow class, saved and restored under the stock type name.
    return registry, _SpeclessWorkflowConverter(EngineWorkflow, registry, tasks)


_REGISTRY, _WORKFLOWS = _registry()


def dump_state(workflow: Any) -> bytes:
    """The saved state of a workflow: compact JSON without the process definition, zstd-compressed.

    The JSON is what ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` writes; orjson writes the
    same bytes about ten times faster, so it is used whenever every value is one it writes identically
    (:func:`_native`) and the stdlib otherwise (datetimes, NaN, non-string keys, integers beyond 64 bits).
    """
    encoded = _WORKFLOWS.encoded(workflow)
    if encoded is not None:
        return compress_state(encoded)
    workflow_dict, native = _WORKFLOWS.body(workflow)
    workflow_dict["typename"] = _REGISTRY.typenames[EngineWorkflow]  # as registry.convert(workflow) adds it
    # Not sort_keys: tasks must stay parent-before-child, SpiffWorkflow restores data deltas in that order.
    body = {"format_version": STATE_FORMAT_VERSION, "workflow": workflow_dict}
    if native and orjson is not None:
        try:
            encoded = orjson.dumps(body)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the stdlib writes it
            encoded = None
    if encoded is None:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_default)
        encoded = text.encode("utf-8")
    return compress_state(encoded)


def compress_state(encoded: bytes) -> bytes:
    """A state's JSON bytes as stored: one zstd frame (level 1, content size recorded).

    zstd rather than zlib: about 14 µs instead of 19 µs for a 6.5 KB state, and 6 % smaller (1.28 KB against
    1.36 KB). LZ4 (3 µs) was tried and dropped: its states were 40 % larger, which at scale pushed a waiting
    instance's row past half a 4 KB page (one row per page: 5.7 KB per instance instead of 3.6 KB).
    """
    compressor = getattr(_CODECS, "compressor", None)
    if compressor is None:  # zstd contexts are not thread-safe: one per thread
        compressor = _CODECS.compressor = zstandard.ZstdCompressor(level=1)
    compressed: bytes = compressor.compress(encoded)
    return compressed


#: Per-thread zstd contexts (reusing a context is about twice as fast as a fresh one per call).
_CODECS = threading.local()
#: The first bytes of a zstd frame. States written before zstd was used are zlib streams (first byte 0x78).
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: The largest decompressed state accepted: a damaged size field must not allocate gigabytes.
_MAX_STATE = 256 * 1024 * 1024


def decompress_state(state: bytes) -> bytes:
    """The JSON text of a saved state (zstd, or zlib as written by earlier versions).

    Raises:
        ValueError: a damaged zstd frame, or one that claims an implausible size. zlib.error: a damaged zlib
            stream.
    """
    if state[:4] == _ZSTD_MAGIC:
        try:
            size = zstandard.frame_content_size(state)
        except zstandard.ZstdError as exc:
            raise ValueError(f"damaged zstd state: {exc}") from exc
        if size < 0 or size > _MAX_STATE:  # -1: size unknown (this engine always records it)
            raise ValueError(f"zstd state of implausible size {size}")
        decompressor = getattr(_CODECS, "decompressor", None)
        if decompressor is None:
            decompressor = _CODECS.decompressor = zstandard.ZstdDecompressor()
        try:
            return decompressor.decompress(state)
        except zstandard.ZstdError as exc:
            raise ValueError(f"damaged zstd state: {exc}") from exc
    return zlib.decompress(state)


def load_state(state: bytes, spec: Any, subprocess_specs: Mapping[str, Any], script_engine: Any) -> Any:
    """Rebuild a workflow from its saved state and its (shared, already parsed) definition."""
    from efficacy_flow.engine._formats import upgrade

    try:
        body = upgrade(_parse(decompress_state(state)))
        workflow = _REGISTRY.restore(body["workflow"], spec=spec, subprocess_specs=dict(subprocess_specs))
    except (zlib.error, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StoreError(f"a saved instance state cannot be read: {exc!r}") from exc
    workflow.script_engine = script_engine
    return workflow


def _parse(encoded: bytes) -> Any:
    if orjson is not None:
        try:
            return orjson.loads(encoded)
        except orjson.JSONDecodeError:  # NaN, Infinity, huge integers: written by the stdlib, read by it
            pass
    return json.loads(encoded.decode("utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | timedelta):
        return str(value)
    raise TypeError(f"cannot save a {type(value).__name__} in process data")


def all_tasks(workflow: Any) -> list[Any]:
    """Every task of a workflow and its subprocesses (a plain walk over the task maps: much cheaper than
    SpiffWorkflow's filtered iterator, which the engine would otherwise run several times per call)."""
    found = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        found.extend(subprocess.tasks.values())
    return found


def waiting_timers(workflow: Any) -> list[Any]:
    """Every WAITING task whose event is one of the engine's timers."""
    return [task for task in all_tasks(workflow) if task.state == TaskState.WAITING and is_timer(task)]


def is_timer(task: Any) -> bool:
    """Whether a task's event is one of the engine's timers (whatever the task's state)."""
    return isinstance(getattr(task.task_spec, "event_definition", None), ClockTimeDateEventDefinition)
