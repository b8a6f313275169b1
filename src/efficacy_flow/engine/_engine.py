"""The engine: a durable store, an injected clock, deadlines that fire, and SpiffWorkflow behind one seam.

Every public call that changes something is one store transaction: the workflow state, the task rows, the
deadline rows and the audit events it produces commit together or not at all. Calls that only read run in read
transactions, which never wait for a writer. The workflow itself is reached only through
:mod:`efficacy_flow.engine.runtime`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import orjson

from efficacy_flow.calendar import MINUTES, TimeLimit
from efficacy_flow.clock import Clock, SystemClock
from efficacy_flow.engine._audit import (
    GENESIS,
    Event,
    append_event,
    audit_view,
    mask_history,
    verify_chain,
)
from efficacy_flow.engine._authorization import Authorizer, RolePermissions, authorize, refusal
from efficacy_flow.engine._cache import WorkflowCache
from efficacy_flow.engine._consistency import ConsistencyReport, check_store
from efficacy_flow.engine._counters import CounterSpec, count_start, current_count, load_counters
from efficacy_flow.engine._definitions import (
    DefinitionSource,
    Deployment,
    Services,
    build_deployment,
    read_folder,
)
from efficacy_flow.engine._extension_caps import check_extension_caps, previous_extensions
from efficacy_flow.engine._incidents import incident_view, record_failure, resolved
from efficacy_flow.engine._inputs import checked_actor, checked_instant, checked_limit, checked_text, shown
from efficacy_flow.engine._instance_ids import InstanceIds
from efficacy_flow.engine._ladder import (
    CARD_LABELS,
    CARD_LEVELS,
    CARD_RULES,
    SUPERVISION_ACTOR,
    CardRules,
    card_event,
    card_rules_of,
    issue_before_due,
    issue_yellow,
    red_card,
)
from efficacy_flow.engine._lookup import correlate, instance_row
from efficacy_flow.engine._outbox import event_fields
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine._saving import Saved, save
from efficacy_flow.engine._settings import Limits, RetryPolicy
from efficacy_flow.engine._suspension import (
    extend_timers,
    restart_on_transfer,
    resume_timers,
    suspend_timers,
    timer_fired,
)
from efficacy_flow.engine._task_rows import Rows, rows_of
from efficacy_flow.engine._tick import DEFAULT_LEASE, checked_lease, checked_worker_id, run_tick
from efficacy_flow.engine._views import (
    Actor,
    Attachment,
    AuditEvent,
    Card,
    Comment,
    CompletedTask,
    FormField,
    Forms,
    HistoryCheck,
    Incident,
    InstanceSummary,
    InstanceView,
    OutboxEvent,
    TaskView,
    TimerFired,
    Urge,
    completed_view,
    instance_view,
    ordered_views,
    sorted_views,
    summary,
    task_view,
)
from efficacy_flow.engine.runtime import STATE_FORMAT_VERSION, Workflow
from efficacy_flow.errors import (
    ConcurrentUpdate,
    DeliveryFailed,
    DuplicateBusinessKey,
    EfficacyFlowError,
    InvalidData,
    InvalidInput,
    InvalidState,
    NotAuthorized,
    ProcessDefinitionError,
    UnknownIncident,
    UnknownProcess,
    UnknownTask,
)
from efficacy_flow.policy import SETTINGS_FILE_NAME, Appraisal, load_settings
from efficacy_flow.store import (
    CLOSED_STATUSES,
    AuditRecord,
    CardRecord,
    Durability,
    IncidentRecord,
    InstanceRecord,
    OutboxRecord,
    Reader,
    Store,
    TaskRecord,
    Transaction,
)

__all__ = ["Engine"]

log = logging.getLogger("efficacy_flow.engine")


class _StepFailed(Exception):
    """Internal: a step of a workflow failed (``error``), inside a transaction that is rolling back."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _Stepping:
    """Around a step run by tick(), a delivered message or a retry: whatever it raises is the instance's
    failure (:class:`_StepFailed`, recorded as an incident), except a lost race (``ConcurrentUpdate``: the
    instance changed meanwhile, the step runs again later). An unreadable state or definition is such a
    failure too: it is the instance's, not the caller's."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, ConcurrentUpdate | _StepFailed):
            return
        raise _StepFailed(exc) from exc


@dataclass(frozen=True, slots=True)
class _Opened:
    """An instance's workflow at the row's version, and the rows its last save wrote."""

    workflow: Workflow
    rows: Rows


class _AuditedRefusal:
    """The context of :meth:`Engine._refusals`."""

    __slots__ = ("_action", "_actor", "_engine")

    def __init__(self, engine: Engine, actor: Actor, action: str) -> None:
        self._engine, self._actor, self._action = engine, actor, action

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, NotAuthorized):
            instance_id = exc.fields.get("instance_id")
            if isinstance(instance_id, str):
                self._engine._audit_refusal(instance_id, self._actor, self._action, exc)


class Engine:
    """An embeddable process engine.

    Args:
        store: ``"sqlite:///path.db"`` (default), ``"postgresql://..."``, or a
            :class:`~efficacy_flow.store.Store`.
        processes: a folder of ``*.bpmn`` (plus time_limits.yaml, schemas.yaml, ``*.dmn``) deployed at once;
            None deploys nothing (call :meth:`deploy`). The folder is read before the store is opened, so a
            missing or bad folder leaves no database behind.
        calendar: the working-day calendar (default ``efficacy_flow.calendar.china()``).
        clock: where "now" comes from (default :class:`~efficacy_flow.clock.SystemClock`).
        schemas: pydantic models or schema mappings by process id, overriding schemas.yaml.
        decisions: an ``efficacy_flow.policy.Decisions`` for business-rule tasks (default: the folder's
            ``*.dmn``).
        durability: SQLite ``"default"`` (WAL, synchronous=NORMAL) or ``"power-loss"`` (synchronous=FULL).
        tick_batch: how many due deadline rows :meth:`tick` claims per query.
        cache_size: how many recently used workflows stay deserialized in memory (0: none). A cached workflow
            is used only if the store still holds exactly its version.
        worker_id: this engine's name in deadline claims (default ``hostname:pid:random``).
        lease: how long a claim holds before another worker may take the rows (docs/operations.md).
        retry: how a step failing inside :meth:`tick` or :meth:`message` is retried before it becomes an
            incident (default: 3 attempts, 30 s then 60 s apart).
        limits: the size of an instance's data and of an audit event, and each expression's time budget.
        fast_paths: False runs SpiffWorkflow's stock paths only (its task iterators and converters) instead of
            the runtime's fast paths that mirror them; for diagnosis and the tests comparing the two.
        authorizer: who may start, suspend, resume, extend, cancel, transfer, assign, urge and read unmasked
            data (an :class:`~efficacy_flow.engine.Authorizer`); default: ``permissions:`` in the process
            folder's settings.yaml (:class:`~efficacy_flow.engine.RolePermissions`), each deploy reading its
            folder's.
    """

    def __init__(
        self,
        store: str | Store = "sqlite:///efficacy_flow.db",
        processes: str | Path | None = "processes/",
        calendar: Any = None,
        clock: Clock | None = None,
        *,
        schemas: Mapping[str, Any] | None = None,
        decisions: Any = None,
        durability: Durability = "default",
        tick_batch: int = 100,
        cache_size: int = 256,
        worker_id: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        fast_paths: bool = True,
        authorizer: Authorizer | None = None,
    ) -> None:
        if calendar is None:
            from efficacy_flow.calendar import china

            calendar = china()
        for name, value, least in (("tick_batch", tick_batch, 1), ("cache_size", cache_size, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInput(
                    f"{name} must be a whole number >= {least}, got {shown(value)}", argument=name
                )
        self._clock: Clock = clock or SystemClock()
        self._calendar = calendar
        self._retry = retry if retry is not None else RetryPolicy()
        self._limits = limits if limits is not None else Limits()
        self._sandbox = Sandbox(time_budget=self._limits.expression_seconds)
        self._schemas = dict(schemas or {})
        self._decisions = decisions
        self._fast_paths = bool(fast_paths)
        self._tick_batch = tick_batch
        self._worker_id = checked_worker_id(worker_id)
        self._lease = checked_lease(lease)
        self._cache = WorkflowCache(cache_size)
        self._ids = InstanceIds()
        self._current: dict[str, Deployment] = {}
        self._by_hash: dict[str, Deployment] = {}
        self._counters: dict[str, CounterSpec] = {}
        #: The appraisal binding of the processes folder's settings.yaml (engine/_facts.py; None: none).
        self._appraisal: Appraisal | None = None
        #: Role id → label (settings.yaml ``roles``): what a work list shows for a candidate group's id.
        self._role_labels: dict[str, str] = {}
        if authorizer is not None and not isinstance(authorizer, Authorizer):
            raise InvalidInput(
                "authorizer must have an allows(action, actor, process_id) method", argument="authorizer"
            )
        self._own_authorizer = authorizer is None
        self._authorizer: Authorizer = authorizer if authorizer is not None else RolePermissions()
        self._unit_lanes: frozenset[str] = frozenset()
        # The folder first: a folder that cannot be deployed must not leave an empty database behind.
        prepared = self._prepare(processes) if processes is not None else None
        self._store = store if isinstance(store, Store) else Store(store, durability=durability)
        if prepared is not None:
            self._install(*prepared)

    # -- deployment ------------------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store this engine writes to."""
        return self._store

    @property
    def clock(self) -> Clock:
        """The clock this engine reads."""
        return self._clock

    @property
    def worker_id(self) -> str:
        """The name this engine's :meth:`tick` claims deadline rows under."""
        return self._worker_id

    @property
    def process_ids(self) -> frozenset[str]:
        """The ids of the currently deployed processes."""
        return frozenset(self._current)

    def role_label(self, role: str) -> str:
        """What to show for a role: its label in settings.yaml ``roles`` (a ``camunda:candidateGroups`` id
        such as ``supervision_office`` → 效能办), else the role itself (a lane's role is its name)."""
        checked_text("role", role)
        return self._role_labels.get(role, role)

    def start_form(self, process_id: str) -> tuple[FormField, ...]:
        """The fields of the data ``start(process_id, …)`` takes, for a UI to render (its start event's
        ``camunda:formData`` or its schemas.yaml ``start``; empty: the process declares none).

        Raises:
            UnknownProcess: no process ``process_id`` is deployed.
        """
        checked_text("process_id", process_id)
        dep = self._current.get(process_id)
        if dep is None:
            raise UnknownProcess(f"no deployed process {shown(process_id)}", process_id=process_id)
        return dep.start_form

    def deploy(self, processes: str | Path) -> dict[str, str]:
        """Deploy every process in a folder; return ``{process_id: definition hash}``.

        Every expression, condition, script and timer is compiled now; nothing is deployed if one file fails.
        Running instances keep the definition they started with.

        Raises:
            ProcessDefinitionError: a file that cannot run (``path`` and ``element_id`` name the place).
            UnsafeExpression: code the sandbox refuses.
        """
        return self._install(*self._prepare(processes))

    def _prepare(
        self, processes: str | Path
    ) -> tuple[list[Deployment], str | Path, dict[str, CounterSpec], RolePermissions | None]:
        if not isinstance(processes, str | Path):
            raise InvalidInput(
                f"processes must be a folder path, got {shown(processes)}", argument="processes"
            )
        try:
            sources, has_dmn = read_folder(processes)
            if self._decisions is None and has_dmn:
                from efficacy_flow.policy import load_decisions

                self._decisions = load_decisions(processes)
            settings_file = Path(processes) / SETTINGS_FILE_NAME
            settings = load_settings(settings_file) if settings_file.is_file() else None
            appraisal = settings.appraisal if settings is not None else None
            services = self._services(appraisal)
            deployments = [build_deployment(source, services) for source in sources]
            counters = load_counters(processes, {**self._current, **{d.process_id: d for d in deployments}})
            permissions = RolePermissions.from_folder(processes)
            self._appraisal = appraisal
            self._role_labels = dict(settings.roles) if settings is not None else {}
        except OSError as exc:  # a path the system refuses (too long, no permission, a device, ...)
            where = shown(str(processes), 200)
            raise ProcessDefinitionError(
                f"{where}: the processes folder cannot be read: {exc.strerror or exc}", path=str(processes)
            ) from exc
        return deployments, processes, counters, permissions

    def _install(
        self,
        deployments: list[Deployment],
        processes: str | Path,
        counters: dict[str, CounterSpec],
        permissions: RolePermissions | None,
    ) -> dict[str, str]:
        now = self._clock.now()
        with self._store.transaction() as tx:
            for dep in deployments:
                tx.put_definition(dep.hash, dep.process_id, dep.source.content(), now)
        for dep in deployments:
            self._current[dep.process_id] = dep
            self._by_hash[dep.hash] = dep
        # The folder's counters.yaml replaces the counters of the processes it deploys (absent: none).
        redeployed = {dep.process_id for dep in deployments}
        kept = {n: c for n, c in self._counters.items() if c.process not in redeployed and n not in counters}
        self._counters = {**kept, **counters}
        if permissions is not None:
            self._unit_lanes = permissions.unit_lanes  # the folder's rule, whoever authorizes
            if self._own_authorizer:
                self._authorizer = permissions
        return {dep.process_id: dep.hash for dep in deployments}

    def _services(self, appraisal: Appraisal | None = None) -> Services:
        decisions = self._decisions
        return Services(
            sandbox=self._sandbox,
            clock=self._clock,
            calendar=self._calendar,
            decide=decisions.decide if decisions is not None else None,
            decision_ids=frozenset(decisions.decision_ids) if decisions is not None else None,
            schemas=self._schemas,
            fast_paths=self._fast_paths,
            appraisal=appraisal,
        )

    def _dep_of(self, inst: InstanceRecord) -> Deployment | None:
        """The deployment of an instance's definition (opened by the call, so known; None otherwise)."""
        return self._by_hash.get(inst.definition_hash)

    def _deployment(self, tx: Reader, definition_hash: str) -> Deployment:
        dep = self._by_hash.get(definition_hash)
        if dep is None:
            content = tx.get_definition(definition_hash)
            if content is None:
                raise ProcessDefinitionError(f"definition {definition_hash} is not in the store")
            dep = build_deployment(DefinitionSource.from_content(content), self._services(self._appraisal))
            self._by_hash[definition_hash] = dep
        return dep

    def _forms(self, definition_hash: str) -> Forms:
        """The task forms of a definition this engine has opened (every call's own instance's is)."""
        dep = self._by_hash.get(definition_hash)
        return dep.forms if dep is not None else {}

    def _listed(self, reader: Reader, rows: list[TaskRecord]) -> list[TaskView]:
        """The views of listed task rows, each with its form from its instance's definition."""
        if not rows:
            return []
        hashes = reader.definition_hashes([row.instance_id for row in rows])
        forms = {h: self._deployment(reader, h).forms for h in set(hashes.values())}
        return [task_view(row, forms.get(hashes.get(row.instance_id, ""), {})) for row in rows]

    # -- calls that change instances -------------------------------------------------------------------------

    def start(
        self, process_id: str, data: Mapping[str, Any], actor: Actor, business_key: str | None = None
    ) -> InstanceView:
        """Start an instance; ``actor`` is recorded as its first responder (首接, conventions §11).

        Raises:
            UnknownProcess: no deployed process has this id.
            InvalidData: ``data`` fails the process's start schema, or is not JSON data (nothing is stored).
            InvalidInput: ``actor`` or ``business_key`` is not valid.
            NotAuthorized: the authorizer does not let the actor start this process (logged: there is no
                instance to audit it on).
        """
        actor = checked_actor(actor)
        checked_text("business_key", business_key, optional=True)
        dep = self._current.get(process_id) if isinstance(process_id, str) else None
        if dep is None:
            raise UnknownProcess(f"no deployed process {shown(process_id)}", process_id=process_id)
        if not self._allows("start", actor, process_id):
            log.warning("refused: %s may not start %s", actor.id, process_id)
            raise refusal("start", actor, process_id, None)
        values = dep.schema.validate_start(data)
        now = self._clock.now()
        instance_id = self._ids.next(now)
        counters = [c for c in self._counters.values() if c.process == process_id]
        workflow = dep.runtime.new(instance_id)
        if not counters:
            # Run outside the transaction (the write lock is held only to write); a counted process runs its
            # first steps after the count, in the transaction (engine/_counters.py).
            workflow.start(values, now)
        record = _new_record(instance_id, dep, business_key, actor.id, now)
        try:
            with self._store.transaction() as tx:
                counted = count_start(tx, counters, instance_id, data, values, now) if counters else []
                if counters:
                    workflow.start(values, now)
                after = {"data": values, "business_key": business_key, "first_responder": actor.id}
                events: list[Event] = [("started", actor.id, None, after), *counted]
                saved = save(
                    tx,
                    record,
                    workflow,
                    events,
                    now,
                    self._limits,
                    new=True,
                    dep=dep,
                )
        except DuplicateBusinessKey:
            raise self._duplicate(process_id, business_key) from None
        return self._done(saved, workflow)

    def _duplicate(self, process_id: str, business_key: str | None) -> DuplicateBusinessKey:
        """The error of a start refused for its business key, naming the open instance that holds it."""
        with self._store.read() as reader:
            holders = [
                row
                for row in map(reader.get_instance, reader.instance_ids_by_business_key(str(business_key)))
                if row is not None and row.process_id == process_id and row.status not in CLOSED_STATUSES
            ]
        holder = holders[0].id if holders else None
        return DuplicateBusinessKey(
            f"an open instance of {process_id} already has business key {business_key!r}"
            + (f": {holder}" if holder else ""),
            process_id=process_id,
            business_key=business_key,
            instance_id=holder,
        )

    def complete(
        self, task_id: str, data: Mapping[str, Any], actor: Actor, expected_version: int | None = None
    ) -> InstanceView:
        """Complete a ready user task with ``data``.

        A delegated task (:meth:`delegate`) completed by its delegate is not completed: it goes back to its
        owner with the data as a proposal, and the owner's completion (their data over the proposal's)
        completes it.

        Raises:
            UnknownTask: no task has this id.
            ConcurrentUpdate: the task was already completed (or cancelled), or the instance is no longer at
                ``expected_version``.
            NotAuthorized: the actor lacks the task's role, belongs to another unit (or to none, in a unit
                lane of settings.yaml), or is not the task's assignee; the refusal is audited.
            InvalidData: ``data`` fails the task's schema, or a step after it left data that is not JSON.
            InvalidState: the instance is suspended (or not active).
            ProcessDefinitionError: a step after the task failed (``element_id`` names it); nothing changed.
        """
        actor = checked_actor(actor)
        checked_text("task_id", task_id)
        if expected_version is not None and (
            isinstance(expected_version, bool)
            or not isinstance(expected_version, int)
            or not 0 <= expected_version < 2**63
        ):
            raise InvalidInput(
                "expected_version must be a whole number from 0 to 2**63 - 1", argument="expected_version"
            )
        now = self._clock.now()
        hint = self._cache.ready_task(task_id)
        try:  # not _refusals: a plain try costs nothing on the hot path when nothing is refused
            with self._store.transaction() as tx:
                row, inst = self._ready_row(tx, task_id, hint)
                if expected_version is not None and inst.version != expected_version:
                    raise ConcurrentUpdate(
                        f"instance {inst.id} is at version {inst.version}, not {expected_version}",
                        instance_id=inst.id,
                        expected_version=expected_version,
                    )
                self._require_active(inst)
                authorize(actor, row, self._unit_lanes)
                dep = self._deployment(tx, inst.definition_hash)
                opened = self._open(tx, inst, now, dep)
                owner, proposal = opened.workflow.delegation(task_id)
                if proposal is not None and isinstance(data, Mapping):
                    data = {**proposal, **data}  # the owner confirms the delegate's work (委派)
                values = dep.schema.validate_task(row.element_id, data)
                if owner is not None:  # the delegate's completion goes back to the owner to confirm
                    opened.workflow.propose(task_id, values)
                    details = {"task_id": task_id, "element_id": row.element_id, "data": values}
                    events: list[Event] = [("delegate_resolved", actor.id, None, {**details, "owner": owner})]
                    completed_id = None
                else:
                    before = opened.workflow.complete(task_id, values, now)
                    after = {"task_id": task_id, "element_id": row.element_id, "data": values}
                    events = [("task_completed", actor.id, before, after)]
                    completed_id = task_id
                saved = save(
                    tx,
                    inst,
                    opened.workflow,
                    events,
                    now,
                    self._limits,
                    dep=dep,
                    by=actor.id,
                    completed_id=completed_id,
                    previous=opened.rows,
                )
        except NotAuthorized as refused:  # rolled back, then audited
            self._audit_refusal(str(refused.fields.get("instance_id")), actor, "complete", refused)
            raise
        return self._done(saved, opened.workflow)

    def _ready_row(
        self, tx: Transaction, task_id: str, hint: tuple[int, TaskRecord] | None
    ) -> tuple[TaskRecord, InstanceRecord]:
        """A ready task's row and its instance's row (locked), in the call's transaction.

        ``hint`` is the cache's row of the task with its instance's version (``WorkflowCache.ready_task``):
        when the instance is still at that version the row is the stored one and is not read again. When
        nothing was committed since the cached instance's last commit (``Transaction.unchanged_since``, inside
        this transaction, which holds SQLite's write lock), the instance row that commit wrote is not read
        again either.

        Raises:
            UnknownTask: no task has this id.
            ConcurrentUpdate: the task is no longer ready.
        """
        if hint is not None:
            version, row = hint
            saved = self._cache.saved(row.instance_id)
            if saved is not None and saved[0].version == version and tx.unchanged_since(saved[2]):
                return row, saved[0]
            inst = tx.get_instance(row.instance_id, lock=True)
            if inst is not None and inst.version == version:
                return row, inst
        found = tx.get_task(task_id)
        if found is None:
            raise UnknownTask(f"no task {shown(task_id)}", task_id=task_id)
        if found.status != "ready":
            raise ConcurrentUpdate(
                f"task {task_id} is already {found.status}", task_id=task_id, instance_id=found.instance_id
            )
        return found, instance_row(tx, found.instance_id)

    def message(self, name: str, payload: Mapping[str, Any], correlation: Mapping[str, Any]) -> InstanceView:
        """Deliver a message from outside (a rating, a withdrawal) to the instance ``correlation`` names.

        ``correlation`` holds ``instance_id`` or ``business_key``; the payload is validated against the
        message's schema and merged into the process data (conventions §8). When a step the message starts
        fails, the message is kept and retried like a failing timer (:class:`RetryPolicy`): the call returns
        the instance as it was, with ``incident_id`` set, and :meth:`incidents` lists it once retries are
        exhausted.

        Raises:
            UnknownInstance: nothing matches the correlation.
            InvalidState: the instance is not active, is ambiguous, or is not waiting for this message.
            InvalidData: the payload fails the message's schema.
            InvalidInput: the correlation names neither ``instance_id`` nor ``business_key``.
        """
        checked_text("message name", name)
        now = self._clock.now()
        with self._store.read() as reader:
            inst = correlate(reader, correlation)
            dep = self._deployment(reader, inst.definition_hash)
        if name not in dep.messages:
            raise InvalidState(f"process {inst.process_id} has no message {shown(name)}", message_name=name)
        values = dep.schema.validate_message(name, payload)
        try:
            return self._deliver(inst.id, name, values, now, None)
        except _StepFailed as failed:
            job = orjson.dumps({"message": name, "payload": values}).decode()
            self._failed(inst.id, "message", failed.error, now, None, payload=job)
            return self.instance(inst.id)

    def _deliver(
        self,
        instance_id: str,
        name: str,
        values: dict[str, Any],
        now: datetime,
        retrying: IncidentRecord | None,
    ) -> InstanceView:
        """Run message ``name`` into the instance in one transaction (``retrying``: the attempt of a failed
        delivery). A failing step raises :class:`_StepFailed`."""
        with self._store.transaction() as tx:
            inst = instance_row(tx, instance_id)
            if inst.status != "active":
                self._refuse_or_fail(
                    InvalidState(f"instance {inst.id} is {inst.status}", instance_id=inst.id), retrying
                )
            with _Stepping():
                opened = self._open(tx, inst, now)
            if not opened.workflow.waits_for(name):
                not_waiting = InvalidState(
                    f"instance {inst.id} is not waiting for message {name!r}", instance_id=inst.id
                )
                self._refuse_or_fail(not_waiting, retrying)
            with _Stepping():
                opened.workflow.catch(name, values, now)
                event: Event = ("message", f"message:{name}", None, {"message": name, "payload": values})
                saved = self._save_step(tx, inst, opened, [event], now, retrying, None)
        return self._done(saved, opened.workflow)

    @staticmethod
    def _refuse_or_fail(error: EfficacyFlowError, retrying: IncidentRecord | None) -> NoReturn:
        # A caller's message that does not fit is refused to the caller; a stored one that no longer fits is a
        # failed attempt.
        if retrying is None:
            raise error
        raise _StepFailed(error)

    def tick(self) -> list[TimerFired]:
        """Fire every timer due at the clock's now (``due_at <= now``); touch nothing that is not due.

        Due deadline rows are claimed through the due-time index, ``tick_batch`` at a time, for this engine's
        ``worker_id`` until now + ``lease``; rows another live worker holds are skipped (several workers
        share one database, docs/operations.md). Each claimed instance is locked, re-read, fired and committed
        in its own transaction, so every timer fires exactly once. A step that fails is rolled back and
        recorded (:class:`RetryPolicy`; its instance's timers are held), and every other due timer still fires
        in the same round; failed steps whose next attempt is due run again.
        """
        now = self._clock.now()
        return run_tick(
            self._store,
            lambda instance_id: self._fire_claimed(instance_id, now),
            lambda incident: self._retry_due(incident, now),
            now,
            self._worker_id,
            now + self._lease,
            self._tick_batch,
            escalate=lambda card: self._escalate(card, now),
        )

    def _fire_claimed(self, instance_id: str, now: datetime) -> list[TimerFired]:
        try:
            return self._fire(instance_id, now, None, None)
        except _StepFailed as failed:
            self._failed(instance_id, "timer", failed.error, now, None)
            return []

    def _retry_due(self, incident: IncidentRecord, now: datetime) -> list[TimerFired]:
        try:
            return self._attempt(incident, now, None)
        except _StepFailed as failed:
            self._failed(incident.instance_id, incident.kind, failed.error, now, incident)
            return []

    def _attempt(self, incident: IncidentRecord, now: datetime, by: str | None) -> list[TimerFired]:
        """Run a failed step again (raises :class:`_StepFailed` when it fails again)."""
        if incident.kind == "message":
            job = orjson.loads(incident.payload or "{}")
            self._deliver(
                incident.instance_id, str(job.get("message")), dict(job.get("payload") or {}), now, incident
            )
            return []
        return self._fire(incident.instance_id, now, incident, by)

    def _fire(
        self, instance_id: str, now: datetime, retrying: IncidentRecord | None, by: str | None
    ) -> list[TimerFired]:
        """Fire the instance's due timers in one transaction (``retrying``: the attempt of a failed
        firing)."""
        with self._store.transaction() as tx:
            inst = tx.get_instance(instance_id, lock=True)
            if retrying is not None and (inst is None or inst.status != "active"):
                # The instance ended (or was suspended) meanwhile: there is nothing left to run.
                self._settle(tx, inst, retrying, now, by)
                return []
            if inst is None or inst.status != "active" or (retrying is None and inst.incident_id is not None):
                return []  # gone, finished, suspended or parked meanwhile: nothing to fire
            due_rows = [d for d in tx.deadlines_of(instance_id) if d.due_at is not None and d.due_at <= now]
            if not due_rows and retrying is None:
                return []
            with _Stepping():
                opened = self._open(tx, inst, now)
                dep = self._dep_of(inst)
                ladder = dep.ladder if dep is not None else None
                events: list[Event] = []
                cards: list[CardRecord] = []
                counts = self._card_counts(tx, inst.id, cards)
                if ladder is not None:  # the warnings and reminders due before their limits run out
                    timers = opened.workflow.snapshot(now).timers
                    early = issue_before_due(
                        ladder, opened.workflow, inst.id, timers, opened.rows.tasks, now, counts, self._rules
                    )
                    cards += early.cards
                    events += early.events
                fired_ids = set(opened.workflow.fire_due(now))
                fired = [d for d in due_rows if d.id in fired_ids]
                events += [timer_fired(d.element_id, d.task_id, d.due_at) for d in fired]
                if ladder is not None and fired:  # the limits that ran out: yellow cards
                    yellow = issue_yellow(ladder, inst.id, fired, opened.rows.tasks, now, counts, self._rules)
                    cards += yellow.cards
                    events += yellow.events
                for card in cards:
                    tx.insert_card(card)
                saved = self._save_step(tx, inst, opened, events, now, retrying, by)
        self._remember(saved, opened.workflow)
        return [TimerFired(instance_id, d.element_id, d.due_at) for d in fired if d.due_at is not None]

    @property
    def _rules(self) -> CardRules:
        """The card rules (the ``card_rules`` decision), or None when it is not loaded."""
        decisions = self._decisions
        if decisions is None or CARD_RULES not in decisions:
            return None
        return card_rules_of(decisions.decide)

    @staticmethod
    def _card_counts(
        tx: Transaction, instance_id: str, pending: list[CardRecord]
    ) -> Callable[[str, str | None], int]:
        """How many cards of a level an instance has on an element (read once, when first asked), counting
        the call's own ``pending`` ones."""
        stored: list[CardRecord] | None = None

        def count(level: str, element_id: str | None) -> int:
            nonlocal stored
            if stored is None:
                stored = tx.cards_of(instance_id)
            return sum(1 for c in (*stored, *pending) if c.level == level and c.element_id == element_id)

        return count

    def _escalate(self, claimed: CardRecord, now: datetime) -> None:
        """Turn an open yellow card whose 督办 period ran out red, and start its referral, in one transaction
        under the instance's lock (a completion that clears the card comes before or after, never between)."""
        with self._store.transaction() as tx:
            inst = tx.get_instance(claimed.instance_id, lock=True)
            card = tx.lock_card(claimed.id)
            if card is None or card.cleared_at is not None or card.escalated_at is not None:
                return
            if inst is None or inst.status in CLOSED_STATUSES:
                tx.clear_card(card.id, now)  # the case ended meanwhile (its save clears its cards)
                return
            if inst.status == "suspended":  # held by suspend(); a row claimed just before: leave it held
                tx.set_card_escalation(card.id, card.escalate_at, card.escalate_remaining)
                return
            plan = self._deployment(tx, inst.definition_hash).ladder
            count = self._card_counts(tx, inst.id, [])("red", card.element_id) + 1
            made = red_card(plan, card, now, count, self._rules) if plan is not None else None
            tx.card_escalated(card.id, now)
            if made is None:  # its limit has no red card any more (the table changed): the ladder ends here
                return
            red, rung = made
            tx.insert_card(red)
            event = card_event(red, rung.ladder.copy_to)
            if rung.ladder.referral is not None:
                event[3]["referral"] = self._refer(tx, rung.ladder.referral, red, now)
            append_event(tx, inst, event, now)
        self._cache.forget(claimed.instance_id)

    def _refer(self, tx: Transaction, process_id: str, red: CardRecord, now: datetime) -> dict[str, Any]:
        """Start the accountability case a red card refers to (效能问责), in the card's transaction; return
        what the card's event records of it (the new instance, or why none was started)."""
        dep = self._current.get(process_id)
        if dep is None:
            log.warning("red card %s: no deployed process %s to refer to", red.id, process_id)
            return {"process_id": process_id, "instance_id": None, "error": "no such process deployed"}
        data = {
            "subject_type": "单位",
            "subject_name": red.unit or "未明确单位",
            "unit": red.unit,
            "clue": red.reason,
            "clue_source": "效能督查",
        }
        try:
            values = dep.schema.validate_start({k: v for k, v in data.items() if v is not None})
        except InvalidData as refused:
            log.warning("red card %s: the referral's data does not fit %s: %s", red.id, process_id, refused)
            return {"process_id": process_id, "instance_id": None, "error": str(refused)}
        instance_id = self._ids.next(now)
        workflow = dep.runtime.new(instance_id)
        counters = [c for c in self._counters.values() if c.process == process_id]
        counted = count_start(tx, counters, instance_id, data, values, now) if counters else []
        workflow.start(values, now)
        record = _new_record(instance_id, dep, None, SUPERVISION_ACTOR, now)
        after = {
            "data": values,
            "business_key": None,
            "first_responder": SUPERVISION_ACTOR,
            "card_id": red.id,
        }
        events: list[Event] = [("started", SUPERVISION_ACTOR, None, after), *counted]
        save(tx, record, workflow, events, now, self._limits, new=True, dep=dep)
        return {"process_id": process_id, "instance_id": instance_id}

    def _hold_cards(self, tx: Transaction, inst: InstanceRecord, now: datetime, *, suspend: bool) -> None:
        """Suspension holds the 督办 periods of the instance's open yellow cards (each keeps what remained);
        resumption counts what remained anew from ``now`` (as the timers: engine/_suspension.py)."""
        dep = self._dep_of(inst)
        plan = dep.ladder if dep is not None else None
        if plan is None:
            return
        units = {r.limit_name: r.ladder.supervise for r in plan.rungs.values()}
        for card in tx.open_cards(inst.id):
            if card.level != "yellow" or card.escalated_at is not None:
                continue
            if suspend and card.escalate_at is not None:
                supervise = units.get(card.limit_name)
                unit = supervise.unit if supervise is not None else MINUTES
                left = self._calendar.remaining_until(now, card.escalate_at, unit)
                tx.set_card_escalation(card.id, None, left)
            elif not suspend and card.escalate_remaining is not None:
                tx.set_card_escalation(card.id, self._calendar.due(now, card.escalate_remaining).due_at, None)

    def _settle(
        self,
        tx: Transaction,
        inst: InstanceRecord | None,
        incident: IncidentRecord,
        now: datetime,
        by: str | None,
    ) -> None:
        """Resolve an incident whose instance no longer runs (nothing to retry), unparking its rows."""
        event = resolved(tx, incident, now, by)
        if inst is None:
            return
        remaining = self._next_incident(tx, inst, incident)
        tx.set_instance_incident(inst.id, remaining)
        tx.park_deadlines(inst.id, remaining)
        append_event(tx, inst, event, now)
        self._cache.forget(inst.id)

    def _save_step(
        self,
        tx: Transaction,
        inst: InstanceRecord,
        opened: _Opened,
        events: list[Event],
        now: datetime,
        retrying: IncidentRecord | None,
        by: str | None,
    ) -> Saved:
        """Save a step run by tick(), a delivered message or a retry; a successful retry resolves its incident
        (audited with the step) and hands the instance's incident over to any other unresolved one."""
        extra: dict[str, Any] = {}
        if retrying is not None:
            events = [*events, resolved(tx, retrying, now, by)]
            extra["incident_id"] = self._next_incident(tx, inst, retrying)
        return save(
            tx,
            inst,
            opened.workflow,
            events,
            now,
            self._limits,
            previous=opened.rows,
            dep=self._dep_of(inst),
            **extra,
        )

    @staticmethod
    def _next_incident(tx: Transaction, inst: InstanceRecord, done: IncidentRecord) -> str | None:
        """The instance's incident once ``done`` is resolved: another unresolved one of it, or None."""
        if inst.incident_id not in (None, done.id):
            return inst.incident_id
        others = [
            i for i in tx.incidents(instance_id=inst.id, statuses=("retrying", "open")) if i.id != done.id
        ]
        return others[0].id if others else None

    def _failed(
        self,
        instance_id: str,
        kind: str,
        error: Exception,
        now: datetime,
        previous: IncidentRecord | None,
        *,
        payload: str | None = None,
        keep_open: bool = False,
    ) -> IncidentRecord | None:
        """Record a failed step in a transaction of its own (the step's own rolled back)."""
        self._cache.forget(instance_id)
        with self._store.transaction() as tx:
            inst = tx.get_instance(instance_id, lock=True)
            if inst is None:
                return None
            record = record_failure(
                tx,
                inst,
                kind,
                error,
                now,
                self._retry,
                previous=previous,
                payload=payload,
                keep_open=keep_open,
            )
        log.warning(
            "instance %s: %s step failed (attempt %d, %s): %s",
            instance_id,
            kind,
            record.attempts,
            record.status,
            record.message,
        )
        return record

    def suspend(self, instance_id: str, reason: str, actor: Actor) -> InstanceView:
        """Pause the instance's time limits (暂停计时, statutory-rules.md §6); its timers keep what remained.

        Raises:
            UnknownInstance: no such instance.
            InvalidState: the instance is not active.
        """
        checked_text("reason", reason, limit=2000)
        return self._pause(instance_id, checked_actor(actor), suspend=True, reason=reason)

    def resume(self, instance_id: str, actor: Actor) -> InstanceView:
        """Resume a suspended instance: every pending deadline continues with the time that remained.

        Raises:
            UnknownInstance: no such instance.
            InvalidState: the instance is not suspended.
        """
        return self._pause(instance_id, checked_actor(actor), suspend=False)

    def _pause(self, instance_id: str, actor: Actor, *, suspend: bool, reason: str = "") -> InstanceView:
        """Suspend or resume the instance in one transaction: timers changed, audited, saved."""
        now = self._clock.now()
        action = "suspend" if suspend else "resume"
        with self._refusals(actor, action), self._store.transaction() as tx:
            inst = instance_row(tx, instance_id)
            self._permit(action, actor, inst)
            if inst.status != ("active" if suspend else "suspended"):
                hint = "" if suspend else ", not suspended"
                raise InvalidState(f"instance {instance_id} is {inst.status}{hint}", instance_id=instance_id)
            opened = self._open(tx, inst, now)
            workflow = opened.workflow
            timers = workflow.snapshot(now).timers
            self._hold_cards(tx, inst, now, suspend=suspend)
            if suspend:
                before, after = suspend_timers(workflow, timers, reason, now, self._calendar)
                events: list[Event] = [("suspended", actor.id, before, after)]
                values: dict[str, Any] = {"status": "suspended", "suspended_at": now}
            else:
                old, new = resume_timers(workflow, timers, now, self._calendar)
                events = [("resumed", actor.id, old, new)]
                # A limit that had run out when the instance was suspended fires now: audited as tick() would.
                due = {t.id: t for t in workflow.snapshot(now).timers if t.due.due_at <= now}
                for timer_id in workflow.fire_due(now):
                    if timer_id in due:
                        timer = due[timer_id]
                        events.append(timer_fired(timer.element_id, timer.attached_to, timer.due.due_at))
                values = {"status": "active", "suspended_at": None}
            saved = save(
                tx,
                inst,
                workflow,
                events,
                now,
                self._limits,
                previous=opened.rows,
                dep=self._dep_of(inst),
                **values,
            )
        return self._done(saved, workflow)

    def cancel(
        self, instance_id: str, reason: str, actor: Actor, duplicate_of: str | None = None
    ) -> InstanceView:
        """Void a case (撤销/作废): a duplicate ticket (重复工单), an invalid one (无效工单), one the
        requester withdrew. The instance is ``"cancelled"``, its ready tasks are closed as cancelled, its
        deadlines are gone, and nothing of it runs again; its business key is free. One transaction,
        audited (``cancelled``, with the reason and ``duplicate_of``). Metrics leave a cancelled case out
        unless told to count it (``collect_records(..., count_cancelled=True)``).

        Raises:
            UnknownInstance: no such instance, or ``duplicate_of`` names none.
            InvalidState: the instance is already completed or cancelled; ``duplicate_of`` is the instance
                itself.
            InvalidInput: an empty reason, or an argument of the wrong type.
        """
        actor = checked_actor(actor)
        checked_text("reason", reason, limit=2000)
        checked_text("duplicate_of", duplicate_of, optional=True)
        if duplicate_of == instance_id:
            raise InvalidState(
                f"instance {instance_id} cannot be a duplicate of itself", instance_id=instance_id
            )
        now = self._clock.now()
        with self._refusals(actor, "cancel"), self._store.transaction() as tx:
            inst = instance_row(tx, instance_id)
            self._permit("cancel", actor, inst)
            if inst.status in CLOSED_STATUSES:
                raise InvalidState(
                    f"instance {instance_id} is already {inst.status}", instance_id=instance_id
                )
            if duplicate_of is not None:
                instance_row(tx, duplicate_of, lock=False)  # UnknownInstance when it names none
            opened = self._open(tx, inst, now)
            workflow = opened.workflow
            workflow.cancel()
            details = {"reason": reason, "duplicate_of": duplicate_of, "status_before": inst.status}
            event: Event = ("cancelled", actor.id, None, details)
            saved = self._save_event(
                tx, inst, workflow, opened.rows, event, now, status="cancelled", suspended_at=None
            )
        return self._done(saved, workflow)

    # -- case operations on a ready task (认领, 指派, 转办, 催办) ----------------------------------------

    def _on_task(
        self,
        task_id: str,
        actor: Actor,
        action: str,
        change: Callable[[Workflow, TaskRecord, Deployment], Event],
        *,
        governed: bool = True,
    ) -> TaskView:
        """Change one ready task of an active instance in one transaction: ``change`` edits the workflow and
        returns the audit event; the instance is saved (a new version) with the rows and outbox events that
        follow. ``governed``: the authorizer is asked for ``action`` first."""
        checked_text("task_id", task_id)
        now = self._clock.now()
        with self._refusals(actor, action), self._store.transaction() as tx:
            row, inst = self._ready_row(tx, task_id, None)
            if inst.status in CLOSED_STATUSES:  # closed by a call that committed after the task row was read
                raise ConcurrentUpdate(
                    f"task {task_id} is closed: instance {inst.id} is {inst.status}",
                    task_id=task_id,
                    instance_id=inst.id,
                )
            if governed:
                self._permit(action, actor, inst, task_id=task_id)
            self._require_active(inst)
            opened = self._still_ready(tx, inst, now, task_id)
            dep = self._deployment(tx, inst.definition_hash)
            event = change(opened.workflow, row, dep)
            saved = self._save_event(tx, inst, opened.workflow, opened.rows, event, now)
        self._remember(saved, opened.workflow)
        return next(task_view(t, dep.forms) for t in saved.rows.tasks if t.id == task_id)

    def claim(self, task_id: str, actor: Actor) -> TaskView:
        """Take a ready task (认领): the actor, who may work on it (its role, its unit), becomes its assignee,
        and only they can complete it until they unclaim it or it is reassigned. Audited (``claimed``).

        Raises:
            UnknownTask, ConcurrentUpdate: no such task, or it is no longer ready, or someone else holds it.
            NotAuthorized: the actor may not work on the task.
            InvalidState: the instance is suspended.
        """
        actor = checked_actor(actor)

        def change(workflow: Workflow, row: TaskRecord, dep: Deployment) -> Event:
            authorize(actor, row, self._unit_lanes)  # role, unit, and the assignee if one holds it
            if row.assignee == actor.id:
                raise ConcurrentUpdate(f"task {row.id} is already claimed by {actor.id}", task_id=row.id)
            workflow.set_assignee(row.id, actor.id)
            return (
                "claimed",
                actor.id,
                None,
                {"task_id": row.id, "element_id": row.element_id, "assignee": actor.id},
            )

        return self._on_task(task_id, actor, "claim", change, governed=False)

    def unclaim(self, task_id: str, actor: Actor) -> TaskView:
        """Give a claimed task back (取消认领): it has no assignee again. Only its assignee may, or an actor
        the authorizer lets ``assign``. Audited (``unclaimed``).

        Raises:
            UnknownTask, ConcurrentUpdate: no such task, no longer ready, or nobody holds it.
            NotAuthorized: the actor neither holds it nor may assign it.
        """
        actor = checked_actor(actor)

        def change(workflow: Workflow, row: TaskRecord, dep: Deployment) -> Event:
            if row.assignee is None:
                raise ConcurrentUpdate(f"task {row.id} is not claimed", task_id=row.id)
            if row.assignee != actor.id and not self._allows("assign", actor, dep.process_id):
                raise NotAuthorized(
                    f"task {row.id} is held by {row.assignee}; {actor.id} may not give it back",
                    actor_id=actor.id,
                    assignee=row.assignee,
                    task_id=row.id,
                    instance_id=row.instance_id,
                )
            workflow.set_assignee(row.id, None)
            details = {"task_id": row.id, "element_id": row.element_id, "previous_assignee": row.assignee}
            return ("unclaimed", actor.id, None, details)

        return self._on_task(task_id, actor, "assign", change, governed=False)

    def assign(self, task_id: str, assignee: str, actor: Actor) -> TaskView:
        """Give a ready task to a person (指派), replacing whoever held it; only they can complete it. Needs
        the ``assign`` permission. Audited (``assigned``, with the previous assignee).

        Raises:
            UnknownTask, ConcurrentUpdate: no such task, or it is no longer ready.
            NotAuthorized: the actor may not assign.
            InvalidInput: ``assignee`` is not a person id.
        """
        actor = checked_actor(actor)
        checked_text("assignee", assignee)

        def change(workflow: Workflow, row: TaskRecord, dep: Deployment) -> Event:
            workflow.set_assignee(row.id, assignee)
            details = {
                "task_id": row.id,
                "element_id": row.element_id,
                "assignee": assignee,
                "previous_assignee": row.assignee,
            }
            return ("assigned", actor.id, None, details)

        return self._on_task(task_id, actor, "assign", change)

    def transfer(
        self,
        task_id: str,
        actor: Actor,
        reason: str,
        to_unit: str | None = None,
        to_assignee: str | None = None,
    ) -> TaskView:
        """Hand a ready task to another unit or person (转办/改派) at the same step: its unit becomes
        ``to_unit`` (its assignee is cleared unless ``to_assignee`` names the new one), or only its assignee
        becomes ``to_assignee``. The deadline keeps running — the task keeps its due time and its timers —
        unless time_limits.yaml says ``on_transfer: restart`` for the limit a timer counts: a transfer to
        another unit then counts that timer anew from now (audited in ``restarted``). Needs the
        ``transfer`` permission. Audited (``transferred``: from, to, reason); the outbox tells the new unit.

        Raises:
            UnknownTask, ConcurrentUpdate: no such task, or it is no longer ready.
            NotAuthorized: the actor may not transfer.
            InvalidInput: neither ``to_unit`` nor ``to_assignee``, the same unit and assignee, no reason.
            InvalidState: the instance is suspended.
        """
        actor = checked_actor(actor)
        checked_text("reason", reason, limit=2000)
        checked_text("to_unit", to_unit, optional=True)
        checked_text("to_assignee", to_assignee, optional=True)
        if to_unit is None and to_assignee is None:
            raise InvalidInput("a transfer needs to_unit or to_assignee", task_id=task_id)
        now = self._clock.now()

        def change(workflow: Workflow, row: TaskRecord, dep: Deployment) -> Event:
            unit = to_unit if to_unit is not None else row.unit
            assignee = to_assignee if to_assignee is not None or to_unit is None else None
            if unit == row.unit and assignee == row.assignee:
                raise InvalidInput(
                    f"task {row.id} is already with {unit or 'no unit'} and {assignee or 'no assignee'}",
                    task_id=row.id,
                )
            restarted: dict[str, str] = {}
            if unit != row.unit:
                workflow.set_unit(row.id, unit)
                restarted = restart_on_transfer(workflow, row.id, dep, now, self._calendar)
            workflow.set_assignee(row.id, assignee)
            details = {
                "task_id": row.id,
                "element_id": row.element_id,
                "from_unit": row.unit,
                "to_unit": unit,
                "from_assignee": row.assignee,
                "to_assignee": assignee,
                "reason": reason,
                "restarted": restarted,
            }
            return ("transferred", actor.id, None, details)

        return self._on_task(task_id, actor, "transfer", change)

    def delegate(self, task_id: str, to: str, actor: Actor) -> TaskView:
        """Have someone else do a task one holds (委派): ``to`` becomes its assignee and does the work; their
        completion does not complete the task but brings it back to ``actor`` (its owner), with their data
        as the proposal, for the owner to confirm by completing it (their data over the proposal's). Needs the
        ``delegate`` permission and that the actor may work on the task. Audited (``delegated``, then
        ``delegate_resolved``). Deadlines: unchanged.

        Raises:
            UnknownTask, ConcurrentUpdate: no such task, or it is no longer ready.
            NotAuthorized: the actor may not work on the task or may not delegate.
            InvalidInput: ``to`` is not a person id, or the actor themself.
        """
        actor = checked_actor(actor)
        checked_text("to", to)
        if to == actor.id:
            raise InvalidInput("a task cannot be delegated to its own owner", task_id=task_id)

        def change(workflow: Workflow, row: TaskRecord, dep: Deployment) -> Event:
            authorize(actor, row, self._unit_lanes)
            workflow.delegate(row.id, actor.id, to)
            details = {"task_id": row.id, "element_id": row.element_id, "assignee": to, "owner": actor.id}
            return ("delegated", actor.id, None, details)

        return self._on_task(task_id, actor, "delegate", change)

    def urge(self, task_id: str, actor: Actor, message: str, cc: Iterable[str] = ()) -> Urge:
        """Remind whoever holds a ready task to act (催办), copying others (抄送, ``cc``: person or unit ids).
        The task's urge count and last urge time go up (``TaskView.urges``, ``last_urged_at``); the outbox
        carries the message (``urged``) for an SMS gateway. Needs the ``urge`` permission. Audited.

        Raises:
            UnknownTask, ConcurrentUpdate: no such task, or it is no longer ready.
            NotAuthorized: the actor may not urge.
            InvalidInput: an empty message, ``cc`` not a list of ids.
        """
        actor = checked_actor(actor)
        checked_text("message", message, limit=2000)
        if isinstance(cc, str):
            raise InvalidInput("cc must be a list of ids, not one text", argument="cc")
        try:
            copied = tuple(cc)
        except TypeError:
            raise InvalidInput("cc must be a list of ids", argument="cc") from None
        for each in copied:
            checked_text("cc", each)
        now = self._clock.now()

        def change(workflow: Workflow, row: TaskRecord, dep: Deployment) -> Event:
            workflow.record_urge(row.id, now)
            details = {
                "task_id": row.id,
                "element_id": row.element_id,
                "message": message,
                "cc": list(copied),
                "count": row.urges + 1,
            }
            return ("urged", actor.id, None, details)

        view = self._on_task(task_id, actor, "urge", change)
        return Urge(view.id, view.instance_id, actor.id, now, message, copied, view.urges)

    def comment(
        self,
        instance_id: str,
        actor: Actor,
        text: str,
        task_id: str | None = None,
        attachments: Iterable[Attachment | Mapping[str, str]] = (),
    ) -> Comment:
        """Add a comment to a case (意见/备注), on one of its tasks if ``task_id`` is given, with references
        to attached files (``Attachment(name, uri, sha256)`` or mappings with those keys; the files stay where
        they are). It goes into the history (``commented``) and the outbox; the instance's version does not
        change (its workflow did not).

        Raises:
            UnknownInstance: no such instance. UnknownTask: ``task_id`` is not one of its tasks.
            InvalidInput: empty text, an attachment without a name or uri, or whose sha256 is not 64 hex
                digits.
        """
        actor = checked_actor(actor)
        checked_text("instance_id", instance_id)
        checked_text("text", text, limit=10_000)
        checked_text("task_id", task_id, optional=True)
        files = _attachments(attachments)
        now = self._clock.now()
        details = {
            "task_id": task_id,
            "text": text,
            "attachments": [{"name": f.name, "uri": f.uri, "sha256": f.sha256} for f in files],
        }
        with self._store.transaction() as tx:
            inst = instance_row(tx, instance_id)
            if task_id is not None:
                task = tx.get_task(task_id)
                if task is None or task.instance_id != instance_id:
                    raise UnknownTask(f"no task {shown(task_id)} of instance {instance_id}", task_id=task_id)
            append_event(tx, inst, ("commented", actor.id, None, details), now)
            seq = inst.audit_seq + 1
        return Comment(instance_id, seq, task_id, actor.id, now, text, files)

    # -- going back: 退回, 撤回 ---------------------------------------------------------------------------

    def return_to(self, task_id: str, element_id: str, reason: str, actor: Actor) -> InstanceView:
        """Send a case back to an earlier user task it passed (退回/驳回): from the ready task ``task_id``
        to the last completed task of ``element_id``, which becomes ready again with the data it had then, a
        new ready time and a new deadline. What came after that task on the way to ``task_id`` is removed
        (its open tasks closed, its timers gone); open tasks of parallel branches that do not come from it
        stay as they are. Needs the ``return_to`` permission. Audited (``returned``: from, to, reason).

        Raises:
            UnknownTask, ConcurrentUpdate: no such task, or it is no longer ready.
            InvalidState: the instance is suspended; it never completed ``element_id``; or ``element_id`` is
                not on the way to ``task_id`` (going back there would leave ``task_id`` open).
            NotAuthorized: the actor may not return cases.
        """
        actor = checked_actor(actor)
        checked_text("element_id", element_id)
        checked_text("reason", reason, limit=2000)
        checked_text("task_id", task_id)
        now = self._clock.now()
        with self._refusals(actor, "return_to"), self._store.transaction() as tx:
            row, inst = self._ready_row(tx, task_id, None)
            self._permit("return_to", actor, inst, task_id=task_id)
            self._require_active(inst)
            opened = self._still_ready(tx, inst, now, task_id)
            workflow = opened.workflow
            workflow.reset_to(element_id, now)
            rows = workflow.snapshot(now).tasks
            if any(t.id == task_id for t in rows):
                raise InvalidState(
                    f"{element_id} is not on the way to task {task_id} ({row.element_id}): going back there"
                    " would leave it open",
                    element_id=element_id,
                    task_id=task_id,
                    instance_id=inst.id,
                )
            reopened = next((t.id for t in rows if t.element_id == element_id), None)
            details = {
                "task_id": task_id,
                "element_id": row.element_id,
                "to_element": element_id,
                "reopened_task_id": reopened,
                "reason": reason,
            }
            event: Event = ("returned", actor.id, None, details)
            saved = self._save_event(tx, inst, workflow, opened.rows, event, now)
        return self._done(saved, workflow)

    def withdraw(self, task_id: str, actor: Actor) -> InstanceView:
        """Take back a step one completed (撤回): the completed task ``task_id`` is ready again for its
        completer, with the data it had before, while what followed is untouched — the instance's last change
        is that completion (comments and reads aside) and no task it made ready has been claimed or urged.
        Needs the ``withdraw`` permission. Audited (``withdrawn``).

        Raises:
            UnknownTask: no such task.
            ConcurrentUpdate: the task is not completed, or something happened since (a later step, a claim,
                an urge, a timer).
            NotAuthorized: another actor completed it, or the actor may not withdraw.
            InvalidState: the instance is not active.
        """
        actor = checked_actor(actor)
        checked_text("task_id", task_id)
        now = self._clock.now()
        with self._refusals(actor, "withdraw"), self._store.transaction() as tx:
            row = tx.get_task(task_id)
            if row is None:
                raise UnknownTask(f"no task {shown(task_id)}", task_id=task_id)
            inst = instance_row(tx, row.instance_id)
            if row.status != "completed":
                raise ConcurrentUpdate(
                    f"task {task_id} is {row.status}, not completed", task_id=task_id, instance_id=inst.id
                )
            if row.closed_by != actor.id:
                raise NotAuthorized(
                    f"task {task_id} was completed by {row.closed_by}, not {actor.id}",
                    actor_id=actor.id,
                    task_id=task_id,
                    instance_id=inst.id,
                )
            self._permit("withdraw", actor, inst, task_id=task_id)
            last = _last_change(tx.audit_of(inst.id))
            if last is None or last[0] != "task_completed" or last[1] != task_id:
                raise ConcurrentUpdate(
                    f"task {task_id} cannot be withdrawn: the case moved on since it was completed",
                    task_id=task_id,
                    instance_id=inst.id,
                )
            self._require_active(inst)
            opened = self._open(tx, inst, now)
            if any(t.assignee is not None or t.urges for t in opened.rows.tasks):
                raise ConcurrentUpdate(
                    f"task {task_id} cannot be withdrawn: the next step was already taken up",
                    task_id=task_id,
                    instance_id=inst.id,
                )
            workflow = opened.workflow
            workflow.reopen(task_id, now)
            workflow.set_assignee(task_id, actor.id)
            details = {"task_id": task_id, "element_id": row.element_id}
            event: Event = ("withdrawn", actor.id, None, details)
            saved = self._save_event(tx, inst, workflow, opened.rows, event, now)
        return self._done(saved, workflow)

    # -- migration -------------------------------------------------------------------------------------------

    def migrate(
        self,
        instance_id: str,
        actor: Actor,
        to: str = "latest",
        mapping: Mapping[str, str] | None = None,
    ) -> InstanceView:
        """Move a running case to another deployed version of its process (``"latest"``: the one deployed
        now; else a definition hash), its element ids renamed by ``mapping`` (identity for ids it does not
        name). Ready tasks keep their ids, people, ready times and deadlines; what the old version would have
        done next is done by the new one from here. With :meth:`retry_incident`, this rescues a case stuck on
        a broken definition (a typo in a timer, fixed and redeployed). Needs the ``migrate`` permission.
        Audited (``migrated``: from and to hashes, the mapping).

        Raises:
            UnknownInstance: no such instance.
            UnknownProcess: ``"latest"`` and the process is not deployed.
            InvalidInput: ``to`` names no stored definition of this process; a mapping that is not ids.
            InvalidState: the case is closed or already on that version; an element of the case (an active
                one named first) has no counterpart in the new version (``element_id``; nothing changed).
            NotAuthorized: the actor may not migrate.
        """
        actor = checked_actor(actor)
        checked_text("instance_id", instance_id)
        checked_text("to", to)
        renames = _checked_mapping(mapping)
        now = self._clock.now()
        with self._refusals(actor, "migrate"), self._store.transaction() as tx:
            inst = instance_row(tx, instance_id)
            self._permit("migrate", actor, inst)
            if inst.status in CLOSED_STATUSES:
                raise InvalidState(f"instance {instance_id} is {inst.status}", instance_id=instance_id)
            if to == "latest":
                target = self._current.get(inst.process_id)
                if target is None:
                    raise UnknownProcess(f"no deployed process {inst.process_id}", process_id=inst.process_id)
            else:
                if tx.get_definition(to) is None:
                    raise InvalidInput(f"no stored definition {shown(to)}", argument="to")
                target = self._deployment(tx, to)
            if target.process_id != inst.process_id:
                raise InvalidInput(
                    f"definition {target.hash} is of {target.process_id}, not {inst.process_id}",
                    argument="to",
                )
            if target.hash == inst.definition_hash:
                raise InvalidState(
                    f"instance {instance_id} already runs definition {target.hash}", instance_id=instance_id
                )
            opened = self._open(tx, inst, now)  # the rows as they are
            workflow = target.runtime.adopt(
                inst.state, inst.id, renames, suspended=inst.status == "suspended"
            )
            details = {"from": inst.definition_hash, "to": target.hash, "mapping": renames}
            event: Event = ("migrated", actor.id, None, details)
            saved = self._save_event(tx, inst, workflow, opened.rows, event, now, definition_hash=target.hash)
        return self._done(saved, workflow)

    # -- electronic supervision (电子监察) -------------------------------------------------------------------

    def cards(
        self,
        unit: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        level: str | None = None,
        *,
        instance_id: str | None = None,
        limit_name: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Card]:
        """The cards of electronic supervision (预警/黄牌/红牌, docs/supervision.md), in issue order (issue
        time, then id), cleared or not: of one ``unit``, issued in [``since``, ``until``), of one ``level``
        (``"warning"``, ``"yellow"``, ``"red"``), of one instance or limit; at most ``limit`` (1 to 10,000),
        after the card whose id is ``after`` (keyset paging).

        Raises:
            InvalidInput: an unknown level, a naive ``since``/``until``, a bad limit, an unknown ``after``.
        """
        checked_text("unit", unit, optional=True)
        checked_text("instance_id", instance_id, optional=True)
        checked_text("limit_name", limit_name, optional=True)
        checked_text("after", after, optional=True)
        if level is not None and (not isinstance(level, str) or level not in CARD_LEVELS):
            raise InvalidInput(
                f"level must be one of {', '.join(sorted(CARD_LEVELS))}, not {shown(level)}", argument="level"
            )
        start = checked_instant(since, "since")
        end = checked_instant(until, "until")
        size = checked_limit(limit)
        with self._store.read() as reader:
            key = None
            if after is not None:
                anchor = reader.get_card(after)
                if anchor is None:
                    raise InvalidInput(f"no card {shown(after)} to page after", argument="after")
                key = (anchor.issued_at, anchor.id)
            records = reader.cards(
                instance_id=instance_id,
                unit=unit,
                level=level,
                limit_name=limit_name,
                since=start,
                until=end,
                after=key,
                limit=size,
            )
        return [_card_view(r) for r in records]

    # -- the outbox ------------------------------------------------------------------------------------------

    def events(self, after: int | None = None, limit: int = 100) -> list[OutboxEvent]:
        """The outbox's events after ``seq`` ``after`` (None: from the first), oldest first, at most
        ``limit`` (1 to 10,000). A reader that keeps the last ``seq`` it handled and asks again from there
        sees every event once and in commit order: numbers are given in commit order, so none below one it
        has seen can appear later.

        Raises:
            InvalidInput: ``after`` not a whole number >= 0, ``limit`` out of range.
        """
        start = _checked_seq(after)
        size = checked_limit(limit) or 100
        with self._store.read() as reader:
            records = reader.outbox_after(start, size)
        return [_outbox_event(r) for r in records]

    def prune_events(self, through: int) -> int:
        """Delete old outbox events: those up to ``seq`` ``through`` that every consumer :meth:`deliver`
        knows has passed (none beyond the slowest cursor), always keeping the newest event; return how many
        were deleted. Readers that page with :meth:`events` keep their own cursor: prune only what they
        have read.

        Raises:
            InvalidInput: ``through`` is not a whole number >= 0.
        """
        limit = _checked_seq(through)
        with self._store.transaction() as tx:
            return tx.prune_outbox(limit)

    def deliver(self, consumer: str, handler: Callable[[OutboxEvent], object], *, limit: int = 100) -> int:
        """Hand the outbox's next events to ``handler``, one at a time and in order, for the named
        ``consumer`` (an SMS gateway, a webhook), whose cursor the store keeps: at-least-once delivery.

        After each event the handler returns from, the consumer's cursor moves past it (its own small
        transaction); if the handler raises, delivery stops there and that event comes again next time — so a
        handler may see an event twice (after a crash between its return and the cursor's move, or two
        deliverers of one consumer) and should drop repeats by ``event.idempotency_key``. Returns how many
        events were handed over and acknowledged.

        Raises:
            DeliveryFailed: the handler raised (``seq``, ``consumer``; the handler's error is its cause).
            InvalidInput: a bad consumer name or limit.
        """
        checked_text("consumer", consumer)
        if not callable(handler):
            raise InvalidInput("handler must be callable", argument="handler")
        size = checked_limit(limit) or 100
        with self._store.read() as reader:
            cursor = reader.outbox_cursor(consumer)
            records = reader.outbox_after(cursor, size)
        done = 0
        for record in records:
            event = _outbox_event(record)
            try:
                handler(event)
            except Exception as exc:
                raise DeliveryFailed(
                    f"{consumer}: the handler failed on outbox event {event.seq} ({type(exc).__name__})",
                    consumer=consumer,
                    seq=event.seq,
                ) from exc
            with self._store.transaction() as tx:
                if tx.outbox_cursor(consumer) < event.seq:
                    tx.set_outbox_cursor(consumer, event.seq, self._clock.now())
            done += 1
        return done

    def extend(self, task_id: str, limit: TimeLimit | str, reason: str, approved_by: Actor) -> TaskView:
        """Move a ready task's deadline(s) by an approved extension (延期), counted on from the old due date.

        Raises:
            UnknownTask: no ready task has this id.
            ConcurrentUpdate: the task is no longer ready.
            InvalidState: the instance is suspended, or the task has no deadline.
            InvalidTimeLimit: ``limit`` cannot be read; or a cap in time_limits.yaml on a limit the task's
                timers count by refuses it (``entry`` names the limit): the task has had ``max_extensions``
                extensions already, the extensions would add more than ``max_total``, or ``limit`` is in
                another unit than ``max_total``. Nothing is written then.
        """
        approved_by = checked_actor(approved_by, "approved_by")
        checked_text("task_id", task_id)
        parsed = limit if isinstance(limit, TimeLimit) else TimeLimit.parse(limit)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("an extension needs a reason", task_id=task_id)
        checked_text("reason", reason, limit=2000)
        now = self._clock.now()
        with self._refusals(approved_by, "extend"), self._store.transaction() as tx:
            _, inst = self._ready_row(tx, task_id, None)
            self._permit("extend", approved_by, inst, task_id=task_id)
            self._require_active(inst)
            opened = self._still_ready(tx, inst, now, task_id)
            timers = [t for t in opened.workflow.snapshot(now).timers if t.attached_to == task_id]
            if not timers:
                raise InvalidState(f"task {task_id} has no deadline to extend", task_id=task_id)
            dep = self._deployment(tx, inst.definition_hash)
            previous = previous_extensions(tx.audit_of(inst.id), task_id)
            check_extension_caps(task_id, timers, dep.timer_limits, dep.time_limits, previous, parsed)
            before, after = extend_timers(opened.workflow, timers, parsed, self._calendar)
            details = {"task_id": task_id, "limit": str(parsed), "reason": reason, "due": after}
            event: Event = ("extended", approved_by.id, {"due": before}, details)
            saved = self._save_event(tx, inst, opened.workflow, opened.rows, event, now)
        self._remember(saved, opened.workflow)
        return next(task_view(t, dep.forms) for t in saved.rows.tasks if t.id == task_id)

    # -- incidents -------------------------------------------------------------------------------------------

    def incidents(self, instance_id: str | None = None) -> list[Incident]:
        """The open incidents (failed steps whose retries ran out), oldest first; of one instance if given."""
        checked_text("instance_id", instance_id, optional=True)
        with self._store.read() as reader:
            records = reader.incidents(instance_id=instance_id, statuses=("open",))
        return [incident_view(r) for r in records]

    def retry_incident(self, incident_id: str, actor: Actor) -> InstanceView:
        """Run an incident's failed step again now, after its data or definition was repaired.

        On success the incident is resolved (audited ``incident_resolved`` with the actor) and the instance's
        timers run again; on failure it stays open with one more attempt recorded, and the error is raised.

        Raises:
            UnknownIncident: no incident has this id.
            InvalidState: the incident is already resolved.
            EfficacyFlowError: the step failed again (its own error: ``ScriptError``, ``InvalidData``, ...).
        """
        actor = checked_actor(actor)
        checked_text("incident_id", incident_id)
        with self._store.read() as reader:
            incident = reader.get_incident(incident_id)
        if incident is None:
            raise UnknownIncident(f"no incident {shown(incident_id)}", incident_id=incident_id)
        if incident.status == "resolved":
            raise InvalidState(f"incident {incident_id} is already resolved", incident_id=incident_id)
        now = self._clock.now()
        try:
            self._attempt(incident, now, actor.id)
        except _StepFailed as failed:
            self._failed(incident.instance_id, incident.kind, failed.error, now, incident, keep_open=True)
            raise failed.error from None
        return self.instance(incident.instance_id)

    # -- reading ---------------------------------------------------------------------------------------------

    def tasks(
        self,
        instance_id: str | None = None,
        role: str | None = None,
        unit: str | None = None,
        *,
        assignee: str | None = None,
        process_id: str | None = None,
        business_key: str | None = None,
        due_before: datetime | None = None,
        overdue: bool | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[TaskView]:
        """The ready user tasks (the work list, 待办), filtered by every argument given: instance, role (lane
        name), unit, ``assignee`` (claimed by or assigned to that person), the instance's process and business
        key, a due time before ``due_before``, and
        ``overdue`` (True: due now or earlier; False: not yet due, or without a due time).

        In the work list's order: by due time (the most urgent first), then id; tasks without a due time
        last, by id. ``limit`` and ``after`` page it: ``after`` is the id of the last task of the previous
        page (a keyset page, one index range, whatever the number of open tasks: see docs/engine.md).

        Raises:
            InvalidInput: a filter that is not text, ``limit`` not from 1 to 10,000, ``after`` naming no task,
                ``overdue`` not a bool. NaiveDatetime: ``due_before`` without a time zone.
        """
        simple = (
            role is None
            and unit is None
            and assignee is None
            and process_id is None
            and business_key is None
            and due_before is None
            and overdue is None
            and limit is None
            and after is None
        )
        if simple:  # every other filter is None, which each check accepts
            checked_text("instance_id", instance_id, optional=True)
        else:
            texts = (
                ("instance_id", instance_id),
                ("role", role),
                ("unit", unit),
                ("assignee", assignee),
                ("process_id", process_id),
                ("business_key", business_key),
                ("after", after),
            )
            for name, value in texts:
                checked_text(name, value, optional=True)
            checked_instant(due_before, "due_before")
            checked_limit(limit)
            if overdue is not None and not isinstance(overdue, bool):
                raise InvalidInput("overdue must be True, False or None", argument="overdue")
        if instance_id is not None and simple:
            # Right after this engine's own commit on the instance, with nothing committed since (by anyone:
            # Store.unchanged_since), its rows are the ones that commit wrote: no read transaction.
            saved = self._cache.saved(instance_id)
            if saved is not None and self._store.unchanged_since(saved[2]):
                if saved[3] is not None:  # the views the commit's call returned (frozen: shared)
                    return ordered_views(saved[3])
                return sorted_views(saved[1].tasks, self._forms(saved[0].definition_hash))
        now = self._clock.now() if overdue is not None else None
        with self._store.read() as reader:
            rows = reader.task_page(
                instance_id=instance_id,
                role=role,
                unit=unit,
                assignee=assignee,
                process_id=process_id,
                business_key=business_key,
                due_before=due_before,
                due_by=now if overdue else None,
                due_after=now if overdue is False else None,
                undated=not overdue,
                limit=limit,
                after=after,
            )
            return self._listed(reader, rows)

    def done(
        self, actor_id: str, *, limit: int | None = None, after: str | None = None
    ) -> list[CompletedTask]:
        """What a person completed (已办), most recent first; ``limit`` and ``after`` page it as
        :meth:`tasks` does (``after``: the id of the last task of the previous page).

        Raises:
            InvalidInput: ``actor_id`` not text, ``limit`` not from 1 to 10,000, ``after`` naming no completed
                task.
        """
        checked_text("actor_id", actor_id)
        checked_text("after", after, optional=True)
        checked_limit(limit)
        with self._store.read() as reader:
            rows = reader.done_page(actor_id, limit=limit, after=after)
        return [completed_view(row) for row in rows]

    def instance(
        self, instance_id: str, *, unmasked: bool = False, actor: Actor | None = None
    ) -> InstanceView:
        """The instance as last committed (``data`` is the process data after the last step), with personal
        data masked as :meth:`history` masks it, unless ``unmasked``: that needs an ``actor`` the authorizer
        lets ``read_unmasked``, and is audited (an ``unmasked_data_read`` event).

        Raises:
            UnknownInstance: no such instance.
            InvalidInput: ``unmasked`` without an actor.
            NotAuthorized: the actor may not read unmasked data (the refusal is audited).
        """
        checked_text("instance_id", instance_id)
        if unmasked:
            if actor is None:
                raise InvalidInput(
                    "reading data unmasked needs an actor (it is audited)", instance_id=instance_id
                )
            actor = checked_actor(actor)
            with self._refusals(actor, "read_unmasked"), self._store.transaction() as tx:
                inst = instance_row(tx, instance_id)
                self._permit("read_unmasked", actor, inst)
                append_event(tx, inst, ("unmasked_data_read", actor.id, None, None), self._clock.now())
        now = self._clock.now()
        with self._store.read() as reader:
            inst = instance_row(reader, instance_id, lock=False)
            opened = self._open(reader, inst, now)
            pii = None if unmasked else self._deployment(reader, inst.definition_hash).schema.pii
        self._cache.remember(inst, opened.workflow, opened.rows)
        data = orjson.loads(opened.workflow.data_json())
        shown = data if pii is None else mask_history(data, pii)
        return instance_view(inst, shown, opened.rows.tasks, self._forms(inst.definition_hash))

    def instances(
        self,
        process_id: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[InstanceSummary]:
        """The instances matching every filter given, oldest first (then by id), from their rows alone (no
        workflow is loaded: one query, whatever the number of instances). ``limit`` and ``after`` page them
        as :meth:`tasks` does: ``after`` is the id of the last instance of the previous page.

        Raises:
            InvalidInput: a filter that is not text, ``limit`` not from 1 to 10,000, ``after`` naming no
                instance.
        """
        for name, value in (
            ("process_id", process_id),
            ("status", status),
            ("business_key", business_key),
            ("after", after),
        ):
            checked_text(name, value, optional=True)
        checked_limit(limit)
        with self._store.read() as reader:
            rows = reader.list_instances(
                process_id=process_id, status=status, business_key=business_key, limit=limit, after=after
            )
        return [summary(row) for row in rows]

    def counter(self, name: str, key: str) -> int:
        """The count of counter ``name`` (counters.yaml) for ``key`` in the period that ends now.

        Raises:
            InvalidInput: no deployed counter has this name.
        """
        spec = self._counters.get(name) if isinstance(name, str) else None
        if spec is None:
            raise InvalidInput(f"no counter {shown(name)} (counters.yaml)", counter=name)
        checked_text("key", str(key), empty=True)
        with self._store.read() as reader:
            return current_count(reader, spec, str(key), self._clock.now())

    def history(
        self, instance_id: str, *, unmasked: bool = False, actor: Actor | None = None
    ) -> list[AuditEvent]:
        """The instance's audit events, oldest first; personal data masked unless ``unmasked``.

        Unmasked reading needs an ``actor`` and is itself audited (an ``unmasked_history_read`` event).

        Raises:
            UnknownInstance: no such instance.
            InvalidInput: ``unmasked`` without an actor.
        """
        if unmasked and actor is None:
            raise InvalidInput(
                "reading history unmasked needs an actor (it is audited)", instance_id=instance_id
            )
        if not unmasked:
            with self._store.read() as reader:
                inst = instance_row(reader, instance_id, lock=False)
                records = reader.audit_of(instance_id)
                pii = self._deployment(reader, inst.definition_hash).schema.pii
            return [audit_view(r, pii) for r in records]
        actor = checked_actor(actor)
        now = self._clock.now()
        with self._refusals(actor, "read_unmasked"), self._store.transaction() as tx:
            inst = instance_row(tx, instance_id)
            self._permit("read_unmasked", actor, inst)
            records = tx.audit_of(instance_id)
            append_event(tx, inst, ("unmasked_history_read", actor.id, None, None), now)
        return [audit_view(r, None) for r in records]

    def diagram(self, instance_id: str) -> str:
        """The BPMN XML of the definition the instance runs (the deployed ``.bpmn`` text, diagram included),
        for drawing where the case stands.

        Raises:
            UnknownInstance: no such instance.
        """
        with self._store.read() as reader:
            inst = instance_row(reader, instance_id, lock=False)
            return self._deployment(reader, inst.definition_hash).source.bpmn

    def verify_history(self, instance_id: str) -> HistoryCheck:
        """Check the instance's audit hash chain; the result lists every altered or removed event."""
        with self._store.read() as reader:
            inst = instance_row(reader, instance_id, lock=False)
            records = reader.audit_of(instance_id)
        problems = verify_chain(records, inst.audit_seq, inst.audit_head)
        return HistoryCheck(instance_id=instance_id, events=len(records), problems=tuple(problems))

    def check_consistency(
        self,
        *,
        instance_ids: list[str] | None = None,
        previous: ConsistencyReport | None = None,
        batch_size: int = 500,
    ) -> ConsistencyReport:
        """Check every instance (or ``instance_ids``) against the store's promises; writes nothing.

        The checks are listed in :data:`~efficacy_flow.engine.CHECKS` (docs/operations.md: what to do about
        each finding); ``previous``, an earlier report, adds "no version went backwards". Instances are read
        ``batch_size`` at a time, each batch in one read snapshot.
        """
        if instance_ids is not None:
            listed: object = instance_ids  # checked as what a caller may really pass
            if isinstance(listed, str) or not isinstance(listed, list | tuple | set | frozenset):
                raise InvalidInput("instance_ids must be a list of instance ids", argument="instance_ids")
            for instance_id in listed:
                checked_text("instance_ids", instance_id)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size must be a whole number >= 1", argument="batch_size")
        if previous is not None and not isinstance(previous, ConsistencyReport):
            raise InvalidInput("previous must be a ConsistencyReport", argument="previous")
        return check_store(
            self._store,
            self._deployment,
            self._clock.now(),
            instance_ids=instance_ids,
            previous=previous,
            batch_size=batch_size,
        )

    # -- internals -------------------------------------------------------------------------------------------

    def _still_ready(self, tx: Transaction, inst: InstanceRecord, now: datetime, task_id: str) -> _Opened:
        """The instance's workflow, opened under its row lock, in which ``task_id`` is still ready: the task
        row was read before the lock (on PostgreSQL another call may have closed it since).

        Raises:
            ConcurrentUpdate: the task is no longer ready.
        """
        opened = self._open(tx, inst, now)
        if not any(t.id == task_id for t in opened.rows.tasks):
            raise ConcurrentUpdate(
                f"task {task_id} is no longer ready (instance {inst.id} changed)",
                task_id=task_id,
                instance_id=inst.id,
            )
        return opened

    def _save_event(
        self,
        tx: Transaction,
        inst: InstanceRecord,
        workflow: Workflow,
        previous: Rows,
        event: Event,
        now: datetime,
        **values: Any,
    ) -> Saved:
        """Save a changed workflow with the one audit event of its call (``previous``: the rows before;
        ``values``: instance columns to set)."""
        dep = self._by_hash.get(str(values.get("definition_hash", inst.definition_hash)))
        return save(
            tx,
            inst,
            workflow,
            [event],
            now,
            self._limits,
            previous=previous,
            dep=dep,
            **values,
        )

    def _permit(self, action: str, actor: Actor, inst: InstanceRecord, **fields: object) -> None:
        """Raise NotAuthorized unless the authorizer lets ``actor`` do ``action`` on the instance."""
        if not self._allows(action, actor, inst.process_id):
            raise refusal(action, actor, inst.process_id, inst.id, **fields)

    def _allows(self, action: str, actor: Actor, process_id: str) -> bool:
        """The authorizer's answer; an authorizer that fails refuses (never the host's raw error)."""
        try:
            return bool(self._authorizer.allows(action, actor, process_id))
        except Exception as exc:
            log.warning("authorizer failed on %s by %s: %s", action, actor.id, type(exc).__name__)
            return False

    def _refusals(self, actor: Actor, action: str) -> _AuditedRefusal:
        """Around a call's transaction: a refusal (NotAuthorized naming an instance) rolls the call back and
        is then audited on that instance (a ``refused`` event with the action), and raised."""
        return _AuditedRefusal(self, actor, action)

    def _audit_refusal(self, instance_id: str, actor: Actor, action: str, error: NotAuthorized) -> None:
        details = {"action": action, "task_id": error.fields.get("task_id"), "message": error.message}
        try:
            with self._store.transaction() as tx:
                inst = instance_row(tx, instance_id)
                append_event(tx, inst, ("refused", actor.id, None, details), self._clock.now())
        except EfficacyFlowError as failed:  # the refusal stands; its audit could not be written
            log.warning("could not audit a refusal on %s: %s", instance_id, type(failed).__name__)

    @staticmethod
    def _require_active(inst: InstanceRecord) -> None:
        if inst.status != "active":
            raise InvalidState(
                f"instance {inst.id} is {inst.status}", instance_id=inst.id, status=inst.status
            )

    def _open(
        self, tx: Reader, inst: InstanceRecord, now: datetime, dep: Deployment | None = None
    ) -> _Opened:
        """The instance's workflow at the row's version (cached, or loaded), with the rows it implies."""
        cached = self._cache.take(inst)
        if cached is not None:
            return _Opened(*cached)
        dep = dep if dep is not None else self._deployment(tx, inst.definition_hash)
        workflow = dep.runtime.load(inst.state, inst.id, suspended=inst.status == "suspended")
        rows = rows_of(
            inst.id,
            workflow.snapshot(now),
            suspended=workflow.suspended,
            incident_id=inst.incident_id,
            ladder=dep.ladder,
        )
        return _Opened(workflow, rows)

    def _remember(self, saved: Saved, workflow: Workflow, views: tuple[TaskView, ...] | None = None) -> None:
        """After the commit: keep the workflow for the next call on the same instance (with ``views``, its
        ready rows' views, which :meth:`tasks` then returns while nothing was committed since)."""
        self._cache.remember(saved.record, workflow, saved.rows, self._store.last_commit(), views)

    def _done(self, saved: Saved, workflow: Workflow) -> InstanceView:
        """After the commit: keep the workflow and return the instance's view."""
        forms = self._forms(saved.record.definition_hash)
        views = tuple([task_view(t, forms) for t in saved.rows.tasks])
        self._remember(saved, workflow, views)
        return instance_view(saved.record, orjson.loads(saved.data), saved.rows.tasks, forms, views)


def _new_record(
    instance_id: str, dep: Deployment, business_key: str | None, first_responder: str, now: datetime
) -> InstanceRecord:
    """The row of an instance about to be saved for the first time (``save(..., new=True)``)."""
    return InstanceRecord(
        id=instance_id,
        process_id=dep.process_id,
        definition_hash=dep.hash,
        business_key=business_key,
        status="active",
        version=0,
        state=b"",
        format_version=STATE_FORMAT_VERSION,
        first_responder=first_responder,
        suspended_at=None,
        created_at=now,
        updated_at=now,
        audit_seq=0,
        audit_head=GENESIS,
    )


def _card_view(record: CardRecord) -> Card:
    return Card(
        id=record.id,
        instance_id=record.instance_id,
        task_id=record.task_id,
        unit=record.unit,
        level=record.level,
        limit_name=record.limit_name,
        issued_at=record.issued_at,
        cleared_at=record.cleared_at,
        reason=record.reason,
        label=CARD_LABELS[record.level],
        element_id=record.element_id,
        process_id=record.process_id,
        due_at=record.due_at,
        escalate_at=record.escalate_at,
        deduction=record.deduction,
        action=record.action,
        source=record.source,
    )


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _attachments(given: object) -> tuple[Attachment, ...]:
    """Attachment references from what a caller passed.

    Raises:
        InvalidInput: not a list of attachments, or one without a name or uri, or with a bad sha256.
    """
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
        raise InvalidInput("attachments must be a list of attachments", argument="attachments")
    found = []
    for item in given:
        name: object
        uri: object
        digest: object
        if isinstance(item, Attachment):
            name, uri, digest = item.name, item.uri, item.sha256
        elif isinstance(item, Mapping):
            name, uri, digest = item.get("name"), item.get("uri"), item.get("sha256")
        else:
            raise InvalidInput("an attachment is an Attachment or a mapping", argument="attachments")
        checked_text("attachments.name", name, limit=400)
        checked_text("attachments.uri", uri, limit=2000)
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest.lower()):
            raise InvalidInput("an attachment's sha256 must be 64 hex digits", argument="attachments")
        found.append(Attachment(str(name), str(uri), digest.lower()))
    return tuple(found)


def _checked_mapping(mapping: object) -> dict[str, str]:
    """A migration's element-id mapping (old id → new id).

    Raises:
        InvalidInput: not a mapping of ids to ids.
    """
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise InvalidInput("mapping must map old element ids to new ones", argument="mapping")
    for old, new in mapping.items():
        checked_text("mapping", old, limit=200)
        checked_text("mapping", new, limit=200)
    return {str(old): str(new) for old, new in mapping.items()}


def _checked_seq(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InvalidInput(
            "after must be an outbox seq (a whole number from 0 to 2**63 - 1)", argument="after"
        )
    return value


def _outbox_event(record: OutboxRecord) -> OutboxEvent:
    return OutboxEvent(**event_fields(record))


#: Audit events that change nothing of a case's course (withdraw looks past them).
_NO_CHANGE = frozenset({"commented", "refused", "unmasked_history_read", "unmasked_data_read"})


def _last_change(records: list[AuditRecord]) -> tuple[str, str | None] | None:
    """The kind and task id of an instance's last audit event that changed its course."""
    for record in reversed(records):
        if record.kind in _NO_CHANGE:
            continue
        after = orjson.loads(record.after) if record.after else None
        task_id = after.get("task_id") if isinstance(after, dict) else None
        return record.kind, task_id if isinstance(task_id, str) else None
    return None
