"""The engine's task specs and event definitions: clock-bound timers, messages whose payload is data, and
business-rule tasks decided by efficacy_flow.policy.

Nothing here patches SpiffWorkflow: the stock classes are subclassed and registered with the parser
(runtime/parser.py) and the serializer (runtime/serializer.py) under the stock type names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageDefinition
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.engine.runtime.base import Due, Json

__all__ = [
    "ASSIGNEE",
    "CYCLES_FIRED",
    "DUE",
    "LIMIT",
    "OWNER",
    "PERIOD",
    "PROPOSAL",
    "READY_AT",
    "REMAINING",
    "ROLLED_FROM",
    "UNIT",
    "URGED_AT",
    "URGES",
    "ClockCycleEventDefinition",
    "ClockTimeDateEventDefinition",
    "EngineMessageEventDefinition",
    "LoopSafeParallelGateway",
    "PolicyRuleTask",
    "message_event",
    "record_due",
]

#: Internal-data keys the engine keeps on SpiffWorkflow tasks (runtime/formats.py describes format 2).
READY_AT = "ef_ready_at"
UNIT = "ef_unit"
PERIOD = "ef_period"
LIMIT = "ef_limit"
ROLLED_FROM = "ef_rolled_from"
REMAINING = "ef_remaining"
#: A ready user task's assignee (认领/指派), urge count and last urge instant (ISO text); absent: none, 0.
ASSIGNEE = "ef_assignee"
URGES = "ef_urges"
URGED_AT = "ef_urged_at"
#: While a task is delegated (委派): who delegated it (its owner, to whom it comes back), and then what the
#: delegate proposed (their completion data, for the owner to confirm).
OWNER = "ef_owner"
#: A pending timer's deadline-ladder progress (电子监察, engine/_ladder.py): how many of its steps before the
#: due time (the warning, then reminders) were issued; absent: none.
LADDER = "ef_ladder"
PROPOSAL = "ef_proposal"
#: How many times a cycle timer (``timeCycle``) has fired; absent: none.
CYCLES_FIRED = "ef_cycles_fired"
#: SpiffWorkflow's own key for a timer's due instant (ISO-8601 text).
DUE = "event_value"
#: ``ef_period`` of a timer whose ``timeDate`` is a fixed instant.
INSTANT = "instant"


def record_due(internal: dict[str, Json], due: Due) -> None:
    """Write a due time into a timer's internal data (the keys of format 2)."""
    internal[DUE] = due.due_at.isoformat()
    if due.limit is not None:
        internal[PERIOD] = due.limit.unit.value
        internal[LIMIT] = f"{due.limit.n} {due.limit.unit.value}"
    elif PERIOD not in internal:
        internal[PERIOD] = INSTANT
    if due.rolled_from is not None:
        internal[ROLLED_FROM] = due.rolled_from.isoformat()
    else:
        internal.pop(ROLLED_FROM, None)


class ClockTimeDateEventDefinition(TimeDateEventDefinition):  # type: ignore[misc]
    """A ``timeDate`` or ``timeDuration`` timer evaluated by the engine and compared with the engine's instant
    (never the wall's).

    The due instant is computed once, when the timer becomes ready (so it counts from the moment the attached
    task became ready). It fires when ``due <= now``: a period ending at 24:00 has ended at 00:00 of the next
    day. While the workflow's timers are held (suspension) it does not fire. ``duration``: the expression is
    a ``timeDuration`` (an ISO-8601 duration, or an expression giving one or an instant), counted on the
    named ``calendar`` (None: elapsed time).
    """

    def __init__(
        self,
        name: str,
        expression: str,
        *,
        duration: bool = False,
        calendar: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, expression, **kwargs)
        self.duration = duration
        self.calendar = calendar

    def has_fired(self, my_task: Any) -> bool:
        internal = my_task.internal_data
        if internal.get("event_fired", False):
            return True
        workflow = my_task.workflow.top_workflow
        now: datetime = workflow.now
        value = internal.get(DUE)
        if value is None:
            value = self._due_text(my_task, now)
        if workflow.held:
            return False
        if datetime.fromisoformat(value) <= now:
            internal["event_fired"] = True
            return True
        return False

    def _due_text(self, my_task: Any, since: datetime) -> str:
        """The due instant (ISO text) counted from ``since``, recorded in the task's internal data."""
        engine = my_task.workflow.top_workflow.script_engine
        due = engine.services.due(
            self.expression,
            my_task.data,
            str(my_task.task_spec.bpmn_id),
            since,
            duration=self.duration,
            calendar=self.calendar,
        )
        record_due(my_task.internal_data, due)
        return str(my_task.internal_data[DUE])


