"""Who may do what: the task rule (the holder of a task's lane role, of its unit when it has one) and the
:class:`Authorizer` the engine asks before every other governed call.

The default authorizer, :class:`RolePermissions`, reads ``permissions:`` in the process folder's
settings.yaml (action → roles, with per-process overrides); an action the file does not list is open to every
actor, so a folder without permissions behaves as before. An integrator with its own permission system passes
``Engine(authorizer=...)``: any object with :meth:`Authorizer.allows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from efficacy_flow.engine._views import Actor
from efficacy_flow.errors import InvalidInput, NotAuthorized
from efficacy_flow.policy import PERMISSION_ACTIONS, SETTINGS_FILE_NAME, Permission, load_settings
from efficacy_flow.store import TaskRecord

__all__ = ["ACTIONS", "Authorizer", "RolePermissions", "authorize", "refusal"]

#: The governed calls (``read_unmasked``: history or instance data with personal data unmasked).
ACTIONS: tuple[str, ...] = PERMISSION_ACTIONS


@runtime_checkable
class Authorizer(Protocol):
    """Decides whether ``actor`` may make the engine call ``action`` (one of :data:`ACTIONS`) on an instance
    of ``process_id``. The engine raises :class:`~efficacy_flow.errors.NotAuthorized` (and audits the refusal
    on the instance) when it returns False; it must not raise."""

    def allows(self, action: str, actor: Actor, process_id: str) -> bool:
        """Whether the call is allowed."""
        ...


class RolePermissions:
    """The default authorizer: action → the roles that allow it, per process where a process overrides it.

    ``RolePermissions({"cancel": ["受理员", "效能办"]})``, or from settings.yaml (:meth:`from_folder`). An
    action without an entry is open to every actor.
    """

    __slots__ = ("_by_process", "_roles", "unit_lanes")

    def __init__(
        self,
        permissions: Mapping[str, Iterable[str] | Permission] | None = None,
        *,
        unit_lanes: Iterable[str] = (),
    ) -> None:
        roles: dict[str, frozenset[str]] = {}
        by_process: dict[tuple[str, str], frozenset[str]] = {}
        for action, rule in (permissions or {}).items():
            if action not in ACTIONS:
                raise InvalidInput(
                    f"no engine action {action!r} to permit (actions: {', '.join(ACTIONS)})", action=action
                )
            if isinstance(rule, Permission):
                roles[action] = frozenset(rule.roles)
                for process_id, allowed in rule.processes.items():
                    by_process[(action, process_id)] = frozenset(allowed)
            elif isinstance(rule, str) or not isinstance(rule, Iterable):
                raise InvalidInput(f"the roles of {action!r} must be a list of role names", action=action)
            else:
                roles[action] = frozenset(str(r) for r in rule)
        self._roles = roles
        self._by_process = by_process
        #: The lanes whose tasks only an actor of the task's unit may complete (settings.yaml unit_lanes).
        self.unit_lanes: frozenset[str] = frozenset(unit_lanes)

    @classmethod
    def from_folder(cls, folder: str | Path) -> RolePermissions:
        """The ``permissions:`` of a folder's settings.yaml (none when the folder has no settings.yaml).

        Raises:
            ProcessDefinitionError: the file cannot be read or does not fit its model.
        """
        file = Path(folder) / SETTINGS_FILE_NAME
        if not file.is_file():
            return cls()
        settings = load_settings(file)
        lanes = settings.unit_lanes.roles if settings.unit_lanes is not None else ()
        return cls({str(a): rule for a, rule in settings.permissions.items()}, unit_lanes=lanes)

    def roles_for(self, action: str, process_id: str) -> frozenset[str] | None:
        """The roles that allow ``action`` on ``process_id``; None when anyone may."""
        found = self._by_process.get((action, process_id))
        return found if found is not None else self._roles.get(action)

    def allows(self, action: str, actor: Actor, process_id: str) -> bool:
        """Whether ``actor`` holds one of the roles that allow ``action`` (always, when none are listed)."""
        roles = self.roles_for(action, process_id)
        return roles is None or not roles.isdisjoint(actor.roles)


def refusal(
    action: str, actor: Actor, process_id: str, instance_id: str | None, **fields: object
) -> NotAuthorized:
    """The error of a governed call the authorizer refused."""
    where = f" on instance {instance_id}" if instance_id else f" for {process_id}"
    return NotAuthorized(
        f"{actor.id} may not {action}{where} (permissions: settings.yaml)",
        actor_id=actor.id,
        action=action,
        process_id=process_id,
        instance_id=instance_id,
        **fields,
    )


def authorize(actor: Actor, row: TaskRecord, unit_lanes: frozenset[str] = frozenset()) -> None:
    """Raise NotAuthorized unless the actor may work on the task: holds its role, belongs to its unit when it
    has one and the actor is bound to a unit — or, in a lane of ``unit_lanes``, always (an actor without a
    unit may not complete a unit's task there) —, and is its assignee when it has one."""
    if row.role is not None and row.role not in actor.roles:
        raise NotAuthorized(
            f"{actor.id} lacks role {row.role!r} for task {row.id}",
            actor_id=actor.id,
            required_role=row.role,
            task_id=row.id,
            instance_id=row.instance_id,
        )
    if row.unit is not None and actor.unit != row.unit and (actor.unit is not None or row.role in unit_lanes):
        whose = f"of unit {actor.unit!r}" if actor.unit is not None else "without a unit"
        raise NotAuthorized(
            f"{actor.id} {whose} cannot complete a task of unit {row.unit!r}",
            actor_id=actor.id,
            unit=actor.unit,
            task_unit=row.unit,
            task_id=row.id,
            instance_id=row.instance_id,
        )
    if row.assignee is not None and actor.id != row.assignee:
        raise NotAuthorized(
            f"task {row.id} is assigned to {row.assignee}, not {actor.id}",
            actor_id=actor.id,
            assignee=row.assignee,
            task_id=row.id,
            instance_id=row.instance_id,
        )
