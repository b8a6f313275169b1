"""The consistency checker behind :meth:`Engine.check_consistency`: the store's promises, verified.

Every instance is read in batches of ids (one read snapshot per batch) with all its task rows, deadline rows
and audit events in three queries per batch, its saved state is loaded fresh (never from the engine's cache),
and the rows the state implies (:func:`~efficacy_flow.engine._task_rows.rows_of`) are compared with the rows
stored. See docs/operations.md for what each finding means and what to do about it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from efficacy_flow.engine._audit import verify_chain
from efficacy_flow.engine._definitions import Deployment
from efficacy_flow.engine._ladder import LadderPlan
from efficacy_flow.engine._task_rows import rows_of
from efficacy_flow.engine.runtime import Workflow
from efficacy_flow.store import (
    CLOSED_STATUSES,
    AuditRecord,
    DeadlineRecord,
    InstanceRecord,
    Reader,
    Store,
    TaskRecord,
)

__all__ = ["CHECKS", "ConsistencyReport", "Finding", "check_store"]

#: Every check the checker runs, by the code its findings carry (docs/operations.md explains each one).
CHECKS: Mapping[str, str] = {
    "state_unreadable": "the saved state (or its definition) cannot be loaded",
    "status": "the instance's status disagrees with its state",
    "task_rows": "the ready task rows differ from the ready user tasks of the state",
    "deadline_rows": "the deadline rows differ from the waiting timers of the state",
    "fired_pending": "a deadline that fired is still pending",
    "audit_chain": "the audit hash chain does not verify",
    "duplicate_event": "an audit event that may happen once is recorded twice",
    "completion": "a completed task row and its task_completed event disagree",
    "version": "the instance version is impossible or went backwards",
    "orphan_rows": "task, deadline or audit rows name an instance that does not exist",
    "open_incident": "a failed step waits for an operator (engine.incidents, engine.retry_incident)",
    "stale_claim": "a deadline row is claimed by a worker whose lease has expired (held by no one)",
}

# Fields compared between stored and implied rows (claims and fired_at are bookkeeping, checked apart).
_TASK_FIELDS = ("element_id", "name", "role", "unit", "ready_at", "due_at")
_DEADLINE_FIELDS = ("task_id", "element_id", "kind", "interrupting", "due_at", "remaining", "incident_id")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which instance, which check (a key of :data:`CHECKS`), and what exactly is wrong."""

    instance_id: str
    check: str
    detail: str


@dataclass(frozen=True)
class ConsistencyReport:
    """What :meth:`Engine.check_consistency` found; ``findings`` is empty when the store is consistent.

    Attributes:
        instances: how many instances were checked.
        findings: every problem, ordered by instance id.
        versions: the version of every checked instance; pass the report as ``previous`` to a later check to
            verify that no version went backwards.
    """

    instances: int
    findings: tuple[Finding, ...]
    versions: Mapping[str, int] = field(repr=False)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    @property
    def problems(self) -> dict[str, list[str]]:
        """``{instance_id: ["check: detail", ...]}`` for every instance with a finding."""
        by_instance: dict[str, list[str]] = defaultdict(list)
        for finding in self.findings:
            by_instance[finding.instance_id].append(f"{finding.check}: {finding.detail}")
        return dict(by_instance)

    def summary(self) -> str:
        """One line per check that found something (or a line saying all is well)."""
        if self.ok:
            return f"{self.instances} instances checked: consistent"
        counts = Counter(f.check for f in self.findings)
        lines = [f"{self.instances} instances checked: {len(self.findings)} findings"]
        lines += [f"  {check}: {n} ({CHECKS[check]})" for check, n in sorted(counts.items())]
        return "\n".join(lines)


#: Events that make a completed task ready again, and the field naming it (engine.return_to, withdraw).
_REOPENING = {"returned": "reopened_task_id", "withdrawn": "task_id"}


