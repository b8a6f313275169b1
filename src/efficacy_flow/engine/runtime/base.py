"""The runtime interface: what the engine asks of a process runtime, and the values that cross the seam.

Modelled on httpx's transports (``httpx/_transports/base.py``): a small abstract contract the rest of the
engine codes against, and one implementation (:mod:`.workflow`, the only code that imports SpiffWorkflow).
Only frozen dataclasses owned by efficacy_flow, plain JSON data and :class:`~efficacy_flow.calendar.TimeLimit`
values cross it — never a SpiffWorkflow object and never ``Any``.

A :class:`ProcessRuntime` is one deployed definition; it makes :class:`Workflow` handles, each the running
state of one instance. A handle is changed in memory by the engine inside a store transaction and written with
:meth:`Workflow.dump`; the engine keeps committed handles in its cache.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeAlias

from efficacy_flow.calendar import TimeLimit, TimeUnit

__all__ = [
    "Due",
    "Json",
    "JsonObject",
    "PendingMessage",
    "PendingTimer",
    "ProcessRuntime",
    "ReadyTask",
    "Services",
    "Snapshot",
    "Workflow",
]

#: Process data: what survives a save and a load unchanged (runtime/json_data.py checks it after every step).
Json: TypeAlias = "str | int | float | bool | list[Json] | dict[str, Json] | None"
JsonObject: TypeAlias = "dict[str, Json]"


@dataclass(frozen=True, slots=True)
class Due:
    """When a timer fires and the period behind it (what suspension and extension count with).

    Attributes:
        due_at: the instant it fires (``due_at <= now``).
        limit: the period it counts (None: a fixed instant written in the diagram, or a timer saved before the
            period was recorded, state format 1).
        rolled_from: for calendar-day and month periods whose last day fell on a rest day, that nominal last
            day (民法典 art. 203's roll is not time granted: a pause counts what remains up to it).
        unit: the unit the period counts in: ``limit.unit`` when there is a limit (the default), the unit a
            format-1 state recorded otherwise; None for a fixed instant.
    """

    due_at: datetime
    limit: TimeLimit | None = None
    rolled_from: date | None = None
    unit: TimeUnit | None = None

    def __post_init__(self) -> None:
        if self.unit is None and self.limit is not None:
            object.__setattr__(self, "unit", self.limit.unit)


@dataclass(frozen=True, slots=True)
class ReadyTask:
    """A user task waiting for a person.

    ``lane`` is the BPMN lane (the role that may act); ``unit`` the process data's ``unit`` when the task
    became ready (the handling unit it belongs to), or the unit it was transferred to; ``ready_at`` that
    instant; ``assignee`` the person who claimed it or was assigned it; ``urges`` how often it was urged,
    ``last_urged_at`` when last.
    """

    id: str
    element_id: str
    name: str
    lane: str | None
    unit: str | None
    ready_at: datetime
    assignee: str | None = None
    urges: int = 0
    last_urged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingTimer:
    """A timer waiting to fire.

    ``attached_to`` is the id of the task a boundary timer sits on (None for an intermediate timer);
    ``remaining`` is set while the instance is suspended: the time that was left when it was;
    ``ladder_steps`` how many steps of its deadline ladder before the due time (warning, reminders) were
    issued.
    """

    id: str
    element_id: str
    attached_to: str | None
    interrupting: bool
    due: Due
    remaining: TimeLimit | None = None
    ladder_steps: int = 0


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A catching message event (or receive task) waiting for message ``name``."""

    id: str
    element_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a workflow waits for: its ready user tasks, pending timers and messages, oldest first."""

    tasks: tuple[ReadyTask, ...]
    timers: tuple[PendingTimer, ...]
    messages: tuple[PendingMessage, ...]
    completed: bool


class Services(Protocol):
    """What the runtime needs from the engine: the sandbox, the calendar and the decisions, behind calls that
    take and give plain data. Each may raise an :class:`~efficacy_flow.errors.EfficacyFlowError`, which the
    runtime lets through with the element, process and instance added to its fields."""

    def evaluate(self, expression: str, data: Mapping[str, Json], element_id: str) -> object:
        """A condition's value (or any expression's) on ``data``."""
        ...

    def execute(self, script: str, data: MutableMapping[str, Json], element_id: str) -> None:
        """Run a script task's script on ``data`` in place."""
        ...

    def due(
        self,
        expression: str,
        data: Mapping[str, Json],
        element_id: str,
        now: datetime,
        *,
        duration: bool = False,
        calendar: str | None = None,
    ) -> Due:
        """When a timer that becomes ready at ``now`` fires, from its ``timeDate`` expression, or
        (``duration``) its ``timeDuration`` counted on ``calendar`` (None: elapsed time)."""
        ...

    def decide(self, decision_ref: str, data: Mapping[str, Json], element_id: str) -> Json:
        """A business-rule task's decision result (a mapping merges into the data, anything else goes under
        the result variable)."""
        ...


