"""What the engine hands back: frozen views of actors, instances, tasks, audit events and checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from efficacy_flow.store import InstanceRecord, TaskRecord

__all__ = [
    "Actor",
    "AuditEvent",
    "Card",
    "HistoryCheck",
    "Incident",
    "InstanceSummary",
    "InstanceView",
    "TaskView",
    "TimerFired",
    "instance_view",
    "row_fields",
    "sorted_views",
    "summary",
    "task_view",
]


@dataclass(frozen=True, init=False)
class Actor:
    """Who acts: an id, the roles (BPMN lane names) they hold, and their unit (None: not restricted by
    unit)."""

    id: str
    roles: frozenset[str]
    unit: str | None

    def __init__(self, id: str, roles: Iterable[str] = (), unit: str | None = None) -> None:
        if isinstance(roles, str):
            roles = (roles,)
        object.__setattr__(self, "id", str(id))
        object.__setattr__(self, "roles", frozenset(roles))
        object.__setattr__(self, "unit", unit)


@dataclass(frozen=True, slots=True)
class FormChoice:
    """One value an ``enum`` form field allows, and its label."""

    value: str | int | float | bool
    label: str


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a task's form (``camunda:formData`` in the diagram, or the task's schemas.yaml entry).

    ``type`` is the data's type (string, integer, number, boolean, date, datetime); ``choices`` the values
    an enum field allows (empty: any value of the type); ``default`` the value the data takes when the field
    is left out (None: left out).
    """

    id: str
    label: str
    type: str
    required: bool
    choices: tuple[FormChoice, ...] = ()
    default: object = None


@dataclass(frozen=True, slots=True)
class TaskView:
    """A ready user task: ``role`` is its lane, ``unit`` the process's ``unit`` when it became ready (or the
    unit it was transferred to), ``assignee`` the person who claimed it or was assigned it (only they may
    complete it), ``urges`` how often it was urged (催办) and ``last_urged_at`` when last."""

    id: str
    instance_id: str
    element_id: str
    name: str
    role: str | None
    unit: str | None
    ready_at: datetime
    due_at: datetime | None
    assignee: str | None = None
    urges: int = 0
    last_urged_at: datetime | None = None
    #: The fields its completion data has, for a UI to render (empty: the task declares none).
    form: tuple[FormField, ...] = ()