def check_store(
    store: Store,
    deployment: Callable[[Reader, str], Deployment],
    now: datetime,
    *,
    instance_ids: Sequence[str] | None = None,
    previous: ConsistencyReport | None = None,
    batch_size: int = 500,
) -> ConsistencyReport:
    """Check every instance (or only ``instance_ids``) in batches of ``batch_size``; see :data:`CHECKS`.

    For each instance: its saved state loads; its ready task rows equal the ready user tasks of the state;
    its deadline rows equal the waiting timers (same due times); its audit chain verifies; no fired deadline
    is still pending; no once-only audit event (the start, a timer firing, a task completion) is recorded
    twice; completed task rows match their events; its version is at least 1 and not below the one in
    ``previous``. Without ``instance_ids``, rows naming no instance are reported too. Each batch is read in
    one snapshot; nothing is written.
    """
    findings: list[Finding] = []
    versions: dict[str, int] = {}
    named = sorted(set(instance_ids)) if instance_ids is not None else None
    after: str | None = None  # keyset pagination in the database's own order
    start = 0
    while True:
        with store.read() as tx:
            if named is not None:
                chunk = named[start : start + batch_size]
                start += batch_size
                batch = tx.instances_after(None, batch_size, ids=chunk) if chunk else []
                done = start >= len(named)
            else:
                batch = tx.instances_after(after, batch_size)
                done = not batch
            tasks, deadlines, audit = tx.rows_of_instances([inst.id for inst in batch])
            deps = {h: _definition(tx, deployment, h) for h in {inst.definition_hash for inst in batch}}
        # States are loaded after the read transaction ends (it need not stay open meanwhile).
        for inst in batch:
            versions[inst.id] = inst.version
            dep = deps[inst.definition_hash]
            findings += _check_instance(
                inst,
                _load(dep, inst),
                tasks.get(inst.id, []),
                deadlines.get(inst.id, []),
                audit.get(inst.id, []),
                now,
                previous.versions.get(inst.id) if previous is not None else None,
                None if isinstance(dep, Exception) else dep.ladder,
            )
        if batch:
            after = batch[-1].id
        if done:
            break
    with store.read() as tx:
        incidents = tx.incidents(statuses=("open",))
        stale = tx.stale_claims(now)
    wanted = set(named) if named is not None else None
    for incident in incidents:
        if wanted is None or incident.instance_id in wanted:
            detail = (
                f"incident {incident.id} at {incident.element_id}: {incident.error} "
                f"({incident.attempts} attempts)"
            )
            findings.append(Finding(incident.instance_id, "open_incident", detail))
    for row in stale:
        if wanted is None or row.instance_id in wanted:
            lease = row.lease_until.isoformat() if row.lease_until else "?"
            detail = f"deadline {row.id} ({row.element_id}) claimed by {row.claimed_by}, lease ended {lease}"
            findings.append(Finding(row.instance_id, "stale_claim", detail))
    if instance_ids is None:
        with store.read() as tx:
            orphans = tx.orphan_instance_ids()
        for table, ids in orphans.items():
            findings += [Finding(i, "orphan_rows", f"{table} rows name no existing instance") for i in ids]
    findings.sort(key=lambda f: f.instance_id)
    return ConsistencyReport(instances=len(versions), findings=tuple(findings), versions=versions)


def _definition(
    tx: Reader, deployment: Callable[[Reader, str], Deployment], definition_hash: str
) -> Deployment | Exception:
    try:
        return deployment(tx, definition_hash)
    except Exception as exc:  # a missing or unparsable definition is a finding of every instance using it
        return exc


def _load(dep: Deployment | Exception, inst: InstanceRecord) -> Workflow | Exception:
    # Anything at all that stops a state from loading is a finding, not a crash of the checker.
    if isinstance(dep, Exception):
        return dep
    try:
        return dep.runtime.load(inst.state, inst.id, suspended=inst.status == "suspended")
    except Exception as exc:
        return exc