class Workflow(ABC):
    """The running state of one instance, in memory.

    Every method that changes it runs the workflow on until it waits again (for a person, a timer or a
    message) and raises a typed error if a step fails; after a failure the handle must be thrown away (the
    engine rolls the call back and never caches it).
    """

    @property
    @abstractmethod
    def completed(self) -> bool:
        """Whether the workflow has ended (normally or cancelled)."""

    @property
    @abstractmethod
    def suspended(self) -> bool:
        """Whether timers are held (暂停计时): a suspended workflow fires none."""

    @abstractmethod
    def start(self, data: Mapping[str, Json], now: datetime) -> None:
        """Run the first steps with the start data (once, on a workflow from :meth:`ProcessRuntime.new`).

        ``now`` (here and below) is the instant of the engine call: timers are computed from it and compared
        with it.
        """

    @abstractmethod
    def snapshot(self, now: datetime) -> Snapshot:
        """What the workflow waits for now; stamps ``ready_at`` (``now``) and ``unit`` on newly ready
        tasks."""

    @abstractmethod
    def complete(self, task_id: str, data: Mapping[str, Json], now: datetime) -> JsonObject:
        """Complete ready user task ``task_id`` with ``data`` merged into its data; return what the task's
        data held under ``data``'s keys before (None where it held nothing: the audit event's ``before``).

        Raises:
            ConcurrentUpdate: the workflow has no such ready user task (completed or cancelled meanwhile).
        """

    @abstractmethod
    def fire_due(self, now: datetime) -> tuple[str, ...]:
        """Fire every timer due at ``now`` and run on; the ids of the timers that fired."""

    @abstractmethod
    def waits_for(self, message: str) -> bool:
        """Whether a catching event or receive task waits for ``message``."""

    @abstractmethod
    def catch(self, message: str, payload: Mapping[str, Json], now: datetime) -> None:
        """Deliver ``message``; its payload is merged into the data of the catching task."""

    @abstractmethod
    def hold_timers(self, remaining: Mapping[str, TimeLimit]) -> None:
        """Suspend: keep on each pending timer (by id) what remained of it; no timer fires until
        :meth:`release_timers`."""

    @abstractmethod
    def release_timers(self, dues: Mapping[str, Due]) -> None:
        """Resume: give each held timer (by id) its new due time; timers fire again (call :meth:`fire_due` for
        those already due)."""

    @abstractmethod
    def move_timer(self, timer_id: str, due: Due) -> None:
        """Give a pending timer a new due time (an approved extension)."""

    @abstractmethod
    def advance_ladder(self, timer_id: str, steps: int) -> None:
        """Record that ``steps`` steps of a pending timer's deadline ladder were issued (or passed).

        Raises:
            InvalidState: no pending timer has this id.
        """

    @abstractmethod
    def set_assignee(self, task_id: str, assignee: str | None) -> None:
        """Give a ready user task an assignee (None: nobody).

        Raises:
            ConcurrentUpdate: no ready user task has this id.
        """

    @abstractmethod
    def set_unit(self, task_id: str, unit: str | None) -> None:
        """Move a ready user task to another unit (转办).

        Raises:
            ConcurrentUpdate: no ready user task has this id.
        """

    @abstractmethod
    def delegate(self, task_id: str, owner: str, to: str) -> None:
        """Delegate a ready user task (委派): ``to`` becomes its assignee until they propose its completion,
        then it comes back to ``owner``.

        Raises:
            ConcurrentUpdate: no ready user task has this id.
        """

    @abstractmethod
    def delegation(self, task_id: str) -> tuple[str | None, JsonObject | None]:
        """A task's delegation: the owner while it is delegated (else None), and the delegate's proposed
        completion data once they gave it (else None)."""

    @abstractmethod
    def propose(self, task_id: str, data: Mapping[str, Json]) -> None:
        """The delegate's work on a delegated task: ``data`` is kept as the proposal and the task goes back
        to its owner (its assignee again) to confirm.

        Raises:
            ConcurrentUpdate: no ready user task has this id.
        """

    @abstractmethod
    def record_urge(self, task_id: str, at: datetime) -> None:
        """Count one urge (催办) of a ready user task, at ``at``.

        Raises:
            ConcurrentUpdate: no ready user task has this id.
        """

    @abstractmethod
    def cancel(self) -> None:
        """End the workflow now: every open task is cancelled, nothing runs on."""

    @abstractmethod
    def reset_to(self, element_id: str, now: datetime) -> None:
        """Go back to the last completed task of ``element_id``: what descends from it in the task tree is
        removed (open tasks of parallel branches that do not descend from it stay) and the task is ready
        again, with the data it had when it became ready, a new ready time and new deadlines.

        Raises:
            InvalidState: no completed task of that element.
        """

    @abstractmethod
    def reopen(self, task_id: str, now: datetime) -> None:
        """Take back a completed user task (撤回): as :meth:`reset_to`, to exactly this task.

        Raises:
            ConcurrentUpdate: no completed user task has this id.
        """

    @abstractmethod
    def data_json(self) -> bytes:
        """The process data as JSON: what the open tasks see (branches merged), or the last step's once
        finished (a copy: decoding and changing it changes nothing in the workflow)."""

    @abstractmethod
    def dump(self) -> bytes:
        """The saved state (compressed JSON, :data:`~.formats.STATE_FORMAT_VERSION`)."""


class ProcessRuntime(ABC):
    """One deployed definition: makes new workflows and loads saved ones."""

    process_id: str
    path: str

    @property
    @abstractmethod
    def messages(self) -> frozenset[str]:
        """The names of the messages the definition declares."""

    @abstractmethod
    def new(self, instance_id: str) -> Workflow:
        """A workflow at its start event for a new instance (then call :meth:`Workflow.start`)."""

    @abstractmethod
    def load(self, state: bytes, instance_id: str, *, suspended: bool = False) -> Workflow:
        """The workflow a saved state holds (``suspended``: the instance is suspended, its timers held).

        Raises:
            StoreError: the state cannot be read (damaged, or from a newer release), naming the instance.
        """

    @abstractmethod
    def adopt(
        self, state: bytes, instance_id: str, mapping: Mapping[str, str], *, suspended: bool = False
    ) -> Workflow:
        """Load a state saved by another version of this process (migration): each element id the state
        names is renamed by ``mapping`` (identity for those it does not name).

        Raises:
            InvalidState: an element of the state has no counterpart here (``element_id`` names the first,
                an active one first; ``unmapped`` all). StoreError: the state cannot be read.
        """
