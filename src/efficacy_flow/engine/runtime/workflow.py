"""The runtime on SpiffWorkflow: :class:`SpiffProcessRuntime` (a deployed definition) and
:class:`SpiffWorkflow` (one instance's workflow), implementing runtime/base.py.

Every call into SpiffWorkflow runs inside :class:`~.exceptions.StepErrors`; every step's output passes the
JSON check (runtime/json_data.py) before the workflow runs on; what a caller gets back are the frozen values
of runtime/base.py. The engine's bookkeeping rides in task ``internal_data`` (runtime/formats.py lists the
keys).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import orjson
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from efficacy_flow.calendar import TimeLimit, TimeUnit
from efficacy_flow.engine.runtime.base import (
    Due,
    Json,
    JsonObject,
    PendingMessage,
    PendingTimer,
    ProcessRuntime,
    ReadyTask,
    Services,
    Snapshot,
    Workflow,
)
from efficacy_flow.engine.runtime.exceptions import StepErrors
from efficacy_flow.engine.runtime.json_data import json_problem
from efficacy_flow.engine.runtime.parser import parse_specs
from efficacy_flow.engine.runtime.scripting import EngineScriptEngine, private_copy
from efficacy_flow.engine.runtime.serializer import (
    StateWriter,
    dump_state,
    dump_state_stock,
    load_state,
    remap_state,
)
from efficacy_flow.engine.runtime.specs import (
    ASSIGNEE,
    CYCLES_FIRED,
    DUE,
    INSTANT,
    LADDER,
    LIMIT,
    OWNER,
    PERIOD,
    PROPOSAL,
    READY_AT,
    REMAINING,
    ROLLED_FROM,
    UNIT,
    URGED_AT,
    URGES,
    ClockTimeDateEventDefinition,
    EngineMessageEventDefinition,
    message_event,
    record_due,
)
from efficacy_flow.engine.runtime.walk import EngineWorkflow
from efficacy_flow.errors import ConcurrentUpdate, InvalidData, InvalidState

__all__ = ["SpiffProcessRuntime", "SpiffWorkflow", "deploy"]

#: The states of the tasks whose data is the instance's process data.
_OPEN = TaskState.READY | TaskState.WAITING
_READY = TaskState.READY
_WAITING = TaskState.WAITING
_MISSING = object()


def deploy(
    root: Any,
    path: str,
    process_id: str,
    services: Services,
    messages: frozenset[str],
    *,
    fast: bool = True,
    candidate_groups: bool = True,
) -> SpiffProcessRuntime:
    """The runtime of ``process_id`` from a parsed (hardened) BPMN document.

    ``fast`` False runs the stock paths only (SpiffWorkflow's own task iterators and converters): the tests
    compare the two. ``candidate_groups`` False keeps each user task's role its lane even where it names
    ``camunda:candidateGroups`` (a definition stored before they were read).

    Raises:
        ProcessDefinitionError: SpiffWorkflow refuses the document (naming the file and element).
    """
    spec, subprocess_specs = parse_specs(root, path, process_id, candidate_groups=candidate_groups)
    return SpiffProcessRuntime(process_id, path, spec, subprocess_specs, services, messages, fast=fast)


class SpiffProcessRuntime(ProcessRuntime):
    """A deployed definition on SpiffWorkflow: the parsed specs and the script engine its workflows share."""

    def __init__(
        self,
        process_id: str,
        path: str,
        spec: Any,
        subprocess_specs: Mapping[str, Any],
        services: Services,
        messages: frozenset[str],
        *,
        fast: bool = True,
    ) -> None:
        self.process_id = process_id
        self.path = path
        self._spec = spec
        self._subprocess_specs = dict(subprocess_specs)
        self._engine = EngineScriptEngine(services)
        self._messages = messages
        self.fast = fast

    @property
    def messages(self) -> frozenset[str]:
        return self._messages

    def new(self, instance_id: str) -> SpiffWorkflow:
        with StepErrors(self.process_id, self.path, instance_id):
            workflow = EngineWorkflow(self._spec, dict(self._subprocess_specs), script_engine=self._engine)
        workflow.fast_walk = self.fast
        return SpiffWorkflow(self, workflow, instance_id)

    def load(self, state: bytes, instance_id: str, *, suspended: bool = False) -> SpiffWorkflow:
        writer = StateWriter() if self.fast else None
        workflow = load_state(state, self._spec, self._subprocess_specs, self._engine, instance_id, writer)
        workflow.fast_walk = self.fast
        workflow.held = suspended
        return SpiffWorkflow(self, workflow, instance_id, writer)

    def adopt(
        self, state: bytes, instance_id: str, mapping: Mapping[str, str], *, suspended: bool = False
    ) -> SpiffWorkflow:
        known = frozenset(self._spec.task_specs).union(
            *(frozenset(spec.task_specs) for spec in self._subprocess_specs.values())
        )
        remapped, missing = remap_state(state, mapping, known, instance_id)
        if missing:
            active = [name for name, under_way in missing if under_way]
            named = active or [name for name, _ in missing]
            raise InvalidState(
                f"instance {instance_id}: element {named[0]} has no counterpart in the new version of"
                f" {self.process_id}"
                + (" (it is active)" if active else "")
                + (f"; nor have {', '.join(named[1:5])}" if len(named) > 1 else "")
                + ": give a mapping",
                instance_id=instance_id,
                element_id=named[0],
                unmapped=[name for name, _ in missing],
            )
        return self.load(remapped, instance_id, suspended=suspended)


def _all_tasks(workflow: Any) -> list[Any]:
    """Every task of a workflow and its subprocesses (a plain walk over the task maps)."""
    found = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        found.extend(subprocess.tasks.values())
    return found


def _attached_id(timer: Any) -> str | None:
    """The id of the task a boundary timer is attached to (None for other timers)."""
    parent = timer.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    for sibling in parent.children:
        if sibling is not timer and not isinstance(sibling.task_spec, BoundaryEvent):
            return str(sibling.id)
    return None


def _limit(text: object) -> TimeLimit | None:
    if not isinstance(text, str):
        return None
    amount, _, unit = text.partition(" ")
    return TimeLimit(int(amount), TimeUnit(unit))


def _due_of(internal: Mapping[str, Any]) -> Due:
    period = internal.get(PERIOD)
    rolled = internal.get(ROLLED_FROM)
    return Due(
        due_at=datetime.fromisoformat(internal[DUE]),
        limit=_limit(internal.get(LIMIT)),
        rolled_from=date.fromisoformat(rolled) if rolled else None,
        unit=TimeUnit(period) if period and period != INSTANT else None,
    )


class SpiffWorkflow(Workflow):
    """One instance's workflow on SpiffWorkflow, with what it remembers between calls while cached: the ready
    tasks and timers of its last snapshot and the state writer's pieces."""

    __slots__ = ("_instance_id", "_open", "_ready", "_runtime", "_timers", "_workflow", "_writer")

    def __init__(
        self, runtime: SpiffProcessRuntime, workflow: Any, instance_id: str, writer: StateWriter | None = None
    ) -> None:
        self._runtime = runtime
        self._workflow = workflow
        self._instance_id = instance_id
        self._writer = writer if writer is not None else (StateWriter() if runtime.fast else None)
        # From the last snapshot: ready user tasks by id (with their view), open tasks, pending timers.
        self._ready: dict[str, tuple[Any, ReadyTask]] = {}
        self._open: list[Any] | None = None
        self._timers: dict[str, tuple[Any, tuple[Any, ...], PendingTimer]] = {}

    def _errors(self) -> StepErrors:
        return StepErrors(self._runtime.process_id, self._runtime.path, self._instance_id, self._workflow)

    # -- state ---------------------------------------------------------------------------------------------

    @property
    def completed(self) -> bool:
        return bool(self._workflow.completed)

    @property
    def suspended(self) -> bool:
        return bool(self._workflow.held)

    # -- steps ---------------------------------------------------------------------------------------------

    def _run_on(self) -> None:
        """Run every engine step until the workflow waits (SpiffWorkflow's loop, with the step tracked and its
        output checked)."""
        workflow = self._workflow
        workflow.do_engine_steps(will_complete_task=self._will_run, did_complete_task=self._did_run)
        workflow.stepping = None
        self._open = None

    def _will_run(self, task: Any) -> None:
        self._workflow.stepping = task

    def _did_run(self, task: Any) -> None:
        """Refuse what a step left in its data that is not JSON data (runtime/json_data.py), naming it."""
        parent = task.parent
        before = parent.data if parent is not None else {}
        for key, value in task.data.items():
            if before.get(key, _MISSING) is value:
                continue  # inherited unchanged (a top-level string or number; a list or dict is a copy)
            self._check(key, value, task)

    def _check(self, key: object, value: object, task: Any) -> None:
        problem = (
            json_problem(value, key) if type(key) is str else (repr(key), "a field name must be a string")
        )
        if problem is not None:
            field, what = problem
            element = str(task.task_spec.bpmn_id or task.task_spec.name)
            raise InvalidData(
                f"{self._runtime.path}: {element} left {field} in the process data: {what}",
                errors=[{"field": field, "problem": what}],
                element_id=element,
                process_id=self._runtime.process_id,
                instance_id=self._instance_id,
                path=self._runtime.path,
            )

    def _check_input(self, data: Mapping[str, Json], task: Any) -> None:
        for key, value in data.items():
            self._check(key, value, task)

    def start(self, data: Mapping[str, Json], now: datetime) -> None:
        workflow = self._workflow
        workflow.now = now
        with self._errors():
            first = workflow.get_next_task(state=_READY)
            self._check_input(data, first)
            first.data.update(data)
            self._run_on()

    def complete(self, task_id: str, data: Mapping[str, Json], now: datetime) -> JsonObject:
        task = self._known(task_id)
        if task is None or task._state != _READY or not task.task_spec.manual:
            raise ConcurrentUpdate(
                f"task {task_id} is no longer ready", task_id=task_id, instance_id=self._instance_id
            )
        workflow = self._workflow
        workflow.now = now
        with self._errors():
            self._check_input(data, task)
            before = private_copy({key: task.data.get(key) for key in data})
            task.data.update(data)
            workflow.stepping = task
            task.run()
            self._run_on()
        return before

    def _known(self, task_id: str) -> Any:
        """The task with this id: a ready one from the last snapshot, else found in the tree (None)."""
        found = self._ready.get(task_id)
        return found[0] if found is not None else self._lookup(task_id)

    def _lookup(self, task_id: str) -> Any:
        try:
            key = uuid.UUID(task_id)
        except ValueError:
            return None
        with self._errors():
            for task in _all_tasks(self._workflow):
                if task.id == key:
                    return task
        return None

    def fire_due(self, now: datetime) -> tuple[str, ...]:
        workflow = self._workflow
        workflow.now = now
        workflow.cycled.clear()
        # A cycle timer (timeCycle) that fires but has cycles left stays waiting: its count of firings tells.
        due = [
            (t, t.internal_data.get(CYCLES_FIRED, 0))
            for t, timer in self._waiting_timers()
            if timer.due.due_at <= now
        ]
        with self._errors():
            workflow.refresh_timers()
            self._run_on()
        return tuple(
            str(t.id) for t, n in due if t._state != _WAITING or t.internal_data.get(CYCLES_FIRED, 0) != n
        )

    def waits_for(self, message: str) -> bool:
        for task in _all_tasks(self._workflow):
            if task._state == _WAITING:
                definition = getattr(task.task_spec, "event_definition", None)
                if isinstance(definition, EngineMessageEventDefinition) and definition.name == message:
                    return True
        return False

    def catch(self, message: str, payload: Mapping[str, Json], now: datetime) -> None:
        workflow = self._workflow
        workflow.now = now
        with self._errors():
            for key, value in payload.items():
                self._check(key, value, workflow.task_tree)
            workflow.catch(message_event(message, payload))
            self._run_on()

    # -- timers --------------------------------------------------------------------------------------------

    def _waiting_timers(self) -> list[tuple[Any, PendingTimer]]:
        found = []
        for task in _all_tasks(self._workflow):
            if task._state == _WAITING and isinstance(
                getattr(task.task_spec, "event_definition", None), ClockTimeDateEventDefinition
            ):
                if DUE not in task.internal_data:
                    continue  # not computed yet (its task became ready in a step that failed)
                found.append((task, self._timer(task)))
        return found

    def _timer(self, task: Any) -> PendingTimer:
        internal = task.internal_data
        key = str(task.id)
        # Everything the view is made of: a task reset by withdraw() or return_to() keeps its timer objects
        # and may get the same due instant with another period (a resumed timer counted minutes; the fresh
        # one counts hours again), so the due text alone does not tell the view is still right.
        stamp = (
            internal[DUE],
            internal.get(PERIOD),
            internal.get(LIMIT),
            internal.get(ROLLED_FROM),
            internal.get(REMAINING),
            internal.get(LADDER, 0),
        )
        cached = self._timers.get(key)
        if cached is not None and cached[0] is task and cached[1] == stamp:
            return cached[2]
        timer = PendingTimer(
            id=key,
            element_id=str(task.task_spec.bpmn_id),
            attached_to=_attached_id(task),
            interrupting=bool(getattr(task.task_spec, "cancel_activity", True)),
            due=_due_of(internal),
            remaining=_limit(stamp[4]),
            ladder_steps=int(stamp[5]),
        )
        self._timers[key] = (task, stamp, timer)
        return timer

    def _timer_task(self, timer_id: str) -> Any:
        for task, timer in self._waiting_timers():
            if timer.id == timer_id:
                return task
        raise InvalidState(f"no pending timer {timer_id}", timer_id=timer_id, instance_id=self._instance_id)

    def hold_timers(self, remaining: Mapping[str, TimeLimit]) -> None:
        for timer_id, left in remaining.items():
            self._timer_task(timer_id).internal_data[REMAINING] = f"{left.n} {left.unit.value}"
        self._workflow.held = True

    def release_timers(self, dues: Mapping[str, Due]) -> None:
        for timer_id, due in dues.items():
            internal = self._timer_task(timer_id).internal_data
            internal.pop(REMAINING, None)
            record_due(internal, due)
        self._workflow.held = False

    def move_timer(self, timer_id: str, due: Due) -> None:
        record_due(self._timer_task(timer_id).internal_data, due)

    def advance_ladder(self, timer_id: str, steps: int) -> None:
        self._timer_task(timer_id).internal_data[LADDER] = steps

    # -- a ready task's people --------------------------------------------------------------------------

    def _ready_internal(self, task_id: str) -> dict[str, Any]:
        """The internal data of a ready user task, whose cached view is dropped (it is about to change)."""
        task = self._lookup(task_id)
        if task is None or task._state != _READY or not task.task_spec.manual:
            raise ConcurrentUpdate(
                f"task {task_id} is not a ready user task of instance {self._instance_id}",
                task_id=task_id,
                instance_id=self._instance_id,
            )
        self._ready.pop(task_id, None)
        internal: dict[str, Any] = task.internal_data
        return internal

    def set_assignee(self, task_id: str, assignee: str | None) -> None:
        internal = self._ready_internal(task_id)
        if assignee is None:
            internal.pop(ASSIGNEE, None)
        else:
            internal[ASSIGNEE] = assignee

    def set_unit(self, task_id: str, unit: str | None) -> None:
        self._ready_internal(task_id)[UNIT] = unit

    def delegate(self, task_id: str, owner: str, to: str) -> None:
        internal = self._ready_internal(task_id)
        internal[OWNER] = owner
        internal[ASSIGNEE] = to
        internal.pop(PROPOSAL, None)

    def delegation(self, task_id: str) -> tuple[str | None, JsonObject | None]:
        task = self._known(task_id)
        if task is None:
            return None, None
        internal = task.internal_data
        return internal.get(OWNER), internal.get(PROPOSAL)

    def propose(self, task_id: str, data: Mapping[str, Json]) -> None:
        internal = self._ready_internal(task_id)
        owner = internal.pop(OWNER)
        internal[ASSIGNEE] = owner
        internal[PROPOSAL] = dict(data)

    def record_urge(self, task_id: str, at: datetime) -> None:
        internal = self._ready_internal(task_id)
        internal[URGES] = int(internal.get(URGES, 0)) + 1
        internal[URGED_AT] = at.isoformat()

    # -- moves ---------------------------------------------------------------------------------------------

    def cancel(self) -> None:
        with self._errors():
            self._workflow.cancel()
        self._open = None

    def reset_to(self, element_id: str, now: datetime) -> None:
        done = [
            t
            for t in _all_tasks(self._workflow)
            if t._state == TaskState.COMPLETED and t.task_spec.bpmn_id == element_id
        ]
        if not done:
            raise InvalidState(
                f"instance {self._instance_id} has no completed {element_id} to go back to",
                element_id=element_id,
                instance_id=self._instance_id,
            )
        self._reset(max(done, key=lambda t: t.last_state_change), now)

    def reopen(self, task_id: str, now: datetime) -> None:
        task = self._lookup(task_id)
        if task is None or task._state != TaskState.COMPLETED or not task.task_spec.manual:
            raise ConcurrentUpdate(
                f"task {task_id} is not a completed user task of instance {self._instance_id}",
                task_id=task_id,
                instance_id=self._instance_id,
            )
        self._reset(task, now)

    def _reset(self, target: Any, now: datetime) -> None:
        """SpiffWorkflow's reset of a completed task: what descends from it is removed, it is ready again with
        the data it had when it became ready; its bookkeeping is new (a new ready time, new deadlines)."""
        workflow = self._workflow
        workflow.now = now
        self._ready = {}  # the reset task keeps its object and id: its cached view is stale
        with self._errors():
            removed = workflow.reset_from_task_id(target.id)
            # SpiffWorkflow 3.1 leaves the removed tasks that were waiting for an event (a boundary timer of
            # a parallel branch) in the event manager, whose next refresh_timers() then fails on them
            # (AttributeError: their parent is gone); remove them, as the stock cancel of a task does.
            for task in removed:
                workflow.event_manager.remove_task(task)
            self._run_on()

    # -- reading -------------------------------------------------------------------------------------------

    def snapshot(self, now: datetime) -> Snapshot:
        opened: list[Any] = []
        ready: list[ReadyTask] = []
        timers: list[PendingTimer] = []
        messages: list[PendingMessage] = []
        kept = self._ready
        fresh: dict[str, tuple[Any, ReadyTask]] = {}
        for task in _all_tasks(self._workflow):
            state = task._state
            if not state & _OPEN:
                continue
            opened.append(task)
            spec = task.task_spec
            if state == _READY:
                if spec.manual:
                    key = str(task.id)
                    entry = kept.get(key)
                    if entry is None or entry[0] is not task:
                        entry = (task, self._ready_task(task, key, now))
                    fresh[key] = entry
                    ready.append(entry[1])
            elif state == _WAITING:
                definition = getattr(spec, "event_definition", None)
                if isinstance(definition, ClockTimeDateEventDefinition):
                    if DUE in task.internal_data:
                        timers.append(self._timer(task))
                elif isinstance(definition, EngineMessageEventDefinition):
                    messages.append(PendingMessage(str(task.id), str(spec.bpmn_id), str(definition.name)))
        self._ready = fresh
        self._open = opened
        return Snapshot(tuple(ready), tuple(timers), tuple(messages), bool(self._workflow.completed))

    def _ready_task(self, task: Any, key: str, now: datetime) -> ReadyTask:
        internal = task.internal_data
        if READY_AT not in internal:
            internal[READY_AT] = now.isoformat()
            unit = task.data.get("unit")
            internal[UNIT] = str(unit) if unit is not None else None
        spec = task.task_spec
        urged = internal.get(URGED_AT)
        return ReadyTask(
            id=key,
            element_id=str(spec.bpmn_id),
            name=str(spec.bpmn_name or spec.bpmn_id),
            lane=spec.lane,
            unit=internal[UNIT],
            ready_at=datetime.fromisoformat(internal[READY_AT]),
            assignee=internal.get(ASSIGNEE),
            urges=int(internal.get(URGES, 0)),
            last_urged_at=datetime.fromisoformat(urged) if urged is not None else None,
        )

    def data_json(self) -> bytes:
        opened = self._open
        if opened is None:
            opened = [t for t in _all_tasks(self._workflow) if t._state & _OPEN]
        data: dict[str, Any] = {}
        for task in opened:
            data.update(task.data)
        last = self._workflow.last_task
        if not opened and last is not None:
            data.update(last.data)
        return orjson.dumps(data)

    def dump(self) -> bytes:
        with self._errors():
            if self._writer is not None:
                return dump_state(self._workflow, self._writer)
            return dump_state_stock(self._workflow)
