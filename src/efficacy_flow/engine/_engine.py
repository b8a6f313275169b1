"""The engine: SpiffWorkflow underneath, a durable store, an injected clock, deadlines that fire.

Every public call is one store transaction: the workflow state, the task rows, the deadline rows and the audit
events it produces commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from SpiffWorkflow.util.task import TaskState

from efficacy_flow.calendar import TimeLimit
from efficacy_flow.clock import Clock, SystemClock
from efficacy_flow.engine._consistency import ConsistencyReport, check_store
from efficacy_flow.engine._counters import CounterSpec, count_start, current_count, load_counters
from efficacy_flow.engine._definitions import (
    DefinitionSource,
    Deployment,
    Services,
    build_deployment,
    read_folder,
)
from efficacy_flow.engine._history import GENESIS, verify_chain
from efficacy_flow.engine._ids import InstanceIds
from efficacy_flow.engine._listing import summary
from efficacy_flow.engine._pause import extend_timers, fire_due, resume_timers, suspend_timers, timer_fired
from efficacy_flow.engine._persist import Previous, WorkflowCache, save
from efficacy_flow.engine._rows import (
    Event,
    attached_id,
    audit_record,
    audit_view,
    authorize,
    correlate,
    instance_row,
    instance_view,
    iso,
    previous_rows,
    ready_task,
    spiff_errors,
    task_view,
)
from efficacy_flow.engine._sandbox import Sandbox
from efficacy_flow.engine._spiff import (
    STATE_FORMAT_VERSION,
    EngineMessageEventDefinition,
    message_event,
    waiting_timers,
)
from efficacy_flow.engine._views import (
    Actor,
    AuditEvent,
    HistoryCheck,
    InstanceSummary,
    InstanceView,
    TaskView,
    TimerFired,
)
from efficacy_flow.engine._workers import DEFAULT_LEASE, checked_lease, checked_worker_id, run_tick
from efficacy_flow.errors import (
    ConcurrentUpdate,
    InvalidInput,
    InvalidState,
    ProcessDefinitionError,
    UnknownProcess,
    UnknownTask,
)
from efficacy_flow.store import InstanceRecord, Reader, Store, TaskRecord, Transaction
from efficacy_flow.store._store import Durability

__all__ = ["Engine"]

log = logging.getLogger("efficacy_flow.engine")


class Engine:
    """An embeddable process engine.

    Args:
        store: ``"sqlite:///path.db"`` (default), ``"postgresql://..."``, or a
        :class:`~efficacy_flow.store.Store`.
        processes: a folder of ``*.bpmn`` (plus time_limits.yaml, schemas.yaml, ``*.dmn``) deployed at once;
            None deploys nothing (call :meth:`deploy`).
        calendar: the working-day calendar (default ``efficacy_flow.calendar.china()``).
        clock: where "now" comes from (default :class:`~efficacy_flow.clock.SystemClock`).
        schemas: pydantic models or schema mappings by process id, overriding schemas.yaml.
        decisions: an ``efficacy_flow.policy.Decisions`` for business-rule tasks (default: the folder's
        ``*.dmn``).
        durability: SQLite ``"default"`` (WAL, synchronous=NORMAL) or ``"power-loss"`` (synchronous=FULL).
        tick_batch: how many due deadline rows :meth:`tick` claims per query.
        worker_id: this engine's name in deadline claims (default ``hostname:pid:random``).
        lease: how long a claim holds before another worker may take the rows (docs/operations.md).
        cache_size: how many recently used workflows stay deserialized in memory (0: none). A cached workflow
            is used only if the store still holds exactly its version.
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
    ) -> None:
        if calendar is None:
            from efficacy_flow.calendar import china

            calendar = china()
        self._clock: Clock = clock or SystemClock()
        self._calendar = calendar
        self._store = store if isinstance(store, Store) else Store(store, durability=durability)
        self._sandbox = Sandbox()
        self._schemas = dict(schemas or {})
        self._decisions = decisions
        self._tick_batch = tick_batch
        self._worker_id = checked_worker_id(worker_id)
        self._lease = checked_lease(lease)
        self._cache = WorkflowCache(cache_size)
        self._ids = InstanceIds()
        self._current: dict[str, Deployment] = {}
        self._by_hash: dict[str, Deployment] = {}
        self._counters: dict[str, CounterSpec] = {}
        if processes is not None:
            self.deploy(processes)

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

    def deploy(self, processes: str | Path) -> dict[str, str]:
        """Deploy every process in a folder; return ``{process_id: definition hash}``.

        Every expression, condition, script and timer is compiled now; nothing is deployed if one file fails.
        Running instances keep the definition they started with.

        Raises:
            ProcessDefinitionError: a file that cannot run (``element_id`` names the element).
            UnsafeExpression: code the sandbox refuses.
        """
        sources, has_dmn = read_folder(processes)
        if self._decisions is None and has_dmn:
            from efficacy_flow.policy import load_decisions

            self._decisions = load_decisions(processes)
        deployments = [build_deployment(source, self._services()) for source in sources]
        counters = load_counters(processes, {**self._current, **{d.process_id: d for d in deployments}})
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
        return {dep.process_id: dep.hash for dep in deployments}

    def _services(self) -> Services:
        decisions = self._decisions
        return Services(
            sandbox=self._sandbox,
            clock=self._clock,
            calendar=self._calendar,
            decide=decisions.decide if decisions is not None else None,
            decision_ids=frozenset(decisions.decision_ids) if decisions is not None else None,
            schemas=self._schemas,
        )

    def _deployment(self, tx: Reader, definition_hash: str) -> Deployment:
        dep = self._by_hash.get(definition_hash)
        if dep is None:
            content = tx.get_definition(definition_hash)
            if content is None:
                raise ProcessDefinitionError(f"definition {definition_hash} is not in the store")
            dep = build_deployment(DefinitionSource.from_content(content), self._services())
            self._by_hash[definition_hash] = dep
        return dep

    # -- calls -----------------------------------------------------------------------------------------------

    def start(
        self, process_id: str, data: Mapping[str, Any], actor: Actor, business_key: str | None = None
    ) -> InstanceView:
        """Start an instance; ``actor`` is recorded as its first responder (首接, conventions §11).

        Raises:
            UnknownProcess: no deployed process has this id.
            InvalidData: ``data`` fails the process's start schema (nothing is stored).
        """
        dep = self._current.get(process_id)
        if dep is None:
            raise UnknownProcess(f"no deployed process {process_id!r}", process_id=process_id)
        values = dep.schema.validate_start(data)
        now = self._clock.now()
        instance_id = self._ids.next(now)
        counters = [c for c in self._counters.values() if c.process == process_id]

        def first_steps() -> Any:
            workflow = dep.new_workflow()
            workflow.ef_suspended = False
            with spiff_errors(process_id):
                first = workflow.get_next_task(state=TaskState.READY)
                first.data.update(values)
                workflow.do_engine_steps()
            return workflow

        # A counted process runs its first steps after the count, in the transaction (engine/_counters.py).
        workflow = None if counters else first_steps()
        record = InstanceRecord(
            id=instance_id,
            process_id=process_id,
            definition_hash=dep.hash,
            business_key=business_key,
            status="active",
            version=0,
            state=b"",
            format_version=STATE_FORMAT_VERSION,
            first_responder=actor.id,
            suspended_at=None,
            created_at=now,
            updated_at=now,
            audit_seq=0,
            audit_head=GENESIS,
        )
        with self._store.transaction() as tx:
            counted = count_start(tx, counters, instance_id, data, values, now) if counters else []
            workflow = workflow if workflow is not None else first_steps()
            after = {"data": values, "business_key": business_key, "first_responder": actor.id}
            events: list[Event] = [("started", actor.id, None, after), *counted]
            saved, ready = self._save(tx, record, workflow, events, now, previous=([], []), new=True)
        return self._done(saved, workflow, ready)

    def tasks(
        self, instance_id: str | None = None, role: str | None = None, unit: str | None = None
    ) -> list[TaskView]:
        """The ready user tasks, filtered by instance, role (lane name) and unit; oldest first."""
        with self._store.read() as tx:
            rows = tx.ready_tasks(instance_id=instance_id, role=role, unit=unit)
        return [task_view(row) for row in rows]

    def complete(
        self, task_id: str, data: Mapping[str, Any], actor: Actor, expected_version: int | None = None
    ) -> InstanceView:
        """Complete a ready user task with ``data``.

        Raises:
            UnknownTask: no task has this id.
            ConcurrentUpdate: the task was already completed (or cancelled), or the instance is no longer at
                ``expected_version``.
            NotAuthorized: the actor lacks the task's role, or belongs to another unit.
            InvalidData: ``data`` fails the task's schema.
            InvalidState: the instance is suspended.
        """
        now = self._clock.now()
        with self._store.transaction() as tx:
            row = tx.get_task(task_id)
            if row is None:
                raise UnknownTask(f"no task {task_id!r}", task_id=task_id)
            if row.status != "ready":
                raise ConcurrentUpdate(
                    f"task {task_id} is already {row.status}", task_id=task_id, instance_id=row.instance_id
                )
            inst = self._instance_row(tx, row.instance_id)
            if expected_version is not None and inst.version != expected_version:
                raise ConcurrentUpdate(
                    f"instance {inst.id} is at version {inst.version}, not {expected_version}",
                    instance_id=inst.id,
                    expected_version=expected_version,
                )
            if inst.status != "active":
                raise InvalidState(
                    f"instance {inst.id} is {inst.status}", instance_id=inst.id, status=inst.status
                )
            authorize(actor, row)
            dep = self._deployment(tx, inst.definition_hash)
            values = dep.schema.validate_task(row.element_id, data)
            workflow, previous = self._open(tx, inst, now, dep)
            task = ready_task(workflow, task_id)
            if task is None or task.state != TaskState.READY:
                raise ConcurrentUpdate(
                    f"task {task_id} is no longer ready", task_id=task_id, instance_id=inst.id
                )
            before = {key: task.data.get(key) for key in values}
            with spiff_errors(inst.process_id):
                task.data.update(values)
                task.run()
                workflow.do_engine_steps()
            after = {"task_id": task_id, "element_id": row.element_id, "data": values}
            saved, ready = self._save(
                tx,
                inst,
                workflow,
                [("task_completed", actor.id, before, after)],
                now,
                by=actor.id,
                completed_id=task_id,
                previous=previous,
            )
        return self._done(saved, workflow, ready)

    def message(self, name: str, payload: Mapping[str, Any], correlation: Mapping[str, Any]) -> InstanceView:
        """Deliver a message from outside (a rating, a withdrawal) to the instance ``correlation`` names.

        ``correlation`` holds ``instance_id`` or ``business_key``; the payload is validated against the
        message's
        schema and merged into the process data (conventions §8).

        Raises:
            UnknownInstance: nothing matches the correlation.
            InvalidState: the instance is not active, is ambiguous, or is not waiting for this message.
            InvalidData: the payload fails the message's schema.
        """
        now = self._clock.now()
        with self._store.transaction() as tx:
            inst = self._correlate(tx, correlation)
            dep = self._deployment(tx, inst.definition_hash)
            if name not in dep.messages:
                raise InvalidState(f"process {inst.process_id} has no message {name!r}", message_name=name)
            values = dep.schema.validate_message(name, payload)
            workflow, previous = self._open(tx, inst, now, dep)
            waiting = [
                t
                for t in workflow.get_tasks(state=TaskState.WAITING)
                if isinstance(getattr(t.task_spec, "event_definition", None), EngineMessageEventDefinition)
                and t.task_spec.event_definition.name == name
            ]
            if not waiting:
                raise InvalidState(
                    f"instance {inst.id} is not waiting for message {name!r}", instance_id=inst.id
                )
            with spiff_errors(inst.process_id):
                workflow.catch(message_event(name, values))
                workflow.do_engine_steps()
            after = {"message": name, "payload": values}
            saved, ready = self._save(
                tx, inst, workflow, [("message", f"message:{name}", None, after)], now, previous=previous
            )
        return self._done(saved, workflow, ready)

    def tick(self) -> list[TimerFired]:
        """Fire every timer due at the clock's now (``due_at <= now``); touch nothing that is not due.

        Due deadline rows are claimed through the due-time index, ``tick_batch`` at a time, for this engine's
        ``worker_id`` until now + ``lease``; rows another live worker holds are skipped (several workers
        share one database, docs/operations.md). Each claimed instance is locked, re-read, fired and committed
        in its own transaction, so every timer fires exactly once. An instance whose process fails is logged
        and skipped (the others still fire); its claims are released at the end, for the next tick to retry.
        """
        now = self._clock.now()
        return run_tick(self._store, self._fire, now, self._worker_id, now + self._lease, self._tick_batch)

    def _fire(self, instance_id: str, now: datetime) -> list[TimerFired]:
        with self._store.transaction() as tx:
            inst = tx.get_instance(instance_id, lock=True)
            if inst is None or inst.status != "active":
                return []
            due_rows = [d for d in tx.deadlines_of(instance_id) if d.due_at is not None and d.due_at <= now]
            if not due_rows:
                return []
            workflow, previous = self._open(tx, inst, now)
            still_waiting = fire_due(workflow, inst.process_id)
            fired = [d for d in due_rows if d.id not in still_waiting]
            events = [timer_fired(d.element_id, d.task_id, iso(d.due_at)) for d in fired]
            saved, _ = self._save(tx, inst, workflow, events, now, previous=previous)
        self._cache.remember(saved, workflow)
        return [TimerFired(instance_id, d.element_id, d.due_at) for d in fired if d.due_at is not None]

    def suspend(self, instance_id: str, reason: str, actor: Actor) -> InstanceView:
        """Pause the instance's time limits (暂停计时, statutory-rules.md §6); its timers keep what remained.

        Raises:
            UnknownInstance: no such instance.
            InvalidState: the instance is not active.
        """
        return self._pause(instance_id, actor, suspend=True, reason=reason)

    def resume(self, instance_id: str, actor: Actor) -> InstanceView:
        """Resume a suspended instance: every pending deadline continues with the working time that remained.

        Raises:
            UnknownInstance: no such instance.
            InvalidState: the instance is not suspended.
        """
        return self._pause(instance_id, actor, suspend=False)

    def _pause(self, instance_id: str, actor: Actor, *, suspend: bool, reason: str = "") -> InstanceView:
        """Suspend or resume the instance in one transaction: timers changed, audited, saved."""
        now = self._clock.now()
        with self._store.transaction() as tx:
            inst = self._instance_row(tx, instance_id)
            if inst.status != ("active" if suspend else "suspended"):
                hint = "" if suspend else ", not suspended"
                raise InvalidState(f"instance {instance_id} is {inst.status}{hint}", instance_id=instance_id)
            workflow, previous = self._open(tx, inst, now)
            if suspend:
                before, after = suspend_timers(workflow, reason, now, self._calendar)
                events: list[Event] = [("suspended", actor.id, before, after)]
                values: dict[str, Any] = {"status": "suspended", "suspended_at": now}
            else:
                # A limit that had run out when the instance was suspended fires now: audited as tick() would.
                events = resume_timers(workflow, actor.id, now, self._calendar, inst.process_id)
                values = {"status": "active", "suspended_at": None}
            saved, ready = self._save(tx, inst, workflow, events, now, previous=previous, **values)
        return self._done(saved, workflow, ready)

    def extend(self, task_id: str, limit: TimeLimit | str, reason: str, approved_by: Actor) -> TaskView:
        """Move a ready task's deadline(s) by an approved extension (延期), counted on from the old due date.

        Raises:
            UnknownTask: no ready task has this id.
            ConcurrentUpdate: the task is no longer ready.
            InvalidState: the instance is suspended, or the task has no deadline.
            InvalidTimeLimit: ``limit`` cannot be read.
        """
        parsed = TimeLimit.parse(limit) if isinstance(limit, str) else limit
        if not reason or not reason.strip():
            raise InvalidInput("an extension needs a reason", task_id=task_id)
        now = self._clock.now()
        with self._store.transaction() as tx:
            row = tx.get_task(task_id)
            if row is None:
                raise UnknownTask(f"no task {task_id!r}", task_id=task_id)
            if row.status != "ready":
                raise ConcurrentUpdate(f"task {task_id} is already {row.status}", task_id=task_id)
            inst = self._instance_row(tx, row.instance_id)
            if inst.status != "active":
                raise InvalidState(f"instance {inst.id} is {inst.status}", instance_id=inst.id)
            workflow, previous = self._open(tx, inst, now)
            timers = [t for t in waiting_timers(workflow) if attached_id(t) == task_id]
            if not timers:
                raise InvalidState(f"task {task_id} has no deadline to extend", task_id=task_id)
            before, after = extend_timers(timers, parsed, self._calendar)
            details = {
                "task_id": task_id,
                "limit": f"{parsed.n} {parsed.unit}",
                "reason": reason,
                "due": after,
            }
            saved, _ = self._save(
                tx,
                inst,
                workflow,
                [("extended", approved_by.id, {"due": before}, details)],
                now,
                previous=previous,
            )
            updated = tx.get_task(task_id)
        self._cache.remember(saved, workflow)
        assert updated is not None
        return task_view(updated)

    # -- reading ---------------------------------------------------------------------------------------------

    def instance(self, instance_id: str) -> InstanceView:
        """The instance as last committed (``data`` is the process data after the last step)."""
        with self._store.read() as tx:
            inst = self._instance_row(tx, instance_id)
            workflow, (ready, _) = self._open(tx, inst, self._clock.now())
        return self._done(inst, workflow, ready)

    def instances(
        self, process_id: str | None = None, status: str | None = None, business_key: str | None = None
    ) -> list[InstanceSummary]:
        """The instances matching every filter given, oldest first, from their rows alone (no workflow is
        loaded: one query, whatever the number of instances)."""
        with self._store.read() as tx:
            rows = tx.list_instances(process_id=process_id, status=status, business_key=business_key)
        return [summary(row) for row in rows]

    def counter(self, name: str, key: str) -> int:
        """The count of counter ``name`` (counters.yaml) for ``key`` in the period that ends now.

        Raises:
            InvalidInput: no deployed counter has this name.
        """
        spec = self._counters.get(name)
        if spec is None:
            raise InvalidInput(f"no counter {name!r} (counters.yaml)", counter=name)
        with self._store.read() as tx:
            return current_count(tx, spec, str(key), self._clock.now())

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
        now = self._clock.now()
        # Reading masked history is a pure read; reading it unmasked appends its own audit event.
        with self._store.transaction() if unmasked else self._store.read() as tx:
            inst = self._instance_row(tx, instance_id)
            records = tx.audit_of(instance_id)
            pii = self._deployment(tx, inst.definition_hash).schema.pii
            if unmasked and actor is not None:
                assert isinstance(tx, Transaction)
                record = self._audit_record(
                    inst.id,
                    inst.audit_seq,
                    inst.audit_head,
                    ("unmasked_history_read", actor.id, None, None),
                    now,
                )
                tx.advance_audit_head(inst.id, inst.audit_seq, record.seq, record.hash)
                tx.append_audit(record)
        return [audit_view(r, None if unmasked else pii) for r in records]

    def verify_history(self, instance_id: str) -> HistoryCheck:
        """Check the instance's audit hash chain; the result lists every altered or removed event."""
        with self._store.read() as tx:
            inst = self._instance_row(tx, instance_id)
            records = tx.audit_of(instance_id)
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
        return check_store(
            self._store,
            self._deployment,
            self._clock.now(),
            instance_ids=instance_ids,
            previous=previous,
            batch_size=batch_size,
        )

    # -- internals -------------------------------------------------------------------------------------------

    _instance_row = staticmethod(instance_row)
    _correlate = staticmethod(correlate)
    _audit_record = staticmethod(audit_record)
    _collect = staticmethod(previous_rows)
    _view = staticmethod(instance_view)

    _save = staticmethod(save)

    def _open(
        self, tx: Reader, inst: InstanceRecord, now: datetime, dep: Deployment | None = None
    ) -> tuple[Any, Previous]:
        """The instance's workflow at the row's version, and the rows it implied when it was last saved."""
        workflow = self._cache.load(
            dep if dep is not None else self._deployment(tx, inst.definition_hash), inst
        )
        return workflow, self._collect(inst.id, workflow, now)

    def _done(self, inst: InstanceRecord, workflow: Any, ready: list[TaskRecord]) -> InstanceView:
        """After the commit: keep the workflow for the next call and return the instance's view."""
        self._cache.remember(inst, workflow)
        return self._view(inst, workflow, ready)
