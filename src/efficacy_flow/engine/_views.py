"""What the engine hands back: frozen views of actors, instances, tasks, audit events and checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Actor",
    "AuditEvent",
    "HistoryCheck",
    "InstanceSummary",
    "InstanceView",
    "TaskView",
    "TimerFired",
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
class TaskView:
    """A ready user task: ``role`` is its lane, ``unit`` the process's ``unit`` when it became ready."""

    id: str
    instance_id: str
    element_id: str
    name: str
    role: str | None
    unit: str | None
    ready_at: datetime
    due_at: datetime | None


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