def _check_instance(
    inst: InstanceRecord,
    workflow: Workflow | Exception,
    task_rows: list[TaskRecord],
    deadline_rows: list[DeadlineRecord],
    audit: list[AuditRecord],
    now: datetime,
    previous_version: int | None,
    ladder: LadderPlan | None = None,
) -> list[Finding]:
    found: list[Finding] = []

    def add(check: str, detail: str) -> None:
        found.append(Finding(inst.id, check, detail))

    if inst.version < 1:
        add("version", f"version {inst.version}: every saved instance was written at least once")
    if previous_version is not None and inst.version < previous_version:
        add("version", f"version went back from {previous_version} to {inst.version}")
    for problem in verify_chain(audit, inst.audit_seq, inst.audit_head):
        add("audit_chain", problem)
    _check_events(inst, task_rows, deadline_rows, audit, add)
    for row in deadline_rows:
        if row.fired_at is not None:
            add("fired_pending", f"deadline {row.id} ({row.element_id}) fired at {row.fired_at.isoformat()}")
    if isinstance(workflow, Exception):
        add("state_unreadable", f"{type(workflow).__name__}: {workflow}")
        return found
    closed = inst.status in CLOSED_STATUSES  # completed, or cancelled (its workflow is ended by cancelling)
    if not workflow.completed and closed:
        add("status", f"the instance is marked {inst.status} but its state is still running")
    if workflow.completed and not closed:
        add("status", f"the state has completed but the instance is {inst.status}")
    if (inst.status == "suspended") != (inst.suspended_at is not None):
        add("status", f"status {inst.status} with suspended_at {inst.suspended_at}")
    # A snapshot stamps ready_at on a ready task that has none: such a task then differs from its row.
    implied = rows_of(
        inst.id,
        workflow.snapshot(now),
        suspended=workflow.suspended,
        incident_id=inst.incident_id,
        ladder=ladder,
    )
    implied_tasks, implied_deadlines = implied.tasks, implied.deadlines
    ready_rows = [t for t in task_rows if t.status == "ready"]
    for detail in _compare("ready task", ready_rows, implied_tasks, _TASK_FIELDS):
        add("task_rows", detail)
    for detail in _compare("deadline", deadline_rows, implied_deadlines, _DEADLINE_FIELDS):
        add("deadline_rows", detail)
    return found


def _check_events(
    inst: InstanceRecord,
    task_rows: list[TaskRecord],
    deadline_rows: list[DeadlineRecord],
    audit: list[AuditRecord],
    add: Callable[[str, str], None],
) -> None:
    once: Counter[tuple[str, ...]] = Counter()
    completions: dict[str, list[AuditRecord]] = defaultdict(list)
    fired: set[tuple[Any, Any, Any]] = set()
    for record in audit:
        after = json.loads(record.after) if record.after else {}
        if record.kind in ("started", "instance_completed"):
            once[(record.kind,)] += 1
        elif record.kind == "timer_fired":
            timer = (after.get("element_id"), after.get("task_id"), after.get("due_at"))
            once[("timer_fired", *map(str, timer))] += 1
            fired.add(timer)
        elif record.kind == "task_completed":
            completions[str(after.get("task_id"))].append(record)
        elif record.kind in _REOPENING:  # the task is ready again: its earlier completion is history
            completions.pop(str(after.get(_REOPENING[record.kind])), None)
    for event, n in once.items():
        if n > 1:
            add("duplicate_event", f"{' '.join(event)} recorded {n} times")
    for task_id, records in completions.items():
        if len(records) > 1:
            add("duplicate_event", f"task_completed for task {task_id} recorded {len(records)} times")
    for pending in deadline_rows:
        due = pending.due_at.isoformat() if pending.due_at else None
        if due is not None and (pending.element_id, pending.task_id, due) in fired:
            add("fired_pending", f"deadline {pending.id} ({pending.element_id}) fired but is still pending")
    completed_rows = {t.id: t for t in task_rows if t.status == "completed"}
    for task_id, task in completed_rows.items():
        records = completions.get(task_id, [])
        if not records:
            add("completion", f"task {task_id} is completed but no task_completed event records it")
        elif records[0].actor != task.closed_by:
            add("completion", f"task {task_id} closed by {task.closed_by}, event says {records[0].actor}")
    for task_id in completions.keys() - completed_rows.keys():
        add("completion", f"a task_completed event names task {task_id}, whose row is not completed")


def _compare(
    label: str, stored: Sequence[Any], implied: Sequence[Any], compared: tuple[str, ...]
) -> list[str]:
    """What differs between stored rows and the rows a state implies (matched by id)."""
    have = {row.id: row for row in stored}
    want = {row.id: row for row in implied}
    details = [f"{label} {key} is missing" for key in sorted(want.keys() - have.keys())]
    details += [f"{label} {key} should not exist" for key in sorted(have.keys() - want.keys())]
    for key in sorted(have.keys() & want.keys()):
        for name in compared:
            stored_value, implied_value = getattr(have[key], name), getattr(want[key], name)
            if stored_value != implied_value:
                details.append(
                    f"{label} {key}: {name} is {_show(stored_value)}, the state says {_show(implied_value)}"
                )
    return details


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)