class ClockCycleEventDefinition(ClockTimeDateEventDefinition, CycleTimerEventDefinition):  # type: ignore[misc]
    """A ``timeCycle`` ``R<n>/<duration>`` on a non-interrupting boundary event: it fires every ``duration``
    (counted on the named ``calendar`` like a ``timeDuration``), ``repeats`` times (None: until the task it
    sits on ends), by the engine's instant.

    Each firing but the last adds a path through the event's outgoing flow and counts the next due time from
    the one that passed (so a late tick does not shift the schedule, and a pause shifts what is left); the
    last completes the event, as any timer does. SpiffWorkflow's stock cycle (``CycleTimerEventDefinition``)
    adds the paths (``update_task``); this class decides when, through its ``cycle_complete`` hook.
    """

    def __init__(
        self, name: str, expression: str, *, repeats: int | None, calendar: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name, expression, duration=True, calendar=calendar, **kwargs)
        self.repeats = repeats

    def _due(self, my_task: Any) -> datetime:
        value = my_task.internal_data.get(DUE)
        if value is None:
            value = self._due_text(my_task, my_task.workflow.top_workflow.now)
        return datetime.fromisoformat(value)

    def has_fired(self, my_task: Any) -> bool:
        internal = my_task.internal_data
        if internal.get("event_fired", False):
            return True
        workflow = my_task.workflow.top_workflow
        due = self._due(my_task)
        fired = int(internal.get(CYCLES_FIRED, 0))
        if workflow.held or due > workflow.now or self.repeats is None or fired + 1 < self.repeats:
            return False
        if my_task.id in workflow.cycled:
            return False
        internal[CYCLES_FIRED] = fired + 1
        internal["event_fired"] = True
        return True

    def cycle_complete(self, my_task: Any) -> bool:
        internal = my_task.internal_data
        workflow = my_task.workflow.top_workflow
        if internal.get("event_fired", False) or workflow.held or my_task.id in workflow.cycled:
            return False
        due = self._due(my_task)
        fired = int(internal.get(CYCLES_FIRED, 0))
        if due > workflow.now or (self.repeats is not None and fired + 1 >= self.repeats):
            return False
        internal[CYCLES_FIRED] = fired + 1
        workflow.cycled.add(my_task.id)
        # A day-based period ends at 24:00, i.e. 00:00 of the next day: count the next one from the instant
        # before, so that the day that just ended is the start day (the calendar excludes the start day).
        days = internal.get(PERIOD) in ("working_days", "calendar_days", "months")
        self._due_text(my_task, due - timedelta(microseconds=1) if days else due)
        return True


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


def message_event(name: str, payload: Mapping[str, Json]) -> Any:
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
        services = task.workflow.top_workflow.script_engine.services
        result = services.decide(self.decision_ref, task.data, str(self.bpmn_id))
        if isinstance(result, dict):
            task.data.update(result)
        else:
            task.data[self.result_variable or self.decision_ref] = result
        # SpiffWorkflow reads True as "finished"; None would leave the task STARTED forever.
        return True


class LoopSafeParallelGateway(ParallelGateway):  # type: ignore[misc]
    """SpiffWorkflow's parallel gateway, whose join counts only the arrivals of the current pass through a
    loop.

    The stock join (``ParallelGateway._check_threshold_unstructured``) counts, among the tasks of the join,
    one cancelled in an earlier pass: there the branch that arrived first waited and was cancelled when the
    last one arrived, but its completed parent still counts as an arrival. In a loop (a reply sent back for
    rework into a fork of 主办/协办), the next pass then joins as soon as the other branches arrive, leaving
    the first branch's task ready behind it. Here the join tasks of earlier passes are left out: those that
    are not below the join that completed the last pass this task descends from. Without a loop (no such
    join) the stock rule runs unchanged; tests/engine/test_parallel_loops.py compares the two.
    """

    def _check_threshold_unstructured(self, my_task: Any) -> bool:
        tasks = my_task.workflow.get_tasks(spec_name=self.name)
        passed = [
            t
            for t in tasks
            if t is not my_task and t.state == TaskState.COMPLETED and my_task.is_descendant_of(t)
        ]
        if not passed:
            return bool(super()._check_threshold_unstructured(my_task))
        # The last completed pass: the deepest completed join above this task (each pass descends from the
        # one before).
        last = max(passed, key=lambda t: t.depth)
        waiting_inputs = set(self.inputs)

        def remove_ancestor(task: Any) -> None:
            if task.task_spec in waiting_inputs:
                waiting_inputs.remove(task.task_spec)
            elif task.parent is not None:
                remove_ancestor(task.parent)

        for task in tasks:
            if task is not my_task and not task.is_descendant_of(last):
                continue  # a join of an earlier pass: its arrivals were consumed then
            if task.is_descendant_of(my_task):
                remove_ancestor(task)
            elif my_task.is_descendant_of(task):
                continue
            elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return len(waiting_inputs) == 0