@dataclass(frozen=True, slots=True)
class InstanceSummary:
    """An instance as its row stores it: what :meth:`Engine.instances` lists.

    Lighter than :class:`InstanceView`: no process ``data`` and no ready ``tasks`` (those need the workflow;
    call :meth:`Engine.instance` or :meth:`Engine.tasks` for one instance).
    """

    id: str
    process_id: str
    status: str
    version: int
    business_key: str | None
    first_responder: str
    definition_hash: str
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None
    #: The instance's failing step (an :class:`Incident`'s id) while it is retried or waits for an operator;
    #: its timers are held until then (docs/engine.md, "Incidents").
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class InstanceView(InstanceSummary):
    """A process instance as stored after the last committed call: its summary, its data and ready tasks."""

    data: Mapping[str, Any] = field(default_factory=dict)
    #: The instance's ready user tasks after the call (what ``engine.tasks(instance_id=...)`` would list).
    tasks: tuple[TaskView, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One entry of an instance's history: who did what, when, with the data before and after."""

    instance_id: str
    seq: int
    at: datetime
    actor: str | None
    kind: str
    before: Any
    after: Any
    hash: str


@dataclass(frozen=True, slots=True)
class HistoryCheck:
    """The result of :meth:`Engine.verify_history`: ``ok`` is False when any event was altered or removed."""

    instance_id: str
    events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer that :meth:`Engine.tick` fired."""

    instance_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Incident:
    """A step that failed inside :meth:`Engine.tick` or :meth:`Engine.message` and was retried until the
    retry policy gave up (Camunda 7's failed-job incident): it waits for an operator's
    :meth:`Engine.retry_incident` after the data or definition is repaired.

    Attributes:
        id: the incident's id.
        instance_id: the instance whose step failed (its timers are held meanwhile).
        element_id: the element that failed, where known.
        error: the error's class name (``ScriptError``, ``ExpressionLimitExceeded``, ``InvalidData``, ...).
        message: the error's message, personal data masked.
        attempts: how many times the step ran and failed.
        created_at: when it failed first.
        kind: what failed: ``"timer"`` (firing the instance's due timers) or ``"message"`` (a delivered
            message).
        status: ``"open"`` (waiting for an operator), ``"retrying"`` (another attempt is scheduled at
            ``next_attempt_at``) or ``"resolved"``.
        next_attempt_at: when the next automatic attempt runs (``"retrying"`` only).
        updated_at: the last attempt.
    """

    id: str
    instance_id: str
    element_id: str | None
    error: str
    message: str
    attempts: int
    created_at: datetime
    kind: str = "timer"
    status: str = "open"
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None


#: The instance row's columns a summary (and an ``InstanceView``) shows.
_SHOWN = tuple(f.name for f in fields(InstanceSummary))


def row_fields(record: InstanceRecord) -> dict[str, Any]:
    """The shown columns of an instance row, by field name (shared with ``InstanceView``)."""
    return {name: getattr(record, name) for name in _SHOWN}


def summary(record: InstanceRecord) -> InstanceSummary:
    """The summary of an instance row."""
    return InstanceSummary(**row_fields(record))


#: A definition's task forms: user task element id → its form.
Forms = Mapping[str, tuple[FormField, ...]]
_NO_FORMS: Forms = {}


def task_view(row: TaskRecord, forms: Forms = _NO_FORMS) -> TaskView:
    """The public view of a task row, with its form from ``forms`` (its definition's)."""
    return TaskView(
        id=row.id,
        instance_id=row.instance_id,
        element_id=row.element_id,
        name=row.name,
        role=row.role,
        unit=row.unit,
        ready_at=row.ready_at,
        due_at=row.due_at,
        assignee=row.assignee,
        urges=row.urges,
        last_urged_at=row.last_urged_at,
        form=forms.get(row.element_id, ()),
    )


def sorted_views(rows: Sequence[TaskRecord], forms: Forms = _NO_FORMS) -> list[TaskView]:
    """The views of ready rows in the work list's order, as the store lists them (Reader.task_page): by due
    time, then id; those without a due time last, by id."""
    dated = sorted((r for r in rows if r.due_at is not None), key=lambda r: (r.due_at, r.id))
    undated = sorted((r for r in rows if r.due_at is None), key=lambda r: r.id)
    return [task_view(row, forms) for row in (*dated, *undated)]


def ordered_views(views: Sequence[TaskView]) -> list[TaskView]:
    """Task views in the work list's order (:func:`sorted_views`'s, from views instead of rows)."""
    if len(views) < 2:
        return list(views)
    dated = sorted((v for v in views if v.due_at is not None), key=lambda v: (v.due_at, v.id))
    undated = sorted((v for v in views if v.due_at is None), key=lambda v: v.id)
    return [*dated, *undated]


def instance_view(
    record: InstanceRecord,
    data: Mapping[str, Any],
    ready: list[TaskRecord],
    forms: Forms = _NO_FORMS,
    views: tuple[TaskView, ...] | None = None,
) -> InstanceView:
    """The public view of an instance: its row, its process data and its ready tasks (with their forms;
    ``views``: those views, already made from ``ready`` in its order)."""
    if views is None:
        views = tuple([task_view(t, forms) for t in ready])
    r = record  # every field of InstanceSummary (_SHOWN), named: a call's view is made on every call
    return InstanceView(
        id=r.id,
        process_id=r.process_id,
        status=r.status,
        version=r.version,
        business_key=r.business_key,
        first_responder=r.first_responder,
        definition_hash=r.definition_hash,
        created_at=r.created_at,
        updated_at=r.updated_at,
        suspended_at=r.suspended_at,
        incident_id=r.incident_id,
        data=data,
        tasks=views,
    )


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event for other systems (:meth:`Engine.events`): ``seq`` grows in commit order, and a reader that
    saw ``seq`` n has seen every lower one; ``kind`` (``task_ready``, ``task_assigned``, ``task_completed``,
    ``timer_fired``, ``urged``, ``transferred``, ``cancelled``, ``incident``, ...), the instance, the task and
    its unit where there is one, the commit's instant and a JSON ``payload`` (ids, names, due times, the
    call's reason or message with phone and ID numbers masked; never process data)."""

    seq: int
    kind: str
    instance_id: str | None
    task_id: str | None
    unit: str | None
    at: datetime
    payload: Mapping[str, Any]

    @property
    def idempotency_key(self) -> str:
        """A key unique to this event in its store, for a receiver that drops what it has seen."""
        return f"efficacy-flow-outbox-{self.seq}"


@dataclass(frozen=True, slots=True)
class Urge:
    """One urge (催办) of a ready task: who, when, the message, who was copied (抄送), and the task's urge
    count after it."""

    task_id: str
    instance_id: str
    actor: str
    at: datetime
    message: str
    cc: tuple[str, ...]
    count: int


@dataclass(frozen=True, slots=True)
class Card:
    """A card of electronic supervision (电子监察, :meth:`Engine.cards`): ``level`` is ``"warning"`` (预警),
    ``"yellow"`` (黄牌: the limit ran out) or ``"red"`` (红牌: still not done when the 督办 period ran out);
    ``limit_name`` the time_limits.yaml entry it is about; ``cleared_at`` when the step was done (or the case
    ended), None while open; ``reason`` the notice's text.

    Also: ``label`` (预警/黄牌/红牌), ``element_id`` (the step), ``process_id``, ``due_at`` (when the limit,
    or for a red card the 督办 period, ran out), ``escalate_at`` (an open yellow card: when it turns red),
    ``deduction`` and ``action`` (what the card rules decided: 扣分, 书面督办, 约谈) and ``source`` (where the
    rules come from)."""

    id: str
    instance_id: str
    task_id: str | None
    unit: str | None
    level: str
    limit_name: str
    issued_at: datetime
    cleared_at: datetime | None
    reason: str
    label: str = ""
    element_id: str | None = None
    process_id: str = ""
    due_at: datetime | None = None
    escalate_at: datetime | None = None
    deduction: float = 0.0
    action: str | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A reference to a file attached to a comment: its name, where it is (``uri``), and its SHA-256 (64 hex
    digits) so a reader can tell it is the file that was attached."""

    name: str
    uri: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on an instance (or one of its tasks), with attachment references; it is in the history
    (a ``commented`` event, sequence ``seq``)."""

    instance_id: str
    seq: int
    task_id: str | None
    actor: str
    at: datetime
    text: str
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True, slots=True)
class CompletedTask:
    """A task a person completed (已办, :meth:`Engine.done`): when it was ready, due and completed, and by
    whom."""

    id: str
    instance_id: str
    element_id: str
    name: str
    role: str | None
    unit: str | None
    ready_at: datetime
    due_at: datetime | None
    completed_at: datetime
    completed_by: str


def completed_view(row: TaskRecord) -> CompletedTask:
    """The public view of a completed task row."""
    # The query selects completed rows, which always have both.
    completed_at = row.closed_at if row.closed_at is not None else row.ready_at
    return CompletedTask(
        id=row.id,
        instance_id=row.instance_id,
        element_id=row.element_id,
        name=row.name,
        role=row.role,
        unit=row.unit,
        ready_at=row.ready_at,
        due_at=row.due_at,
        completed_at=completed_at,
        completed_by=str(row.closed_by),
    )
